import Dispatch
import EdgeCore
import Foundation

/// Aggregates samples from every source into per-region state and publishes snapshots.
///
/// Each region has one serial `DispatchQueue` that owns its nodes' histograms and gauges (the
/// region queues share a few serial lanes, one per core: see `lanes`).
/// `ingest` splits a batch by region and makes one queue hop per region per batch — never one
/// per sample. `snapshot` asks every region for its part concurrently and merges the parts;
/// latency at every level comes from merged histograms, never from averaged percentiles.
public final class Collector: @unchecked Sendable {
    public let config: CollectorConfig

    // Registry: guarded by `lock`. Touched on registration and once per batch, never per sample.
    private let lock = NSLock()
    private var shards: [RegionShard] = []
    private var shardByID: [String: Int32] = [:]
    /// Nodes registered per shard: the next node's slot.
    private var nodeSlots: [Int32] = []
    private var refByNode: [String: NodeRef] = [:]
    private var shardBySite: [String: Int32] = [:]
    /// The fleet's own history rings (nil with history off).
    private let fleetHistory: FleetHistory?
    private var sourceInvalid: UInt64 = 0
    /// Bumped by every change a snapshot could show (batches, registrations, errors), so an
    /// unchanged collector at an unchanged time answers from `lastSnapshot`.
    private var generation: UInt64 = 0
    private var lastSnapshot: (time: Double, generation: UInt64, snapshot: FleetSnapshot)?
    private var snapshotCount: UInt64 = 0
    /// Registered sources; `SourceID` indexes it. 0 is the default source.
    private var sources: [SourceInfo] = [SourceInfo(name: "samples", kind: .direct)]

    /// The serial queues the region queues run on, one per core. Thirteen region queues each
    /// free to take a thread of its own had the reader of a replay time-slicing two cores with
    /// up to thirteen threads (a dense replay: 0.37 s against 0.25 s on lanes; the ingest bench
    /// is as fast on one lane per core, slower on one per region).
    private let lanes: [DispatchQueue]

    public init(config: CollectorConfig = CollectorConfig()) {
        self.config = config
        lanes = (0..<max(1, ProcessInfo.processInfo.activeProcessorCount)).map { DispatchQueue(label: "edgetop.lane.\($0)") }
        fleetHistory = config.history.enabled ? FleetHistory(config: config.history) : nil
    }

    /// Registers nodes (idempotent by node id) and returns their refs, in order.
    public func register(_ placements: [NodePlacement]) -> [NodeRef] {
        lock.lock()
        generation &+= 1
        let refs = placements.map { refByNode[$0.nodeID] ?? addLocked($0) }
        lock.unlock()
        return refs
    }

    /// Registers one node.
    public func register(_ placement: NodePlacement) -> NodeRef {
        lock.lock()
        defer { lock.unlock() }
        if let r = refByNode[placement.nodeID] { return r }
        generation &+= 1
        return addLocked(placement)
    }

    /// Registers node `p`, not registered yet (and its region when new), and returns its ref;
    /// call holding `lock`. Slots are handed out here, in the order the shard will add the nodes, so no
    /// registration waits for the region's queue: the node itself goes to the region with the
    /// next hop there (`pendingAdds`), before anything that could read it (a replay registers
    /// 44k nodes one line at a time).
    private func addLocked(_ p: NodePlacement) -> NodeRef {
        let shardIndex: Int32
        if let s = shardByID[p.regionID] {
            shardIndex = s
        } else {
            shardIndex = Int32(shards.count)
            let shard = RegionShard(id: p.regionID, name: p.regionName, index: shardIndex, config: config,
                                    fleetHistory: fleetHistory, lane: lanes[Int(shardIndex) % lanes.count])
            let known = sources
            shard.queue.async { shard.sources = known }
            shards.append(shard)
            nodeSlots.append(0)
            pendingAdds.append([])
            shardByID[p.regionID] = shardIndex
            fleetHistory?.setRegions(shards.count)
        }
        let ref = NodeRef(region: shardIndex, slot: nodeSlots[Int(shardIndex)])
        nodeSlots[Int(shardIndex)] += 1
        refByNode[p.nodeID] = ref
        shardBySite[p.siteID] = shardIndex
        pendingAdds[Int(shardIndex)].append((ref.slot, p))
        pendingAddCount += 1
        if pendingAddCount >= 4096 { flushPendingAddsLocked() }
        return ref
    }

