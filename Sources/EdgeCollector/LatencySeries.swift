import EdgeCore

/// One source's view of one node's requests: latency over the window (current sub-window plus
/// the ring), errors, and monotonic tier counters. A node has one per source that sent it
/// latency or errors, created on that source's first such sample (never per sample); the
/// snapshot chooses which of them counts (`RegionShard.chooseSeries`).
final class LatencySeries {
    let source: SourceID
    /// Latency of the sub-window being filled (16-bit counters with carry: 3.5 KB).
    var current = NodeHistogram()
    /// Finished sub-windows, oldest overwritten first; `ring[k]` aligns with the shard's ring.
    var ring: [CompactHistogram]
    var errorsCurrent: UInt64 = 0
    var errorsRing: [UInt64]
    /// Requests since start by latency tier bucket (`TierBuckets`), with their count and sum:
    /// monotonic, for `edgetop serve`'s Prometheus histogram. Exact: compared at record time.
    var tierCumulative = [UInt64](repeating: 0, count: TierBuckets.upperBoundsMs.count)
    var requestsTotal: UInt64 = 0
    var latencySumMs: Double = 0
    var errorsTotal: UInt64 = 0
    /// Until when the window holds classic-bucket latency (its quantiles are bucket-bounded).
    var bucketBoundedUntil = -Double.infinity

    init(source: SourceID, ringSize: Int) {
        self.source = source
        ring = [CompactHistogram](repeating: CompactHistogram(), count: ringSize)
        errorsRing = [UInt64](repeating: 0, count: ringSize)
    }

    @inline(__always)
    func record(_ ms: Double, weight: UInt32) {
        if weight == 1 { current.record(ms) } else { current.record(ms, count: UInt64(weight)) }
        let n = UInt64(weight)
        tierCumulative[TierBuckets.index(ms)] &+= n
        requestsTotal &+= n
        latencySumMs += ms * Double(n)
    }

    @inline(__always)
    func recordErrors(_ n: UInt64) {
        errorsCurrent &+= n
        errorsTotal &+= n
    }

    /// Moves the current sub-window into ring slot `slot`. A quiet series (nothing this
    /// sub-window, nothing in the slot it overwrites) costs a compare, not a copy.
    func rotate(into slot: Int) {
        if current.isEmpty && current.rejected == 0 && errorsCurrent == 0 {
            if ring[slot].totalCount != 0 || ring[slot].rejected != 0 { ring[slot] = CompactHistogram() }
            errorsRing[slot] = 0
            return
        }
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

    /// Merges the window (current plus the `filled` newest ring slots before `cursor`) into
    /// `into`; returns the window's errors.
    func mergeWindow(into h: inout RollupHistogram, cursor: Int, filled: Int) -> UInt64 {
        h.merge(current)
        var errors = errorsCurrent
        let n = ring.count
        for k in 0..<filled {
            let i = (cursor - 1 - k + 2 * n) % n
            h.merge(ring[i])
            errors &+= errorsRing[i]
        }
        return errors
    }

    var byteCount: Int {
        current.storageBytes
            + ring.reduce(0) { $0 + $1.byteCount + MemoryLayout<CompactHistogram>.stride }
            + errorsRing.count * 8 + tierCumulative.count * 8 + 96
    }
}
