import Dispatch
import EdgeCore

/// One region's state, owned by one serial queue. Every mutation and every read of node state
/// happens on `queue`, so the record path needs no locks: sources hand over whole batches and
/// the shard applies them sample by sample on its own thread.
final class RegionShard: @unchecked Sendable {
    let id: String
    let name: String
    let index: Int32
    let queue: DispatchQueue
    let config: CollectorConfig

    // Everything below is touched only on `queue`.
    @exclusivity(unchecked) var nodes: [NodeState] = []
    var sites: [(placement: NodePlacement, nodeSlots: [Int])] = []
    var siteSlotByID: [String: Int] = [:]
    /// The absolute sub-window being filled (`floor(time / subWindowSeconds)`); Int.min before
    /// the first sample. Series roll over lazily against it (`LatencySeries.catchUp`).
    @exclusivity(unchecked) var currentSub = Int.min
    /// Where the data of the window begins: the first sub-window, or the one after a jump
    /// past the whole window (backdated samples, such as a STALE node's last report, do not
    /// stretch the time that rates are computed over).
    private var floorSub = Int.min
    /// When the current sub-window ends (-inf before the first sample, so it starts one).
    @exclusivity(unchecked) private var nextBoundary = -Double.infinity
    @exclusivity(unchecked) private var firstTime = Double.infinity
    @exclusivity(unchecked) private var samples: UInt64 = 0
    @exclusivity(unchecked) private var invalid: UInt64 = 0

    // History (see RegionShard+History.swift): the step being filled, rings of the region and
    // of each site, scratch histograms for the step walk, the fleet's rings to contribute to.
    var openStep = Int.min
    @exclusivity(unchecked) var nextStepBoundary = -Double.infinity
    var regionHistory: HistoryRings?
    /// Each site's rings, by site slot; made at the site's first step (not at registration,
    /// so a fresh start draws its first frame before any ring exists).
    var siteHistory: [HistoryRings?] = []
    let fleetHistory: FleetHistory?
    var scratchSite = RollupHistogram()
    var scratchRegion = RollupHistogram()
    var scratchNode = RollupHistogram()
    /// The registered sources, as the collector last told this shard (for choosing a step's series).
    var sources: [SourceInfo] = []
    /// The class catalog every node of the shard shares.
    let classBounds: ClassBounds

    /// `lane`: the serial queue the region's queue runs on (`Collector` shares a few lanes
    /// among the regions); nil gives the region a thread of its own when it has work.
    init(id: String, name: String, index: Int32, config: CollectorConfig, fleetHistory: FleetHistory? = nil,
         lane: DispatchQueue? = nil) {
        self.id = id
        self.name = name
        self.index = index
        self.config = config
        self.fleetHistory = fleetHistory
        queue = DispatchQueue(label: "edgetop.region.\(id)", target: lane)
        classBounds = ClassBounds(config.classes, subWindowSeconds: config.subWindowSeconds)
        if config.history.enabled { regionHistory = HistoryRings(config: config.history, wide: true, detail: false) }
    }

    private var ringSize: Int { config.subWindows - 1 }

    /// Adds a node; call on `queue`. Returns its slot.
    func addNode(_ p: NodePlacement) -> Int32 {
        let siteSlot: Int
        if let s = siteSlotByID[p.siteID] {
            siteSlot = s
        } else {
            siteSlot = sites.count
            siteSlotByID[p.siteID] = siteSlot
            sites.append((p, []))
        }
        let slot = nodes.count
        let node = NodeState(placement: p, siteSlot: siteSlot, ringSize: ringSize, windowSeconds: config.windowSeconds,
                             staleAfterSeconds: config.staleAfterSeconds, classes: classBounds)
        node.keepsSteps = config.history.enabled
        nodes.append(node)
        sites[siteSlot].nodeSlots.append(slot)
        return Int32(slot)
    }

    /// Records a note from a source (e.g. the scrape error) against a node; on `queue`.
    func setError(_ message: String?, slot: Int32) {
        guard slot >= 0, Int(slot) < nodes.count else { return }
        nodes[Int(slot)].lastError = message
    }

