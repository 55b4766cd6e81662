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
    /// The newest step each region has contributed (short, long): a step every region has
    /// passed is complete and leaves `pending`. Regions run ahead of one another (a replay
    /// feeds them as fast as each queue goes), so a lagging region's steps still count.
    private var latestShort: [Int32: Int] = [:]
    private var latestLong: [Int32: Int] = [:]

    /// How many regions contribute (every shard, from its creation).
    private var regions = 0

    init(config: HistoryConfig) { rings = HistoryRings(config: config, wide: true, detail: false) }

    /// Says how many regions there are: a step is complete once each has passed it.
    func setRegions(_ n: Int) {
        lock.lock(); regions = max(regions, n); lock.unlock()
    }

    func contribute(region: Int32, step: Int, long: Bool, histogram: CompactHistogram, totals: StepTotals) {
        lock.lock(); defer { lock.unlock() }
        let ring = long ? rings.long : rings.short
        if long { latestLong[region] = step } else { latestShort[region] = step }
        if ring.newest != Int.min && step <= ring.newest - ring.capacity { return }
        let entry: Pending
        if let e = (long ? pendingLong : pendingShort)[step] { entry = e } else {
            entry = Pending()
            if long { pendingLong[step] = entry } else { pendingShort[step] = entry }
        }
        entry.histogram.merge(histogram)
        entry.totals.add(totals)
        let q = entry.histogram.stepQuantiles()
        rings.write(step, entry.totals.step(p50: q.p50, p99: q.p99), long: long)
        // Complete steps (every region past them) and steps older than the ring are let go.
        let latest = long ? latestLong : latestShort
        let complete = latest.count >= regions ? latest.values.min() ?? step : Int.min
        let written = long ? rings.long : rings.short
        let floor = max(complete, written.newest - written.capacity)
        if long {
            if pendingLong.keys.contains(where: { $0 <= floor }) { pendingLong = pendingLong.filter { $0.key > floor } }
        } else if pendingShort.keys.contains(where: { $0 <= floor }) {
            pendingShort = pendingShort.filter { $0.key > floor }
        }
    }

    func series(_ span: HistorySpan, at now: Double) -> HistorySeries {
        lock.lock(); defer { lock.unlock() }
        return rings.series(span, at: now)
    }

    var byteCount: Int { rings.byteCount }

    func fill() { lock.lock(); rings.fill(); lock.unlock() }
}
