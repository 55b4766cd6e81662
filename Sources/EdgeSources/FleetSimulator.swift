import EdgeCollector
import EdgeCore
import Foundation

/// Settings of the simulated fleet.
public struct SimulatorConfig: Sendable {
    /// Seeds every random stream: same seed, same start, same fleet history.
    public var seed: UInt64
    /// Request latency samples per second across the fleet (GPU gauges come on top: one set
    /// per GPU per second).
    public var latencySamplesPerSecond: Double
    /// Simulation step, seconds of fleet time.
    public var tickSeconds: Double

    public init(seed: UInt64 = 1, latencySamplesPerSecond: Double = 100_000, tickSeconds: Double = 0.1) {
        self.seed = seed
        self.latencySamplesPerSecond = latencySamplesPerSecond
        self.tickSeconds = tickSeconds
    }
}

/// A simulated fleet that feeds the collector through the same batched ingest path as real
/// sources.
///
/// Latency = network round trip from the users to the site (propagation over a great-circle
/// distance at 2/3 c with the 1.35 path factor, plus a log-normal last mile) + service time
/// (log-normal by workload tier, slower on a hot or saturated GPU, rare stalls for the tail).
/// GPU load follows local time of day. Faults arrive and clear over time: nodes going down,
/// agents falling silent (STALE), fatal and non-fatal Xids, a GPU overheating and throttling,
/// and a regional routing incident that sends part of a region's traffic across an ocean.
///
/// Not thread-safe: drive it from one queue (`SimulatorDriver` does).
public final class FleetSimulator {
    public let config: SimulatorConfig
    public private(set) var time: Double
    /// The clock is `origin + ticks × tickSeconds`.
    private var origin: Double
    private var ticks = 0
    private let collector: Collector
    private var rng: SimRandom
    private var nodes: [NodeSim] = []
    private var gpus: [GPUSim] = []
    private var regionCount = 0
    private var siteHash: [UInt64] = []
    private var incident: Incident
    private var rateScale = 0.0
    private var nextRateUpdate = -Double.infinity
    /// Samples generated so far (for the bench and the status bar).
    public private(set) var generated: UInt64 = 0

    /// Region ids by the collector's region index; site ids and regions by the simulator's site index.
    private var regionIDs: [String] = []
    private var siteIDs: [String] = []
    private var siteRegion: [Int32] = []

    /// The sites whose users the routing incident sends across an ocean at `t`, and the round
    /// trip it adds (tests and demos).
    public func incidentSites(at t: Double) -> (sites: [String], extraMs: Double) {
        guard t >= incident.start && t < incident.end else { return ([], 0) }
        let hit = siteIDs.indices.filter {
            siteRegion[$0] == incident.region && Double(siteHash[$0] % 1000) < incident.siteShare * 1000
        }
        return (hit.map { siteIDs[$0] }, incident.extraMs)
    }

    /// The region the routing incident hits at `t`, if one is under way (tests and demos).
    public func incidentRegion(at t: Double) -> String? {
        guard t >= incident.start && t < incident.end, Int(incident.region) < regionIDs.count else { return nil }
        return regionIDs[Int(incident.region)]
    }

    /// Registers every node of `topology` with `collector` and starts the clock at `start`
    /// (seconds since the epoch).
    public init(topology: Topology, collector: Collector, config: SimulatorConfig = SimulatorConfig(), start: Double) {
        let classes = collector.config.classes
        self.config = config
        self.collector = collector
        collector.nameDefaultSource("simulator")
        self.time = start
        origin = start
        rng = SimRandom(seed: config.seed)
        let placements = topology.placements(classes: classes)
        let refs = collector.register(placements)
        var siteIndex: [String: Int] = [:]
        for (p, ref) in zip(placements, refs) {
            let site: Int
            if let s = siteIndex[p.siteID] { site = s } else {
                site = siteIndex.count; siteIndex[p.siteID] = site
                siteHash.append(rng.next())
                siteIDs.append(p.siteID)
                siteRegion.append(ref.region)
            }
            regionCount = max(regionCount, Int(ref.region) + 1)
            if regionIDs.count < regionCount { regionIDs += Array(repeating: "", count: regionCount - regionIDs.count) }
            regionIDs[Int(ref.region)] = p.regionID
            let profile = Self.profile(p.workload)
            // Demand differs by site (some metros run hot): a node's share of the fleet's
            // requests is its capacity (GPUs × the class's rate per GPU) × local load × demand.
            var demand = 0.55 + 0.6 * Double(siteHash[site] % 1000) / 1000
            if (siteHash[site] >> 20) % 100 < 3 { demand *= 2.5 }  // 3 % of metros run near capacity at peak
            nodes.append(NodeSim(ref: ref, site: site, tierMs: p.tierMs, workload: p.workload,
                                 utcOffset: p.longitude.isFinite ? p.longitude / 15 : 0,
                                 lastMileMedian: profile.lastMile, serviceMedian: profile.service,
                                 serviceSigma: profile.sigma, userDistanceKm: 60 + 200 * rng.uniform(),
                                 gpuOffset: gpus.count, gpuCount: p.gpuCount, phase: rng.uniform(),
                                 weight: Double(max(1, p.gpuCount)) * classes[p.workload].rpsPerGPU * demand))
            for _ in 0..<p.gpuCount {
                gpus.append(GPUSim(util: 40 + 30 * rng.uniform(), temp: 55, memTotal: profile.memMiB))
            }
        }
        incident = Incident(region: Int32(Int(rng.next() % UInt64(max(1, regionCount)))), start: start - 300,
                            end: start + 1200, extraMs: 160, fraction: 0.35, siteShare: 0.5)
        seedSteadyState()
    }