    /// Applies a batch; call on `queue`. The hot path: no allocation, no locks.
    func apply(_ batch: UnsafeBufferPointer<Sample>) {
        let count = nodes.count
        for s in batch {
            // Close the history step, and rotate the sub-window, when a sample crosses into the
            // next one (a compare each per sample); late samples count in the open one.
            if s.time >= nextStepBoundary { stepTo(s.time) }
            if s.time >= nextBoundary { advance(to: s.time) }
            if s.time < firstTime { firstTime = s.time }
            let slot = Int(s.node.slot)
            if slot >= 0 && slot < count && s.time.isFinite && nodes[slot].apply(s, sub: currentSub) {
                samples &+= 1
            } else {
                invalid &+= 1
            }
        }
    }

    /// Moves the current sub-window so that `time` falls in it: O(1), whatever the node count
    /// (each series rolls over when it next records, or is read).
    func advance(to time: Double) {
        guard time.isFinite else { return }
        let sub = config.subWindowSeconds
        let w = Int((time / sub).rounded(.down))
        guard currentSub == Int.min || w > currentSub else { return }
        if currentSub == Int.min || w - currentSub >= config.subWindows { floorSub = w }
        currentSub = w
        nextBoundary = Double(w + 1) * sub
    }

    /// Summarises the region at `now`; call on `queue`.
    func summarize(now: Double, sources: [SourceInfo]) -> RegionSummary {
        stepTo(now)
        advance(to: now)
        let covered = coveredSeconds(now: now)
        var nodeOut: [NodeStatus] = []
        nodeOut.reserveCapacity(nodes.count)
        var siteOut: [GroupStatus] = []
        siteOut.reserveCapacity(sites.count)
        var regionHist = RollupHistogram()
        var siteHist = RollupHistogram()
        var nodeHist = RollupHistogram()
        var scratch = RollupHistogram()
        var region = GroupAccumulator()
        var regionClasses = ClassRollup()
        var siteClasses = ClassRollup()
        let minute = Int((now / 60).rounded(.down))
        let order = sites.indices.sorted { sites[$0].placement.siteID < sites[$1].placement.siteID }
        for s in order {
            let site = sites[s]
            siteHist.reset()
            siteClasses.reset()
            var acc = GroupAccumulator()
            let slots = site.nodeSlots.sorted { nodes[$0].placement.nodeID < nodes[$1].placement.nodeID }
            for slot in slots {
                let n = nodes[slot]
                nodeHist.reset()
                let choice = chooseSeries(n, into: &nodeHist, scratch: &scratch, now: now, sources: sources)
                var status = HealthRules.evaluate(node: n, histogram: nodeHist, latency: choice,
                                                  now: now, coveredSeconds: covered, config: config, sources: sources)
                status.classes = classes(of: choice, nodeHistogram: nodeHist, latency: status.latency, minute: minute,
                                         scratch: &scratch, into: &siteClasses)
                status.workload = n.placement.workload != .unclassified ? n.placement.workload
                    : status.classes.max { $0.requests < $1.requests }?.workload ?? .unclassified
                let gpus = max(n.placement.gpuCount, status.gpus.count)
                if status.workload != .unclassified && gpus > 0 {
                    status.capacityRps = Double(gpus) * config.classes[status.workload].rpsPerGPU
                }
                acc.add(status)
                nodeOut.append(status)
            }
            siteClasses.mergeAll(into: &siteHist)
            regionHist.merge(siteHist)
            regionClasses.add(siteClasses)
            let p = site.placement
            var siteLatency = siteHist.summary()
            siteLatency.bucketBounded = acc.bucketBounded
            var group = acc.group(kind: .site, id: p.siteID, name: p.siteName, region: id, country: p.country,
                                  latency: siteLatency, covered: covered)
            group.classes = siteClasses.statuses()
            group.latitude = p.latitude; group.longitude = p.longitude
            siteOut.append(group)
            region.add(acc)
        }
        var regionLatency = regionHist.summary()
        regionLatency.bucketBounded = region.bucketBounded
        var regionStatus = region.group(kind: .region, id: id, name: name, region: "", country: "",
                                        latency: regionLatency, covered: covered)
        regionStatus.classes = regionClasses.statuses()
        return RegionSummary(region: regionStatus, sites: siteOut, nodes: nodeOut, histogram: regionHist.compacted(),
                             accumulator: region, stats: IngestStats(samples: samples, invalid: invalid),
                             classes: regionClasses.compacted())
    }

