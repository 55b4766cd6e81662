import EdgeCore

/// Last known gauges of one GPU. Owned by a region shard; touched only on its queue.
struct GPUState {
    var util = Double.nan
    var tempC = Double.nan
    var memUsedMiB = Double.nan
    var memTotalMiB = Double.nan
    var powerW = Double.nan
    var throttleReasons: UInt64 = 0
    var xid = 0
    var xidTime = -Double.infinity
    var lastSeen = -Double.infinity
    /// The one source whose gauges this GPU shows. Another source's values for the same GPU
    /// are ignored until this one has been silent past the stale limit:
    /// never averaged, never flip-flopping between two exporters.
    var source: SourceID = 0
}

/// The collector's class catalog and sub-window length, one instance its nodes share.
final class ClassBounds: Sendable {
    let catalog: ClassCatalog
    let subWindowSeconds: Double
    init(_ catalog: ClassCatalog, subWindowSeconds: Double) { self.catalog = catalog; self.subWindowSeconds = subWindowSeconds }
}

/// Everything the collector keeps for one node: a latency series per source, GPU gauges and
/// host figures. A class so the shard mutates it in place.
final class NodeState {
    let placement: NodePlacement
    let siteSlot: Int
    /// Latency and errors per source (usually one). See `LatencySeries`.
    @exclusivity(unchecked) var series: [LatencySeries] = []
    /// Workload classes (for a new series' good bound), shared by the collector's nodes.
    let classes: ClassBounds
    /// `series.first`, held directly: the record path reaches it with one load fewer (random
    /// node access over a fleet is a cache miss per pointer followed).
    @exclusivity(unchecked) var primary: LatencySeries?
    @exclusivity(unchecked) var gpus: [GPUState]
    /// Last `up` value (NaN until a source says).
    @exclusivity(unchecked) var up = Double.nan
    /// Host figures from node_exporter (NaN when no source reports them).
    var load1 = Double.nan
    var memUsedPct = Double.nan
    /// Inference server queue: requests running and waiting (summed over models).
    var requestsRunning = Double.nan
    var requestsWaiting = Double.nan
    /// Health reported by an upstream collector (query backend), and when.
    var reportedHealth: HealthState?
    var reportedAt = -Double.infinity
    @exclusivity(unchecked) var lastSeen = -Double.infinity
    /// Last problem a source reported for this node (a failed scrape), shown to the operator.
    var lastError: String?

    let windowSeconds: Double
    let staleAfterSeconds: Double
    let ringSize: Int
    /// History on: series record 1 s steps and minutes too.
    var keepsSteps = true

    /// History: the node's rings (made at its first step; nil with history off) and what the minute being filled has
    /// gathered from its closed steps (its latency is in each series' `minute`).
    var history: HistoryRings?
    var minuteTotals = StepTotals()
    var minuteWorst: HealthState?
    /// Whether the node's latency was over its tier when last judged with enough samples (the
    /// verdict carried across steps too thin to judge).
    var slowVerdict = false
    /// The history walk's shortcut for a node with nothing new: a sample arrived since its last
    /// step (any sample: gauges and `up` move the state too); the totals and state of its last
    /// quiet step, which later quiet steps repeat until `idleValidUntil` (the first time an age
    /// rule could change them); and whether the latency verdict was judged since the last sample.
    @exclusivity(unchecked) var touched = true
    var idleTotals: StepTotals?
    var idleValidUntil = -Double.infinity
    var verdictFresh = false

    init(placement: NodePlacement, siteSlot: Int, ringSize: Int, windowSeconds: Double, staleAfterSeconds: Double,
         classes: ClassBounds = ClassBounds(.standard, subWindowSeconds: 10)) {
        self.placement = placement
        self.classes = classes
        self.windowSeconds = windowSeconds
        self.staleAfterSeconds = staleAfterSeconds
        self.siteSlot = siteSlot
        self.ringSize = ringSize
        gpus = [GPUState](repeating: GPUState(), count: max(0, min(placement.gpuCount, NodeState.maxGPUs)))
    }

    static let maxGPUs = 64

    /// The series of `source` and class `workload` (created on its first latency or error
    /// sample), brought to the shard's current sub-window `sub`.
    @inline(__always)
    func series(for source: SourceID, _ workload: WorkloadClass, at sub: Int) -> LatencySeries {
        let series = primary.flatMap { $0.source == source && $0.workload == workload ? $0 : nil }
            ?? otherSeries(for: source, workload)
        series.catchUp(sub)
        return series
    }