    /// Per-class figures: last-mile median (industrial sites sit on the factory network), service
    /// median and shape, GPU memory (L4 / L40S / H100). Batch requests (embeddings, offline
    /// scoring) have no tier: they want throughput, and their spread is the widest.
    private static func profile(_ c: WorkloadClass) -> (lastMile: Double, service: Double, sigma: Double, memMiB: Double) {
        switch c {
        case .industrialControl: (2, 12, 0.30, 23_034)
        case .videoInspection: (8, 25, 0.30, 46_068)
        case .codeCompletion: (8, 60, 0.35, 81_559)
        case .customerService, .unclassified: (8, 150, 0.40, 81_559)
        case .batch: (8, 160, 0.45, 81_559)
        }
    }

    // Fault rates per node-second and durations (seconds). Steady-state shares: ~1.2 % down,
    // ~0.8 % silent, ~0.5 % fatal Xid, ~2 % with a hot GPU.
    private static let downRate = 1.0 / 15_000, downDuration = 60.0...300.0
    private static let silentRate = 1.0 / 40_000, silentDuration = 30.0...600.0
    private static let fatalRate = 1.0 / 100_000, fatalDuration = 120.0...900.0
    private static let hotRate = 1.0 / 30_000, hotDuration = 120.0...1_200.0
    private static let nonFatalRate = 1.0 / 50_000

    private func duration(_ r: ClosedRange<Double>) -> Double {
        r.lowerBound + (r.upperBound - r.lowerBound) * rng.uniform()
    }

    /// Starts the fleet mid-life: faults already in progress in their steady-state shares.
    private func seedSteadyState() {
        func share(_ rate: Double, _ d: ClosedRange<Double>) -> Double {
            let mean = (d.lowerBound + d.upperBound) / 2
            return rate * mean / (1 + rate * mean)
        }
        for i in nodes.indices {
            if rng.chance(share(Self.downRate, Self.downDuration)) { nodes[i].downUntil = time + duration(Self.downDuration) * rng.uniform() }
            if rng.chance(share(Self.silentRate, Self.silentDuration)) { nodes[i].silentUntil = time + duration(Self.silentDuration) * rng.uniform(); nodes[i].silentSince = time - 5 - 30 * rng.uniform() }
            if nodes[i].gpuCount > 0 {
                if rng.chance(share(Self.fatalRate, Self.fatalDuration)) { startFatal(i, until: time + duration(Self.fatalDuration) * rng.uniform()) }
                if rng.chance(share(Self.hotRate, Self.hotDuration)) { startHot(i, until: time + duration(Self.hotDuration) * rng.uniform()) }
            }
        }
    }

    private func startFatal(_ i: Int, until: Double) {
        nodes[i].fatalGPU = Int(rng.next() % UInt64(nodes[i].gpuCount))
        nodes[i].fatalXid = [48, 79, 74, 95, 64][Int(rng.next() % 5)]
        nodes[i].fatalUntil = until
        nodes[i].xidPending = true
    }

    private func startHot(_ i: Int, until: Double) {
        let g = nodes[i].gpuOffset + Int(rng.next() % UInt64(nodes[i].gpuCount))
        gpus[g].hotUntil = until
    }

    /// Local-time load factor in [0.35, 1]: quietest at 04:00, busiest at 16:00; batch work
    /// the other way round (it fills the GPUs at night).
    private func load(_ n: NodeSim, at t: Double) -> Double {
        let hour = (t / 3600 + n.utcOffset).truncatingRemainder(dividingBy: 24)
        let day = 0.35 + 0.65 * (0.5 - 0.5 * cos(2 * Double.pi * (hour - 4) / 24))
        return n.workload == .batch ? 1.35 - day : day
    }

