import EdgeCore

/// What a history step adds up besides latency: requests, errors, GPU gauges (summed over
/// GPUs, so a group's mean is over its GPUs, not over its nodes' means) and health counts.
struct StepTotals: Sendable {
    var count: UInt64 = 0
    var errors: UInt64 = 0
    var utilSum = 0.0, utilN = 0, utilMax = -Double.infinity
    var tempSum = 0.0, tempN = 0, tempMax = -Double.infinity
    var health = HealthCounts()

    /// Adds a node's GPUs as they are at the end of a step (gauges older than `staleAfter` are
    /// left out, as a silent exporter's last value would mislead).
    mutating func addGauges(of n: NodeState, now: Double, staleAfter: Double) {
        for g in n.gpus where g.lastSeen.isFinite && now - g.lastSeen <= staleAfter {
            if g.util.isFinite { utilSum += g.util; utilN += 1; utilMax = max(utilMax, g.util) }
            if g.tempC.isFinite { tempSum += g.tempC; tempN += 1; tempMax = max(tempMax, g.tempC) }
        }
    }

    mutating func add(_ o: StepTotals) {
        count &+= o.count; errors &+= o.errors
        utilSum += o.utilSum; utilN += o.utilN; utilMax = max(utilMax, o.utilMax)
        tempSum += o.tempSum; tempN += o.tempN; tempMax = max(tempMax, o.tempMax)
        health.add(o.health)
    }

    /// The step with latency quantiles `p50`/`p99`.
    func step(p50: Double, p99: Double) -> HistoryStep {
        HistoryStep(hasData: true, count: count, errors: errors, p50: p50, p99: p99,
                    gpuUtilMean: utilN > 0 ? utilSum / Double(utilN) : .nan,
                    gpuUtilMax: utilMax.isFinite ? utilMax : .nan,
                    gpuTempMean: tempN > 0 ? tempSum / Double(tempN) : .nan,
                    gpuTempMax: tempMax.isFinite ? tempMax : .nan, health: health)
    }
}

extension LatencyHistogram {
    /// p50 and p99 (NaN when empty) for a history step.
    func stepQuantiles() -> (p50: Double, p99: Double) {
        guard !isEmpty else { return (.nan, .nan) }
        let s = summary()
        return (s.p50, s.p99)
    }
}