    /// Nodes registered but not yet added on their region's queue, by shard, in slot order.
    /// They are handed over in one hop per region before anything else goes to the region
    /// (a batch, a read, a drain): a replay registering 44k nodes one line at a time made one
    /// queue hop each, and the reader spent a fifth of its time waking the region's thread.
    private var pendingAdds: [[(slot: Int32, placement: NodePlacement)]] = []
    private var pendingAddCount = 0

    /// Hands the pending nodes to their regions; call holding `lock`.
    private func flushPendingAddsLocked() {
        guard pendingAddCount > 0 else { return }
        for (index, items) in pendingAdds.enumerated() where !items.isEmpty {
            let shard = shards[index]
            shard.queue.async {
                for (slot, p) in items {
                    let added = shard.addNode(p)
                    precondition(added == slot, "node slots out of order")
                }
            }
            pendingAdds[index] = []
        }
        pendingAddCount = 0
    }

    /// Registers a source and returns the id its samples carry (`Sample.source`). Sources of
    /// the same kind, name and service share one id.
    public func registerSource(_ info: SourceInfo) -> SourceID {
        lock.lock(); defer { lock.unlock() }
        if let i = sources.firstIndex(of: info) { return SourceID(i) }
        guard sources.count < Int(SourceID.max) else { return SourceID.max }
        sources.append(info)
        generation &+= 1
        let known = sources
        for shard in shards { shard.queue.async { shard.sources = known } }
        return SourceID(sources.count - 1)
    }

    /// Names the default source (id 0): "simulator", "replay", …
    public func nameDefaultSource(_ name: String) {
        lock.lock(); sources[0].name = name; generation &+= 1
        let known = sources
        for shard in shards { shard.queue.async { shard.sources = known } }
        lock.unlock()
    }

    /// The registered sources, indexed by `SourceID`.
    public var registeredSources: [SourceInfo] {
        lock.lock(); defer { lock.unlock() }
        return sources
    }

    /// How many nodes are registered.
    public var registeredNodeCount: Int {
        lock.lock(); defer { lock.unlock() }
        return refByNode.count
    }

    /// The ref of a node already registered.
    public func ref(forNode id: String) -> NodeRef? {
        lock.lock(); defer { lock.unlock() }
        return refByNode[id]
    }

    /// The shards, with every node registered so far handed to them (so what is sent to a
    /// shard after this call finds its nodes there).
    private func shardList(changing: Bool = false) -> [RegionShard] {
        lock.lock(); defer { lock.unlock() }
        if changing { generation &+= 1 }
        flushPendingAddsLocked()
        return shards
    }

    /// Sees every batch ingested, in order, before it is applied (`--record`). Set it before
    /// the first batch; it runs on the ingesting thread, so it should only hand the batch on.
    public var tap: (@Sendable ([Sample]) -> Void)? {
        get { lock.lock(); defer { lock.unlock() }; return _tap }
        set { lock.lock(); _tap = newValue; lock.unlock() }
    }
    private var _tap: (@Sendable ([Sample]) -> Void)?

    /// The placement a node was registered with.
    public func placement(of ref: NodeRef) -> NodePlacement? {
        let shards = shardList()
        guard ref.region >= 0, Int(ref.region) < shards.count else { return nil }
        let shard = shards[Int(ref.region)]
        return shard.queue.sync { ref.slot >= 0 && Int(ref.slot) < shard.nodes.count ? shard.nodes[Int(ref.slot)].placement : nil }
    }