    private func updateRates() {
        var total = 0.0
        for i in nodes.indices {
            nodes[i].load = load(nodes[i], at: time)
            total += nodes[i].load * nodes[i].weight
        }
        rateScale = total > 0 ? config.latencySamplesPerSecond / total : 0
        nextRateUpdate = time + 60
    }

    /// Simulates up to `target` (seconds since the epoch) in fixed ticks, handing each tick's
    /// samples to the collector as one batch per region.
    public func advance(to target: Double) {
        let dt = config.tickSeconds
        // Tick times are counted from the start, not summed, so the clock never drifts and
        // `advance(to: start + 40)` runs the tick ending at exactly +40 s (a sum of 400 × 0.1
        // lands a hair past it and used to skip that tick).
        while origin + Double(ticks + 1) * dt <= target + dt * 1e-6 {
            tick(from: time, dt: dt)
            ticks += 1
            time = origin + Double(ticks) * dt
        }
    }

    /// Jumps the clock forward without simulating the gap (after the process was stopped).
    public func skip(to t: Double) {
        if t > time { time = t; origin = t; ticks = 0 }
    }

    private func tick(from t0: Double, dt: Double) {
        if t0 >= nextRateUpdate { updateRates() }
        if t0 >= incident.end {  // the next incident strikes another region ten minutes later
            incident = Incident(region: Int32(Int(rng.next() % UInt64(max(1, regionCount)))), start: t0 + 600,
                                end: t0 + 600 + 900 + 900 * rng.uniform(), extraMs: 120 + 100 * rng.uniform(),
                                fraction: 0.2 + 0.2 * rng.uniform(), siteShare: 0.2 + 0.3 * rng.uniform())
        }
        var batches = [[Sample]](repeating: [], count: regionCount)
        let perRegion = Int(config.latencySamplesPerSecond * dt / Double(max(1, regionCount)) * 1.5) + gpus.count / max(1, regionCount) * 8
        for r in batches.indices { batches[r].reserveCapacity(perRegion) }
        let t1 = t0 + dt
        for i in nodes.indices {
            let r = Int(nodes[i].ref.region)
            emit(node: i, t0: t0, t1: t1, into: &batches[r])
        }
        for b in batches where !b.isEmpty {
            generated &+= UInt64(b.count)
            collector.ingest(b)
        }
    }

    private func emit(node i: Int, t0: Double, t1: Double, into out: inout [Sample]) {
        var n = nodes[i]
        defer { nodes[i] = n }
        if n.silentUntil > t0 {
            // A node that went silent before the simulation began did report once, then stopped.
            if n.silentSince.isFinite {
                out.append(Sample(node: n.ref, time: n.silentSince, metric: .up, value: 1))
                n.silentSince = -.infinity
            }
            return
        }
        // Once per second, at the node's own phase: gauges, up, and fault hazards.
        let gaugeDue = (t0 + n.phase).rounded(.down) != (t1 + n.phase).rounded(.down)
        if gaugeDue {
            rollFaults(&n, at: t0)
            if n.silentUntil > t0 { return }
            out.append(Sample(node: n.ref, time: t0, metric: .up, value: n.downUntil > t0 ? 0 : 1))
        }
        if n.downUntil > t0 { return }
        if gaugeDue { emitGauges(&n, at: t0, into: &out) }

        // Requests in this tick.
        let inIncident = incident.region == n.ref.region && t0 >= incident.start && t0 < incident.end
            && Double(siteHash[n.site] % 1000) < incident.siteShare * 1000
        let remoteShare = inIncident ? incident.fraction : 0.0005
        let remoteExtra = inIncident ? incident.extraMs : 140
        let fatal = n.fatalUntil > t0
        var slowdown = 1.0
        for g in n.gpuOffset..<(n.gpuOffset + n.gpuCount) {
            if gpus[g].hotUntil > t0 { slowdown = max(slowdown, 1.6) }
            slowdown = max(slowdown, 1 + max(0, gpus[g].util - 90) / 30)  // queueing near saturation
        }
        let requests = rng.count(mean: rateScale * n.load * n.weight * (t1 - t0) * (fatal ? 0.3 : 1))
        var failures = 0
        for k in 0..<requests {
            let t = t0 + (t1 - t0) * Double(k) / Double(max(1, requests))
            let distance = -n.userDistanceKm * log(1 - rng.uniform())
            var network = 5 + 1.35 * (2 * distance / 204) + rng.logNormal(median: n.lastMileMedian, sigma: 0.69)
            if rng.uniform() < remoteShare { network += remoteExtra + 60 * rng.uniform() }
            var service = rng.logNormal(median: n.serviceMedian * slowdown, sigma: n.serviceSigma)
            if rng.uniform() < 0.001 { service *= 1.5 + rng.uniform() }  // stalls: the real tail
            if rng.uniform() < (fatal ? 0.2 : 0.0005) { failures += 1; continue }
            out.append(Sample(node: n.ref, time: t, metric: .latencyMs, value: network + service, workload: n.workload))
        }
        if failures > 0 { out.append(Sample(node: n.ref, time: t0, metric: .errors, value: Double(failures), workload: n.workload)) }
    }

