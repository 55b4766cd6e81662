import EdgeCore

/// The health model (shared/docs/domain.md), applied to one node at snapshot time.
///
/// DOWN beats STALE beats DEGRADED: a node whose source says `up == 0`, or one of whose GPUs
/// raised a fatal Xid within the window, is DOWN; a node silent for three intervals is STALE
/// (its last figures would mislead); then thermal throttling, non-fatal Xids, error ratio and
/// p99 above the tier make it DEGRADED.
enum HealthRules {
    /// DCGM clock-throttle reason bits that mean heat: SW thermal slowdown, HW thermal slowdown.
    static let thermalThrottleMask: UInt64 = 0x20 | 0x40

    static func evaluate(node n: NodeState, histogram: borrowing RollupHistogram, latency choice: LatencyChoice,
                         now: Double, coveredSeconds: Double, config: CollectorConfig,
                         sources: [SourceInfo]) -> NodeStatus {
        let errors = choice.errors
        var latency = histogram.summary()
        latency.bucketBounded = choice.bucketBounded && latency.count > 0
        let age = n.lastSeen.isFinite ? max(0, now - n.lastSeen) : .nan
        let requests = Double(latency.count)
        let rps = coveredSeconds > 0 ? requests / coveredSeconds : 0
        let errorRatio = requests + Double(errors) > 0 ? Double(errors) / (requests + Double(errors)) : 0

        var gpus: [GPUStatus] = []
        gpus.reserveCapacity(n.gpus.count)
        var utilSum = 0.0, utilN = 0, tempMax = -Double.infinity, memUsed = 0.0, memTotal = 0.0
        let (fatal, nonFatal, hot) = gpuFindings(n, now: now, config: config)
        for (i, g) in n.gpus.enumerated() {
            let recentXid = g.xid != 0 && now - g.xidTime <= config.windowSeconds ? g.xid : 0
            let throttled = (g.throttleReasons & thermalThrottleMask) != 0 || g.tempC >= config.thermalLimitC
            if g.util.isFinite { utilSum += g.util; utilN += 1 }
            if g.tempC.isFinite { tempMax = max(tempMax, g.tempC) }
            if g.memUsedMiB.isFinite { memUsed += g.memUsedMiB }
            if g.memTotalMiB.isFinite { memTotal += g.memTotalMiB }
            gpus.append(GPUStatus(index: i, utilPct: g.util, tempC: g.tempC, memUsedMiB: g.memUsedMiB,
                                  memTotalMiB: g.memTotalMiB, powerW: g.powerW, xid: recentXid,
                                  throttled: throttled, ageS: g.lastSeen.isFinite ? max(0, now - g.lastSeen) : .nan,
                                  source: g.lastSeen.isFinite ? RegionShard.info(of: g.source, in: sources).name : ""))
        }

        let judged = verdict(node: n, now: now, age: age, fatal: fatal, nonFatal: nonFatal, hot: hot,
                             errorRatio: errorRatio, latency: latency, config: config)
        var (state, reason) = judged.described
        var cause = judged.cause
        if let reported = reportedState(n, now: now, config: config) {
            // A node judged upstream says why, as its collector exported it (or as the global
            // view marked it: its collector went silent).
            if reported != state {
                reason = reported == .healthy ? "" : n.lastError ?? "reported \(reported.label) by its collector"
                cause = reported == .healthy ? "" : "reported"
            }
            state = reported
        }

        var distribution = [UInt64](repeating: 0, count: LatencyBins.upperBoundsMs.count)
        if !histogram.isEmpty {
            var bin = 0
            for i in histogram.lowIndex...histogram.highIndex where histogram.count(at: i) != 0 {
                let mid = HistogramLayout.representative(i)
                while mid >= LatencyBins.upperBoundsMs[bin] { bin += 1 }
                distribution[bin] &+= histogram.count(at: i)
            }
        }

        let p = n.placement
        var status = NodeStatus(id: p.nodeID, site: p.siteID, region: p.regionID, health: state, reason: reason,
                          tierMs: p.tierMs, latency: latency, distribution: distribution, rps: rps,
                          errorRatio: errorRatio, gpuUtilPct: utilN > 0 ? utilSum / Double(utilN) : .nan,
                          gpuTempMaxC: tempMax.isFinite ? tempMax : .nan,
                          gpuMemUsedMiB: memUsed, gpuMemTotalMiB: memTotal, ageS: age, gpus: gpus)
        status.cause = cause
        status.load1 = n.load1
        status.memUsedPct = n.memUsedPct
        status.requestsRunning = n.requestsRunning
        status.requestsWaiting = n.requestsWaiting
        status.tierCounts = choice.tierCounts.isEmpty ? NodeStatus.noTierCounts : choice.tierCounts
        status.requestsTotal = choice.requestsTotal
        status.latencySumMs = choice.latencySumMs
        status.errorsTotal = choice.errorsTotal
        status.latencySource = choice.source
        status.latencySources = choice.sources
        return status
    }

