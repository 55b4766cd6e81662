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
}

/// Everything the collector keeps for one node: the current sub-window histogram, the ring of
/// finished sub-windows, counters and GPU gauges. A class so the shard mutates it in place.
final class NodeState {
    let placement: NodePlacement
    let siteSlot: Int
    /// Latency of the sub-window being filled (16-bit counters with carry: 3.5 KB).
    var current = NodeHistogram()
    /// Finished sub-windows, oldest overwritten first; `ring[k]` aligns with the shard's ring.
    var ring: [CompactHistogram]
    var errorsCurrent: UInt64 = 0
    var errorsRing: [UInt64]
    var gpus: [GPUState]
    /// Last `up` value (NaN until a source says).
    var up = Double.nan
    /// Requests since start by latency tier bucket (`TierBuckets`), with their count and sum:
    /// monotonic, for `edgetop serve`'s Prometheus histogram. Exact: compared at record time.
    var tierCumulative = [UInt64](repeating: 0, count: TierBuckets.upperBoundsMs.count)
    var requestsTotal: UInt64 = 0
    var latencySumMs: Double = 0
    var errorsTotal: UInt64 = 0
    /// Host figures from node_exporter (NaN when no source reports them).
    var load1 = Double.nan
    var memUsedPct = Double.nan
    /// Inference server queue: requests running and waiting (summed over models).
    var requestsRunning = Double.nan
    var requestsWaiting = Double.nan
    /// Health reported by an upstream collector (query backend), and when.
    var reportedHealth: HealthState?
    var reportedAt = -Double.infinity
    var lastSeen = -Double.infinity
    /// Last problem a source reported for this node (a failed scrape), shown to the operator.
    var lastError: String?
    /// Until when the window holds classic-bucket latency (its quantiles are bucket-bounded).
    var bucketBoundedUntil = -Double.infinity

    let windowSeconds: Double

    init(placement: NodePlacement, siteSlot: Int, ringSize: Int, windowSeconds: Double) {
        self.placement = placement
        self.windowSeconds = windowSeconds
        self.siteSlot = siteSlot
        ring = [CompactHistogram](repeating: CompactHistogram(), count: ringSize)
        errorsRing = [UInt64](repeating: 0, count: ringSize)
        gpus = [GPUState](repeating: GPUState(), count: max(0, min(placement.gpuCount, NodeState.maxGPUs)))
    }

    static let maxGPUs = 64

    /// Applies one sample. Returns false when the sample is invalid for this node.
    @inline(__always)
    func apply(_ s: Sample) -> Bool {
        if s.metric.isPerGPU {
            let g = Int(s.gpu)
            guard g < NodeState.maxGPUs, s.value.isFinite else { return false }
            if g >= gpus.count {  // a GPU we were not told about: grow once (rare, not per sample)
                gpus.append(contentsOf: repeatElement(GPUState(), count: g - gpus.count + 1))
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
                if s.weight == 1 { current.record(s.value) } else { current.record(s.value, count: UInt64(s.weight)) }
                countTier(s.value, UInt64(s.weight))
            case .latencyBucketMs:
                guard s.value >= 0, !s.value.isNaN else { return false }
                current.record(s.value, count: UInt64(s.weight))
                countTier(s.value, UInt64(s.weight))
                bucketBoundedUntil = s.time + windowSeconds
            case .up:
                guard s.value == 0 || s.value == 1 else { return false }
                up = s.value
                if s.value == 1 { lastError = nil }
            case .errors:
                guard s.value.isFinite && s.value >= 0 else { return false }
                errorsCurrent &+= UInt64(s.value) &* UInt64(s.weight)
                errorsTotal &+= UInt64(s.value) &* UInt64(s.weight)
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

    @inline(__always)
    func countTier(_ ms: Double, _ n: UInt64) {
        tierCumulative[TierBuckets.index(ms)] &+= n
        requestsTotal &+= n
        latencySumMs += ms * Double(n)
    }

    /// Moves the current sub-window into ring slot `slot`.
    func rotate(into slot: Int) {
        ring[slot] = current.compacted()
        current.reset()
        errorsRing[slot] = errorsCurrent
        errorsCurrent = 0
    }

    /// Forgets every sub-window (time jumped past the whole window).
    func clearWindow() {
        for i in ring.indices { ring[i] = CompactHistogram(); errorsRing[i] = 0 }
        current.reset()
        errorsCurrent = 0
    }

    /// Bytes this node holds, for `edgetop bench`.
    var byteCount: Int {
        current.counts.count * MemoryLayout<UInt16>.stride
            + ring.reduce(0) { $0 + $1.byteCount + MemoryLayout<CompactHistogram>.stride }
            + gpus.count * MemoryLayout<GPUState>.stride + errorsRing.count * 8 + 256
    }
}