    /// The node's figures per workload class from the series `choice` counted, added to its
    /// site's. One counted series (nearly every node) reuses the node's own histogram.
    private func classes(of choice: LatencyChoice, nodeHistogram: borrowing RollupHistogram, latency: LatencySummary, minute: Int,
                         scratch: inout RollupHistogram, into site: inout ClassRollup) -> [ClassStatus] {
        if let s = choice.single {
            var w = SLOWindows()
            s.slo.windows(at: minute, into: &w)
            guard latency.count > 0 || choice.errors > 0 || w[3].total > 0 else { return [] }
            site.add(s.workload, histogram: nodeHistogram, errors: choice.errors, good: choice.good, windows: w)
            return [ClassStatus(workload: s.workload, latency: latency, errors: choice.errors, good: choice.good, windows: w)]
        }
        guard !choice.counted.isEmpty else { return [] }
        var out: [ClassStatus] = []
        for c in Set(choice.counted.map(\.workload)).sorted() {
            scratch.reset()
            var errors: UInt64 = 0, good: UInt64 = 0
            var w = SLOWindows()
            for s in choice.counted where s.workload == c {
                let m = s.mergeWindow(into: &scratch, current: currentSub)
                errors &+= m.errors; good &+= m.good
                s.slo.windows(at: minute, into: &w)
            }
            guard scratch.totalCount > 0 || errors > 0 || w[3].total > 0 else { continue }
            site.add(c, histogram: scratch, errors: errors, good: good, windows: w)
            out.append(ClassStatus(workload: c, latency: scratch.summary(), errors: errors, good: good, windows: w))
        }
        return out
    }

    /// Merges the series that count for node `n` into `h` (one request, one count): per
    /// service, the most exact source with data in the window — per-sample before
    /// bucket-bounded, then direct/StatsD/OTLP/scrape, then the first registered — with all of
    /// that source's classes. The others are summarised beside it, never added. Services the
    /// configuration declared apart are summed.
    func chooseSeries(_ n: NodeState, into h: inout RollupHistogram, scratch: inout RollupHistogram,
                      now: Double, sources: [SourceInfo]) -> LatencyChoice {
        var choice = LatencyChoice()
        if n.series.count == 1 {
            let s = n.series[0]
            let m = s.mergeWindow(into: &h, current: currentSub)
            choice.add(s, errors: m.errors, good: m.good, bucketBounded: s.bucketBoundedUntil >= now)
            choice.source = Self.info(of: s.source, in: sources).name
            choice.single = s
            return choice
        }
        guard !n.series.isEmpty else { return choice }
        // Several series: summarise each source (all its classes), then pick per service.
        struct Candidate { var source: SourceID; var service: String; var summary: LatencySummary; var errors: UInt64; var rank: (Int, Int, Int) }
        var candidates: [Candidate] = []
        var seen: [SourceID] = []
        for s in n.series where !seen.contains(s.source) {
            seen.append(s.source)
            scratch.reset()
            var errors: UInt64 = 0
            var bounded = false
            for t in n.series where t.source == s.source {
                errors &+= t.mergeWindow(into: &scratch, current: currentSub).errors
                bounded = bounded || t.bucketBoundedUntil >= now
            }
            var summary = scratch.summary()
            summary.bucketBounded = bounded && summary.count > 0
            let info = Self.info(of: s.source, in: sources)
            let present = summary.count > 0 || errors > 0
            candidates.append(Candidate(source: s.source, service: info.service, summary: summary, errors: errors,
                                        rank: (present ? (summary.bucketBounded ? 1 : 0) : 2, info.kind.preference, Int(s.source))))
        }
        var bestByService: [String: Int] = [:]
        for (i, c) in candidates.enumerated() {
            if let b = bestByService[c.service], candidates[b].rank <= c.rank { continue }
            bestByService[c.service] = i
        }
        let chosen = Set(bestByService.values.filter { candidates[$0].rank.0 < 2 })
        let chosenSources = Set(chosen.map { candidates[$0].source })
        var names: [String] = []
        for i in chosen.sorted() { names.append(Self.info(of: candidates[i].source, in: sources).name) }
        for s in n.series where chosenSources.contains(s.source) {
            let m = s.mergeWindow(into: &h, current: currentSub)
            choice.add(s, errors: m.errors, good: m.good, bucketBounded: s.bucketBoundedUntil >= now)
            choice.counted.append(s)
        }
        if choice.counted.count == 1 { choice.single = choice.counted[0] }
        choice.source = names.joined(separator: " + ")
        if candidates.count > 1 {
            choice.sources = candidates.enumerated().map { i, c in
                LatencySourceStatus(source: Self.info(of: c.source, in: sources).name, service: c.service,
                                    latency: c.summary, errors: c.errors, used: chosen.contains(i))
            }
        }
        return choice
    }