    @inline(never)
    func otherSeries(for source: SourceID, _ workload: WorkloadClass) -> LatencySeries {
        for s in series where s.source == source && s.workload == workload { return s }
        let bound = classes.catalog[workload].goodBoundMs(nodeTierMs: placement.tierMs)
        let s = LatencySeries(source: source, workload: workload, goodBoundMs: bound, ringSize: ringSize,
                              subWindowSeconds: classes.subWindowSeconds, keepsSteps: keepsSteps)
        series.append(s)
        if primary == nil { primary = s }
        return s
    }

    /// Applies one sample while the shard is in absolute sub-window `sub`. Returns false when
    /// the sample is invalid for this node.
    @inline(__always)
    func apply(_ s: Sample, sub: Int) -> Bool {
        touched = true
        if s.metric.isPerGPU {
            let g = Int(s.gpu)
            guard g < NodeState.maxGPUs, s.value.isFinite else { return false }
            if g >= gpus.count {  // a GPU we were not told about: grow once (rare, not per sample)
                gpus.append(contentsOf: repeatElement(GPUState(), count: g - gpus.count + 1))
            }
            if gpus[g].source != s.source {
                // Another source owns this GPU; take over only once the owner has gone quiet.
                guard !gpus[g].lastSeen.isFinite || s.time - gpus[g].lastSeen > staleAfterSeconds else {
                    if s.time > lastSeen { lastSeen = s.time }
                    return true
                }
                gpus[g] = GPUState()
                gpus[g].source = s.source
            }
            switch s.metric {
            case .gpuUtil: gpus[g].util = s.value
            case .gpuTempC: gpus[g].tempC = s.value
            case .gpuMemUsedMiB: gpus[g].memUsedMiB = s.value
            case .gpuMemTotalMiB: gpus[g].memTotalMiB = s.value
            case .gpuPowerW: gpus[g].powerW = s.value
            case .throttleReasons: gpus[g].throttleReasons = UInt64(clamping: Int64(s.value))
            case .xid:
                let code = Int(s.value)
                if code != 0 { gpus[g].xid = code; gpus[g].xidTime = s.time } else { gpus[g].xid = 0 }
            default: break
            }
            gpus[g].lastSeen = Swift.max(gpus[g].lastSeen, s.time)
        } else {
            switch s.metric {
            case .latencyMs:
                guard s.value.isFinite && s.value >= 0 else { return false }
                let series = series(for: s.source, s.workload, at: sub)
                series.record(s.value, weight: s.weight)
            case .latencyBucketMs:
                guard s.value >= 0, !s.value.isNaN else { return false }
                let series = series(for: s.source, s.workload, at: sub)
                series.record(s.value, weight: s.weight)
                series.bucketBoundedUntil = s.time + windowSeconds
            case .up:
                guard s.value == 0 || s.value == 1 else { return false }
                up = s.value
                if s.value == 1 { lastError = nil }
            case .errors:
                guard s.value.isFinite && s.value >= 0 else { return false }
                let series = series(for: s.source, s.workload, at: sub)
                series.recordErrors(UInt64(s.value) &* UInt64(s.weight))
            case .load1:
                guard s.value.isFinite && s.value >= 0 else { return false }
                load1 = s.value
            case .memUsedPct:
                guard s.value.isFinite && s.value >= 0 && s.value <= 100 else { return false }
                memUsedPct = s.value
            case .requestsRunning, .requestsWaiting:
                guard s.value.isFinite && s.value >= 0 else { return false }
                if s.metric == .requestsRunning { requestsRunning = s.value } else { requestsWaiting = s.value }
            case .reportedHealth:
                guard let state = HealthState(rawValue: Int(s.value)) else { return false }
                reportedHealth = state
                reportedAt = s.time
            default: return false
            }
        }
        if s.time > lastSeen { lastSeen = s.time }
        return true
    }

    /// Bytes this node holds, for `edgetop bench`.
    var byteCount: Int {
        series.reduce(0) { $0 + $1.byteCount } + gpus.count * MemoryLayout<GPUState>.stride + 256
            + (history?.byteCount ?? 0)
    }
}
