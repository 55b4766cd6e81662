import EdgeCore

/// One source's view of one workload class of one node's requests: latency over the window
/// (current sub-window plus the ring), errors, good requests (within the class's tier), the
/// SLO minute ring, and monotonic tier counters. A node has one per (source, class) that sent
/// it latency or errors, created on the first such sample (never per sample); the snapshot
/// chooses which sources count (`RegionShard.chooseSeries`).
///
/// The properties the record path mutates are `@exclusivity(unchecked)`: only the shard's
/// queue touches them, and the runtime's access checks were a twentieth of a sparse replay's
/// apply time (the same for `NodeState` and `RegionShard`).
final class LatencySeries {
    let source: SourceID
    let workload: WorkloadClass
    /// A request is good at or under this bound (the class's tier; the node's tier for
    /// unclassified requests; +inf for a class without a latency target).
    let goodBoundMs: Double
    /// Good requests of the sub-window being filled (the ring's are in its slots): the window's
    /// within-tier fraction is exact (counted at record time, never read off the histogram).
    @exclusivity(unchecked) var goodCurrent: UInt64 = 0
    /// Per-minute SLO counts for the burn-rate windows (`SLORing`).
    @exclusivity(unchecked) var slo: SLORing
    /// Latency of the history step being filled (1 s) and of the minute being filled: recorded
    /// beside `current` (three records a sample cost less than merging every node's step into
    /// two histograms every second: a merge walks the whole occupied range). Reset by the
    /// shard when the step or minute closes.
    @exclusivity(unchecked) var step = NodeHistogram()
    @exclusivity(unchecked) var errorsStep: UInt64 = 0
    @exclusivity(unchecked) var minute = NodeHistogram()
    /// Latency of the sub-window being filled (16-bit counters with carry, occupied octaves only).
    @exclusivity(unchecked) var current = NodeHistogram()
    /// The absolute sub-window (`floor(time / subWindowSeconds)`) that `current` holds.
    @exclusivity(unchecked) var sub = Int.min
    /// Finished sub-windows by `sub mod ringSize`, each tagged with its absolute sub-window, so
    /// a series rolls over when *it* records (lazily) and nothing walks every node at a
    /// boundary; a slot older than the window is simply not counted (and freed at snapshot).
    /// One array of whole slots: a roll writes one slot, not four arrays (a sparse replay
    /// rolls at nearly every sample).
    @exclusivity(unchecked) var ring: [RingSlot]
    @exclusivity(unchecked) var errorsCurrent: UInt64 = 0
    /// Requests since start by latency tier bucket (`TierBuckets`), with their count and sum:
    /// monotonic, for `edgetop serve`'s Prometheus histogram. Exact: compared at record time.
    @exclusivity(unchecked) var tierCumulative = [UInt64](repeating: 0, count: TierBuckets.upperBoundsMs.count)
    @exclusivity(unchecked) var requestsTotal: UInt64 = 0
    @exclusivity(unchecked) var latencySumMs: Double = 0
    @exclusivity(unchecked) var errorsTotal: UInt64 = 0
    /// Until when the window holds classic-bucket latency (its quantiles are bucket-bounded).
    var bucketBoundedUntil = -Double.infinity

    /// Whether steps and minutes are recorded (history on).
    let keepsSteps: Bool

    /// Seconds a sub-window spans (the SLO ring's minute of sub-window `w` is `⌊w·s / 60⌋`).
    private let subSeconds: Double

    init(source: SourceID, workload: WorkloadClass = .unclassified, goodBoundMs: Double = .infinity, ringSize: Int,
         subWindowSeconds: Double = 5, keepsSteps: Bool = true) {
        self.source = source
        self.workload = workload
        self.goodBoundMs = goodBoundMs
        self.keepsSteps = keepsSteps
        subSeconds = subWindowSeconds
        ring = [RingSlot](repeating: RingSlot(), count: ringSize)
        slo = SLORing()
    }

    /// The absolute minute sub-window `w` lies in.
    @inline(__always)
    func minute(ofSub w: Int) -> Int { Int((Double(w) * subSeconds / 60).rounded(.down)) }