    static func info(of id: SourceID, in sources: [SourceInfo]) -> SourceInfo {
        Int(id) < sources.count ? sources[Int(id)] : SourceInfo(name: "source \(id)", kind: .direct)
    }

    /// Seconds of data the window holds: the ring's finished sub-windows plus the current one,
    /// never before the first sample.
    private func coveredSeconds(now: Double) -> Double {
        guard currentSub != Int.min else { return 0 }
        let windowStart = Double(max(floorSub, currentSub - ringSize)) * config.subWindowSeconds
        return max(0, now - max(windowStart, firstTime))
    }

    /// Approximate bytes held by this region's nodes.
    func byteCount() -> Int {
        nodes.reduce(0) { $0 + $1.byteCount } + siteHistory.reduce(0) { $0 + ($1?.byteCount ?? 0) } + (regionHistory?.byteCount ?? 0)
    }
}

/// The latency series that count for one node, as `chooseSeries` picked them.
struct LatencyChoice {
    var errors: UInt64 = 0
    /// Requests within their class's tier over the window.
    var good: UInt64 = 0
    /// The series counted (all of them when more than one; see `single`).
    var counted: [LatencySeries] = []
    /// The one series counted, when only one is (nearly every node).
    var single: LatencySeries?
    var bucketBounded = false
    var tierCounts: [UInt64] = []
    var requestsTotal: UInt64 = 0
    var latencySumMs: Double = 0
    var errorsTotal: UInt64 = 0
    /// The source (or " + "-joined sources of distinct services) whose figures count.
    var source = ""
    /// Every series of the node, when it has more than one.
    var sources: [LatencySourceStatus] = []

    /// Counts series `s` (its window's `errors` already merged) among the node's figures.
    mutating func add(_ s: LatencySeries, errors: UInt64, good: UInt64, bucketBounded: Bool) {
        self.errors &+= errors
        self.good &+= good
        self.bucketBounded = self.bucketBounded || bucketBounded
        if tierCounts.isEmpty { tierCounts = s.tierCumulative } else {
            for k in tierCounts.indices { tierCounts[k] &+= s.tierCumulative[k] }
        }
        requestsTotal &+= s.requestsTotal
        latencySumMs += s.latencySumMs
        errorsTotal &+= s.errorsTotal
    }
}

/// A region's part of a snapshot, produced on its queue.
struct RegionSummary: Sendable {
    var region: GroupStatus
    var sites: [GroupStatus]
    var nodes: [NodeStatus]
    var histogram: CompactHistogram
    var accumulator: GroupAccumulator
    var stats: IngestStats
    var classes: CompactClassRollup
}