    /// Hands a batch to the region queues: one async hop per region present in the batch.
    /// Returns at once; the samples are applied in order on each region's queue.
    public func ingest(_ batch: [Sample]) {
        guard let first = batch.first else { return }
        lock.lock()  // once per batch: the tap and the shards together
        generation &+= 1
        flushPendingAddsLocked()
        let tap = _tap, shards = self.shards
        lock.unlock()
        tap?(batch)
        if batch.allSatisfy({ $0.node.region == first.node.region }) {
            dispatch(batch, to: shards, region: first.node.region)
            return
        }
        // Each region's part sized first: grown by doubling, a 16k-sample batch over 13 regions
        // reallocated and copied each part a dozen times.
        var counts = [Int](repeating: 0, count: shards.count)
        for s in batch where s.node.region >= 0 && Int(s.node.region) < counts.count { counts[Int(s.node.region)] += 1 }
        var byRegion = counts.map { n -> [Sample] in
            var part: [Sample] = []
            part.reserveCapacity(n)
            return part
        }
        var stray: UInt64 = 0
        for s in batch {
            let r = Int(s.node.region)
            if r >= 0 && r < byRegion.count { byRegion[r].append(s) } else { stray += 1 }
        }
        if stray > 0 { countInvalid(stray) }
        for (r, part) in byRegion.enumerated() where !part.isEmpty {
            dispatch(part, to: shards, region: Int32(r))
        }
    }

    private func dispatch(_ part: [Sample], to shards: [RegionShard], region: Int32) {
        guard region >= 0, Int(region) < shards.count else {
            countInvalid(UInt64(part.count))
            return
        }
        let shard = shards[Int(region)]
        flow.lock()
        // Back-pressure: a source faster than the regions (a replay read at 400 MB/s, the
        // simulator catching up a minute) waits here instead of queueing without bound (1.6 GB
        // of queued batches at 44k nodes before this).
        while samplesInFlight >= Self.maxSamplesInFlight { flow.wait() }
        samplesInFlight += part.count
        flow.unlock()
        shard.queue.async { [self] in
            part.withUnsafeBufferPointer { shard.apply($0) }
            flow.lock()
            samplesInFlight -= part.count
            // Wake a waiting source once half has drained, not on every part (a wake per
            // batch made the source and the lane take turns).
            if samplesInFlight <= Self.maxSamplesInFlight / 2 { flow.broadcast() }
            flow.unlock()
        }
    }

    /// Samples handed to region queues and not yet applied (guarded by `flow`), and the most
    /// there may be before `ingest` waits: 2M samples, 64 MB (512k cost the ingest bench 15 %).
    private let flow = NSCondition()
    private var samplesInFlight = 0
    static let maxSamplesInFlight = 1 << 21

    /// Counts input a source rejected before it became a sample (a bad replay line, say).
    public func countInvalid(_ n: UInt64) {
        lock.lock(); sourceInvalid &+= n; generation &+= 1; lock.unlock()
    }

    /// Records a source's problem with a node (e.g. a failed scrape), shown with its health.
    public func setError(_ message: String?, node: NodeRef) {
        let shards = shardList(changing: true)
        guard node.region >= 0, Int(node.region) < shards.count else { return }
        let shard = shards[Int(node.region)]
        shard.queue.async { shard.setError(message, slot: node.slot) }
    }

    /// Waits until every batch handed over so far has been applied.
    public func drain() {
        for s in shardList() { s.queue.sync {} }
    }

