import EdgeCore
import Foundation

/// The fleet's own rings. Each region shard contributes its step (and minute) histogram when it
/// closes one; the fleet's step is the merge of every region's, so fleet p99 is the p99 of all
/// the fleet's requests in that step, never a mean of region p99s. Contributions come once per
/// region per step (not per sample), under a lock.
public final class FleetHistory: @unchecked Sendable {
    private final class Pending {
        var histogram = RollupHistogram()
        var totals = StepTotals()
    }

    private let lock = NSLock()
    private let rings: HistoryRings
    /// Steps still open to late regions: the newest few, by step index.
    private var pendingShort: [Int: Pending] = [:]
    private var pendingLong: [Int: Pending] = [:]
    /// How many steps back a slow region may still contribute.
    static let lateSteps = 8

    init(config: HistoryConfig) { rings = HistoryRings(config: config, wide: true) }

    func contribute(step: Int, long: Bool, histogram: CompactHistogram, totals: StepTotals) {
        lock.lock(); defer { lock.unlock() }
        let ring = long ? rings.long : rings.short
        if ring.newest != Int.min && step <= ring.newest - Self.lateSteps { return }
        let entry: Pending
        if let e = (long ? pendingLong : pendingShort)[step] { entry = e } else {
            entry = Pending()
            if long { pendingLong[step] = entry } else { pendingShort[step] = entry }
        }
        entry.histogram.merge(histogram)
        entry.totals.add(totals)
        let q = entry.histogram.stepQuantiles()
        ring.write(step, entry.totals.step(p50: q.p50, p99: q.p99))
        let floor = ring.newest - Self.lateSteps
        if long { pendingLong = pendingLong.filter { $0.key > floor } } else if pendingShort.count > 2 * Self.lateSteps {
            pendingShort = pendingShort.filter { $0.key > floor }
        }
    }

    func series(_ span: HistorySpan, at now: Double) -> HistorySeries {
        lock.lock(); defer { lock.unlock() }
        return rings.series(span, at: now)
    }

    var byteCount: Int { rings.byteCount }
}