    private func rollFaults(_ n: inout NodeSim, at t: Double) {
        if n.downUntil <= t && rng.chance(Self.downRate) { n.downUntil = t + duration(Self.downDuration) }
        if n.silentUntil <= t && rng.chance(Self.silentRate) { n.silentUntil = t + duration(Self.silentDuration) }
        guard n.gpuCount > 0 else { return }
        if n.fatalUntil <= t {
            if n.fatalXid != 0 { n.fatalXid = 0; n.xidPending = true }  // GPU reset: clear the Xid
            if rng.chance(Self.fatalRate) {
                n.fatalGPU = Int(rng.next() % UInt64(n.gpuCount))
                n.fatalXid = [48, 79, 74, 95, 64][Int(rng.next() % 5)]
                n.fatalUntil = t + duration(Self.fatalDuration)
                n.xidPending = true
            }
        }
        if rng.chance(Self.nonFatalRate) {
            n.nonFatalXid = rng.chance(0.5) ? 63 : 94
            n.nonFatalGPU = Int(rng.next() % UInt64(n.gpuCount))
        }
        if rng.chance(Self.hotRate) {
            gpus[n.gpuOffset + Int(rng.next() % UInt64(n.gpuCount))].hotUntil = t + duration(Self.hotDuration)
        }
    }

    private func emitGauges(_ n: inout NodeSim, at t: Double, into out: inout [Sample]) {
        let target = 10 + 72 * n.load
        for k in 0..<n.gpuCount {
            let g = n.gpuOffset + k
            let hot = gpus[g].hotUntil > t
            var util = gpus[g].util + 0.3 * (target - gpus[g].util) + 4 * rng.normal()
            if hot { util = min(util, 60) }
            util = min(100, max(0, util))
            gpus[g].util = util
            let tempTarget = 32 + 0.45 * util + (hot ? 30 : 0)
            gpus[g].temp += 0.25 * (tempTarget - gpus[g].temp) + 0.5 * rng.normal()
            let gpu = UInt8(k)
            out.append(Sample(node: n.ref, time: t, metric: .gpuUtil, value: util.rounded(), gpu: gpu))
            out.append(Sample(node: n.ref, time: t, metric: .gpuTempC, value: gpus[g].temp.rounded(), gpu: gpu))
            out.append(Sample(node: n.ref, time: t, metric: .gpuMemUsedMiB,
                              value: (gpus[g].memTotal * (0.45 + 0.4 * util / 100)).rounded(), gpu: gpu))
            out.append(Sample(node: n.ref, time: t, metric: .gpuMemTotalMiB, value: gpus[g].memTotal, gpu: gpu))
            out.append(Sample(node: n.ref, time: t, metric: .gpuPowerW, value: (60 + 2.8 * util).rounded(), gpu: gpu))
            out.append(Sample(node: n.ref, time: t, metric: .throttleReasons, value: hot ? 0x40 : 0, gpu: gpu))
        }
        if n.xidPending {
            out.append(Sample(node: n.ref, time: t, metric: .xid, value: Double(n.fatalXid), gpu: UInt8(n.fatalGPU)))
            n.xidPending = false
        }
        if n.nonFatalXid != 0 {
            out.append(Sample(node: n.ref, time: t, metric: .xid, value: Double(n.nonFatalXid), gpu: UInt8(n.nonFatalGPU)))
            n.nonFatalXid = 0
        }
    }
}

struct NodeSim {
    var ref: NodeRef
    var site: Int
    var tierMs: Double
    var workload: WorkloadClass
    var utcOffset: Double
    var lastMileMedian: Double
    var serviceMedian: Double
    var serviceSigma: Double
    var userDistanceKm: Double
    var gpuOffset: Int
    var gpuCount: Int
    var phase: Double
    /// Capacity × site demand: the node's share of the fleet's requests at equal load.
    var weight: Double
    var load = 0.5
    var downUntil = -Double.infinity
    var silentUntil = -Double.infinity
    var silentSince = -Double.infinity
    var fatalUntil = -Double.infinity
    var fatalGPU = 0
    var fatalXid = 0
    var xidPending = false
    var nonFatalXid = 0
    var nonFatalGPU = 0
}

struct GPUSim {
    var util: Double
    var temp: Double
    var memTotal: Double
    var hotUntil = -Double.infinity
}

/// A regional routing incident: part of the region's sites send a share of their users'
/// requests across an ocean.
struct Incident {
    var region: Int32
    var start: Double
    var end: Double
    var extraMs: Double
    var fraction: Double
    var siteShare: Double
}