    /// Why a node is in its state: the rules in order, first match wins.
    enum Verdict {
        case upZero(String?)
        case fatalXid(gpu: Int, xid: Int)
        case noData
        case silent(age: Double)
        case throttling(gpu: Int, temp: Double)
        case xid(gpu: Int, xid: Int)
        case errors(ratio: Double)
        case slow(p99: Double, tier: Double)
        case healthy

        var state: HealthState {
            switch self {
            case .upZero, .fatalXid: .down
            case .noData, .silent: .stale
            case .throttling, .xid, .errors, .slow: .degraded
            case .healthy: .healthy
            }
        }

        /// The reason's kind (`NodeStatus.cause`).
        var cause: String {
            switch self {
            case .upZero: "unreachable"
            case .fatalXid: "xid_fatal"
            case .noData: "no_data"
            case .silent: "silent"
            case .throttling: "gpu_throttling"
            case .xid: "xid"
            case .errors: "errors"
            case .slow: "p99_over_tier"
            case .healthy: ""
            }
        }

        /// What a cause id says to an operator, when only the id is known (read back upstream).
        static func phrase(_ cause: String) -> String? {
            switch cause {
            case "unreachable": "unreachable"
            case "xid_fatal": "fatal Xid"
            case "no_data": "no data yet"
            case "silent": "silent"
            case "gpu_throttling": "GPU thermal throttling"
            case "xid": "Xid"
            case "errors": "errors over the limit"
            case "p99_over_tier": "p99 over its tier"
            default: nil
            }
        }

        var described: (HealthState, String) {
            let reason: String
            switch self {
            case .upZero(let error): reason = error ?? "up=0"
            case .fatalXid(let g, let x): reason = "Xid \(x) \(Xid.describe(x)) on GPU\(g)"
            case .noData: reason = "no data yet"
            case .silent(let age): reason = "no data for \(Int(age))s"
            case .throttling(let g, let t): reason = t.isFinite ? "GPU\(g) thermal throttling \(Int(t))°C" : "GPU\(g) thermal throttling"
            case .xid(let g, let x): reason = "Xid \(x) \(Xid.describe(x)) on GPU\(g)"
            case .errors(let r): reason = "errors \(Int((r * 100).rounded()))%"
            case .slow(let p99, let tier): reason = "p99 \(Int(p99.rounded()))ms > \(Int(tier))ms tier"
            case .healthy: reason = ""
            }
            return (state, reason)
        }
    }

    static func verdict(node n: NodeState, now: Double, age: Double, fatal: (gpu: Int, xid: Int)?,
                        nonFatal: (gpu: Int, xid: Int)?, hot: (gpu: Int, temp: Double)?, errorRatio: Double,
                        latency: LatencySummary, config: CollectorConfig) -> Verdict {
        if n.up == 0 { return .upZero(n.lastError) }
        if let f = fatal { return .fatalXid(gpu: f.gpu, xid: f.xid) }
        if !age.isFinite { return .noData }
        if age > config.staleAfterSeconds { return .silent(age: age) }
        if let h = hot { return .throttling(gpu: h.gpu, temp: h.temp) }
        if let x = nonFatal { return .xid(gpu: x.gpu, xid: x.xid) }
        if errorRatio > config.maxErrorRatio { return .errors(ratio: errorRatio) }
        if latency.count >= config.minSamplesForTier && latency.p99 > n.placement.tierMs {
            return .slow(p99: latency.p99, tier: n.placement.tierMs)
        }
        return .healthy
    }

    /// A health judged upstream (read back through Prometheus) stands as reported.
    static func reportedState(_ n: NodeState, now: Double, config: CollectorConfig) -> HealthState? {
        guard let reported = n.reportedHealth, now - n.reportedAt <= config.windowSeconds else { return nil }
        return reported
    }