    /// An immutable picture of the fleet at `now` (seconds since the epoch). Regions are
    /// summarised concurrently, each on its own queue, after the batches already queued.
    public func snapshot(at now: Double) -> FleetSnapshot {
        lock.lock()
        let generationAtStart = generation
        if let last = lastSnapshot, last.time == now, last.generation == generation {
            lock.unlock()
            return last.snapshot  // a quiet source at a fixed time (a replay): nothing to redo
        }
        snapshotCount &+= 1
        let id = snapshotCount
        lock.unlock()
        let shards = shardList()
        let sources = registeredSources
        let parts = RegionParts(count: shards.count)
        DispatchQueue.concurrentPerform(iterations: shards.count) { i in
            let part = shards[i].queue.sync { shards[i].summarize(now: now, sources: sources) }
            parts.set(i, part)
        }
        let summaries = parts.values().sorted { $0.region.id < $1.region.id }
        var fleetHist = RollupHistogram()
        var acc = GroupAccumulator()
        var stats = IngestStats()
        var fleetClasses = ClassRollup()
        var sites: [GroupStatus] = []
        var nodes: [NodeStatus] = []
        sites.reserveCapacity(summaries.reduce(0) { $0 + $1.sites.count })
        nodes.reserveCapacity(summaries.reduce(0) { $0 + $1.nodes.count })
        for s in summaries {
            fleetHist.merge(s.histogram)
            for (c, h, e, g, w) in s.classes.parts { fleetClasses.add(c, histogram: h, errors: e, good: g, windows: w) }
            acc.add(s.accumulator)
            stats.samples &+= s.stats.samples
            stats.invalid &+= s.stats.invalid
            sites.append(contentsOf: s.sites)
            nodes.append(contentsOf: s.nodes)
        }
        lock.lock(); stats.invalid &+= sourceInvalid; lock.unlock()
        var fleetLatency = fleetHist.summary()
        fleetLatency.bucketBounded = acc.bucketBounded
        var fleet = acc.group(kind: .fleet, id: "fleet", name: "Fleet", region: "", country: "",
                              latency: fleetLatency, covered: 0)
        fleet.classes = fleetClasses.statuses()
        var snapshot = FleetSnapshot(time: now, windowSeconds: config.windowSeconds, fleet: fleet,
                                     regions: summaries.map(\.region), sites: sites, nodes: nodes,
                                     ingest: stats, fleetHistogram: fleetHist.compacted())
        snapshot.id = id
        snapshot.classCatalog = config.classes
        lock.lock()
        if generation == generationAtStart { lastSnapshot = (now, generationAtStart, snapshot) }
        lock.unlock()
        return snapshot
    }

    /// Writes every slot of every history ring (for the bench's memory figure: what 24 h of
    /// running makes resident). The rings' contents are then meaningless; bench use only.
    public func fillHistoryRings() {
        for shard in shardList() { shard.queue.sync { shard.fillHistoryRings() } }
        fleetHistory?.fill()
    }

    /// Bytes of the fleet's own history rings (the rest is in `stateBytes`).
    public var fleetHistoryBytes: Int { fleetHistory?.byteCount ?? 0 }

    /// Approximate bytes of per-node state (histograms, rings, gauges), for the bench.
    public func stateBytes() -> Int {
        shardList().reduce(0) { total, shard in total + shard.queue.sync { shard.byteCount() } }
    }
}

/// Results of the concurrent region summaries; each slot is written once.
private final class RegionParts: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [RegionSummary?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: RegionSummary) { lock.lock(); slots[i] = v; lock.unlock() }
    func values() -> [RegionSummary] { lock.lock(); defer { lock.unlock() }; return slots.compactMap { $0 } }
}

extension Collector: HistoryProvider {
    /// The history of each known entity over `span`, ending with the last step closed before
    /// `now`. Each region answers on its own queue, after the batches already queued.
    public func history(of entities: [HistoryEntity], span: HistorySpan, at now: Double) -> [HistoryEntity: HistorySeries] {
        guard config.history.enabled else { return [:] }
        struct Ask { var nodes: [(HistoryEntity, Int32)] = []; var sites: [(HistoryEntity, String)] = []; var region: HistoryEntity? }
        var asks: [Int32: Ask] = [:]
        var out: [HistoryEntity: HistorySeries] = [:]
        lock.lock()
        flushPendingAddsLocked()
        let shards = self.shards
        for e in entities {
            switch e {
            case .fleet: break
            case .region(let id): if let s = shardByID[id] { asks[s, default: Ask()].region = e }
            case .site(let id): if let s = shardBySite[id] { asks[s, default: Ask()].sites.append((e, id)) }
            case .node(let id): if let r = refByNode[id] { asks[r.region, default: Ask()].nodes.append((e, r.slot)) }
            }
        }
        lock.unlock()
        for (index, ask) in asks {
            let shard = shards[Int(index)]
            let part = shard.queue.sync { shard.history(nodes: ask.nodes, sites: ask.sites, region: ask.region, span: span, at: now) }
            for (e, series) in part { out[e] = series }
        }
        if entities.contains(.fleet), let fleet = fleetHistory {
            for shard in shards { shard.queue.sync { shard.stepTo(now) } }  // every region's steps are in
            out[.fleet] = fleet.series(span, at: now)
        }
        return out
    }
}