    /// Brings the series to the shard's current sub-window `w` before it records.
    @inline(__always)
    func catchUp(_ w: Int) {
        if sub != w { roll(to: w) }
    }

    /// Files `current` under its sub-window and starts sub-window `w` (never earlier: late
    /// samples count in the current sub-window).
    @inline(never)
    func roll(to w: Int) {
        guard w > sub else { return }
        if sub != Int.min && (!current.isEmpty || current.rejected != 0 || errorsCurrent != 0) {
            ring[Self.slot(sub, ring.count)] = RingSlot(histogram: current.compacted(), sub: sub, errors: errorsCurrent, good: goodCurrent)
            current.reset()
            errorsCurrent = 0
            goodCurrent = 0
        }
        sub = w
        slo.roll(to: minute(ofSub: w))
    }

    static func slot(_ sub: Int, _ n: Int) -> Int { ((sub % n) + n) % n }

    /// Whether the open step holds anything.
    var stepHasData: Bool { !step.isEmpty || errorsStep != 0 || step.rejected != 0 }

    /// Starts the next step.
    func resetStep() {
        guard stepHasData else { return }
        step.reset()
        errorsStep = 0
    }

    @inline(__always)
    final func record(_ ms: Double, weight: UInt32) {
        if weight == 1 {
            current.record(ms)
            if keepsSteps { step.record(ms); minute.record(ms) }
        } else {
            let n = UInt64(weight)
            current.record(ms, count: n)
            if keepsSteps { step.record(ms, count: n); minute.record(ms, count: n) }
        }
        let n = UInt64(weight)
        if ms <= goodBoundMs { goodCurrent &+= n; slo.openGood &+= n }
        slo.openTotal &+= n
        tierCumulative[TierBuckets.index(ms)] &+= n
        requestsTotal &+= n
        latencySumMs += ms * Double(n)
    }

    @inline(__always)
    func recordErrors(_ n: UInt64) {
        errorsCurrent &+= n
        slo.openTotal &+= n  // a failed request is a bad event
        if keepsSteps { errorsStep &+= n }
        errorsTotal &+= n
    }

    /// Merges the window ending at sub-window `w` (it and the `ring.count` before it) into `h`;
    /// returns the window's errors and good requests. Sub-windows that have left the window are freed.
    func mergeWindow(into h: inout RollupHistogram, current w: Int) -> (errors: UInt64, good: UInt64) {
        let oldest = w - ring.count
        var errors: UInt64 = 0
        var good: UInt64 = 0
        if sub != Int.min && sub >= oldest {
            h.merge(current)
            errors &+= errorsCurrent
            good &+= goodCurrent
        } else if current.storageBytes > 0 || errorsCurrent != 0 || goodCurrent != 0 {
            current = NodeHistogram()  // a quiet series holds no counters
            errorsCurrent = 0
            goodCurrent = 0
            if step.isEmpty && step.storageBytes > 0 { step = NodeHistogram() }
            if minute.isEmpty && minute.storageBytes > 0 { minute = NodeHistogram() }
        }
        for k in ring.indices where ring[k].sub != Int.min {
            if ring[k].sub >= oldest && ring[k].sub < w {
                h.merge(ring[k].histogram)
                errors &+= ring[k].errors
                good &+= ring[k].good
            } else if ring[k].sub < oldest {
                ring[k] = RingSlot()
            }
        }
        return (errors, good)
    }

    var byteCount: Int {
        current.storageBytes + step.storageBytes + minute.storageBytes
            + ring.reduce(0) { $0 + $1.histogram.byteCount + MemoryLayout<RingSlot>.stride }
            + tierCumulative.count * 8 + slo.byteCount + 136
    }
}

/// A finished sub-window of a series: its latency, which sub-window it was (Int.min: none),
/// its errors and its good requests.
struct RingSlot {
    var histogram = CompactHistogram()
    var sub = Int.min
    var errors: UInt64 = 0
    var good: UInt64 = 0
}