    /// The GPU findings the rules use: the first fatal and non-fatal recent Xid, the first hot GPU.
    static func gpuFindings(_ n: NodeState, now: Double, config: CollectorConfig)
        -> (fatal: (gpu: Int, xid: Int)?, nonFatal: (gpu: Int, xid: Int)?, hot: (gpu: Int, temp: Double)?) {
        var fatal: (gpu: Int, xid: Int)?, nonFatal: (gpu: Int, xid: Int)?, hot: (gpu: Int, temp: Double)?
        for (i, g) in n.gpus.enumerated() {
            let recentXid = g.xid != 0 && now - g.xidTime <= config.windowSeconds ? g.xid : 0
            if recentXid != 0 {
                if Xid.isFatal(recentXid) { if fatal == nil { fatal = (i, recentXid) } }
                else if nonFatal == nil { nonFatal = (i, recentXid) }
            }
            if hot == nil && ((g.throttleReasons & thermalThrottleMask) != 0 || g.tempC >= config.thermalLimitC) { hot = (i, g.tempC) }
        }
        return (fatal, nonFatal, hot)
    }

    /// A node's state at the end of a history step, by the same rules as a snapshot: errors over
    /// the step, latency over the minute so far (`latency`), no strings built.
    static func stepState(node n: NodeState, now: Double, errorRatio: Double, latency: LatencySummary,
                          config: CollectorConfig) -> HealthState {
        let age = n.lastSeen.isFinite ? max(0, now - n.lastSeen) : .nan
        let f = gpuFindings(n, now: now, config: config)
        let state = verdict(node: n, now: now, age: age, fatal: f.fatal, nonFatal: f.nonFatal, hot: f.hot,
                            errorRatio: errorRatio, latency: latency, config: config).state
        return reportedState(n, now: now, config: config) ?? state
    }
}

/// Running totals for a group while its nodes are summarised.
struct GroupAccumulator: Sendable {
    var health = HealthCounts()
    var utilSum = 0.0
    var utilGPUs = 0
    var gpus = 0
    var tempMax = -Double.infinity
    var rps = 0.0
    var errorsWeighted = 0.0
    var requests = 0.0
    var ageMax = -Double.infinity
    var tierMin = Double.infinity
    var capacity = 0.0
    var capacityKnown = false
    /// Some node's latency is only known by classic buckets.
    var bucketBounded = false

    mutating func add(_ n: NodeStatus) {
        health.add(n.health)
        bucketBounded = bucketBounded || n.latency.bucketBounded
        for g in n.gpus where g.utilPct.isFinite { utilSum += g.utilPct; utilGPUs += 1 }
        gpus += n.gpus.count
        if n.gpuTempMaxC.isFinite { tempMax = max(tempMax, n.gpuTempMaxC) }
        rps += n.rps
        requests += n.rps
        errorsWeighted += n.errorRatio * n.rps
        if n.ageS.isFinite { ageMax = max(ageMax, n.ageS) }
        tierMin = min(tierMin, n.tierMs)
        // A down or silent node serves nothing: its GPUs are not headroom.
        if n.capacityRps.isFinite && (n.health == .healthy || n.health == .degraded) { capacity += n.capacityRps; capacityKnown = true }
    }

    mutating func add(_ o: GroupAccumulator) {
        capacity += o.capacity; capacityKnown = capacityKnown || o.capacityKnown
        health.add(o.health)
        utilSum += o.utilSum; utilGPUs += o.utilGPUs; gpus += o.gpus
        tempMax = max(tempMax, o.tempMax)
        rps += o.rps; requests += o.requests; errorsWeighted += o.errorsWeighted
        ageMax = max(ageMax, o.ageMax)
        tierMin = min(tierMin, o.tierMin)
        bucketBounded = bucketBounded || o.bucketBounded
    }

    func group(kind: GroupKind, id: String, name: String, region: String, country: String,
               latency: LatencySummary, covered: Double) -> GroupStatus {
        GroupStatus(kind: kind, id: id, name: name, region: region, country: country, health: health,
                    latency: latency, rps: rps, errorRatio: requests > 0 ? errorsWeighted / requests : 0,
                    gpuUtilPct: utilGPUs > 0 ? utilSum / Double(utilGPUs) : .nan,
                    gpuTempMaxC: tempMax.isFinite ? tempMax : .nan, gpuCount: gpus,
                    ageS: ageMax.isFinite ? ageMax : .nan, tierMs: tierMin.isFinite ? tierMin : .nan,
                    capacityRps: capacityKnown ? capacity : .nan)
    }
}
