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
        var fatal: (gpu: Int, xid: Int)?
        var nonFatal: (gpu: Int, xid: Int)?
        var hot: (gpu: Int, temp: Double)?
        for (i, g) in n.gpus.enumerated() {
            let recentXid = g.xid != 0 && now - g.xidTime <= config.windowSeconds ? g.xid : 0
            let throttled = (g.throttleReasons & thermalThrottleMask) != 0 || g.tempC >= config.thermalLimitC
            if recentXid != 0 {
                if Xid.isFatal(recentXid) { if fatal == nil { fatal = (i, recentXid) } }
                else if nonFatal == nil { nonFatal = (i, recentXid) }
            }
            if throttled && hot == nil { hot = (i, g.tempC) }
            if g.util.isFinite { utilSum += g.util; utilN += 1 }
            if g.tempC.isFinite { tempMax = max(tempMax, g.tempC) }
            if g.memUsedMiB.isFinite { memUsed += g.memUsedMiB }
            if g.memTotalMiB.isFinite { memTotal += g.memTotalMiB }
            gpus.append(GPUStatus(index: i, utilPct: g.util, tempC: g.tempC, memUsedMiB: g.memUsedMiB,
                                  memTotalMiB: g.memTotalMiB, powerW: g.powerW, xid: recentXid,
                                  throttled: throttled, ageS: g.lastSeen.isFinite ? max(0, now - g.lastSeen) : .nan,
                                  source: g.lastSeen.isFinite ? RegionShard.info(of: g.source, in: sources).name : ""))
        }

        var state = HealthState.healthy
        var reason = ""
        if n.up == 0 {
            state = .down
            reason = n.lastError ?? "up=0"
        } else if let f = fatal {
            state = .down
            reason = "Xid \(f.xid) \(Xid.describe(f.xid)) on GPU\(f.gpu)"
        } else if !age.isFinite {
            state = .stale
            reason = "no data yet"
        } else if age > config.staleAfterSeconds {
            state = .stale
            reason = "no data for \(Int(age))s"
        } else if let h = hot {
            state = .degraded
            reason = h.temp.isFinite ? "GPU\(h.gpu) thermal throttling \(Int(h.temp))°C" : "GPU\(h.gpu) thermal throttling"
        } else if let x = nonFatal {
            state = .degraded
            reason = "Xid \(x.xid) \(Xid.describe(x.xid)) on GPU\(x.gpu)"
        } else if errorRatio > config.maxErrorRatio {
            state = .degraded
            reason = "errors \(Int((errorRatio * 100).rounded()))%"
        } else if latency.count >= config.minSamplesForTier && latency.p99 > n.placement.tierMs {
            state = .degraded
            reason = "p99 \(Int(latency.p99.rounded()))ms > \(Int(n.placement.tierMs))ms tier"
        }

        // A health judged upstream (read back through Prometheus) stands as reported.
        if let reported = n.reportedHealth, now - n.reportedAt <= config.windowSeconds {
            if reported != state { reason = reported == .healthy ? "" : "reported \(reported.label) by its collector" }
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
    }

    mutating func add(_ o: GroupAccumulator) {
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
                    ageS: ageMax.isFinite ? ageMax : .nan, tierMs: tierMin.isFinite ? tierMin : .nan)
    }
}
