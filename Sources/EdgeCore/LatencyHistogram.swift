/// A fixed-size latency histogram (milliseconds) with exact counts, sum, min and max.
///
/// Storage is allocated once at `init`; `record` is O(1), allocation-free and lock-free — the
/// owner serialises access (in edgetop: the region's serial queue). The counter width is a type
/// parameter: nodes keep `UInt32` counters to stay within the memory budget, roll-ups use
/// `UInt64`.
///
/// Out-of-range values are clamped into the first or last bucket and counted in `underflow` /
/// `overflow`; NaN, infinite and negative values are rejected and counted in `rejected`. None is
/// silently dropped.
///
/// Quantiles use the **nearest-rank** definition: the q-quantile of n recorded values is the
/// smallest recorded value v such that at least ⌈q·n⌉ values are ≤ v (rank 1 for q = 0). The
/// histogram returns the midpoint of the bucket holding that rank, clamped to the exact
/// [min, max]; for values within the trackable range this is within 0.79 % (< 1 %) relative
/// error of the exact nearest-rank quantile.
public struct LatencyHistogram<Count: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    /// Bucket counters, `HistogramLayout.bucketCount` of them.
    public var counts: [Count] { _counts }
    @usableFromInline var _counts: [Count]
    /// Number of values recorded (clamped ones included, rejected ones not).
    public var totalCount: UInt64 { _totalCount }
    @usableFromInline var _totalCount: UInt64 = 0
    /// Exact sum of recorded values, in milliseconds.
    public var sum: Double { _sum }
    @usableFromInline var _sum: Double = 0
    /// Exact smallest recorded value (`+infinity` when empty).
    public var min: Double { _min }
    @usableFromInline var _min: Double = .infinity
    /// Exact largest recorded value (`-infinity` when empty).
    public var max: Double { _max }
    @usableFromInline var _max: Double = -.infinity
    /// Values below `HistogramLayout.lowestTrackable`, kept in the first bucket.
    public var underflow: UInt64 { _underflow }
    @usableFromInline var _underflow: UInt64 = 0
    /// Values at or above `HistogramLayout.highestTrackable`, kept in the last bucket.
    public var overflow: UInt64 { _overflow }
    @usableFromInline var _overflow: UInt64 = 0
    /// NaN, infinite or negative inputs, not recorded.
    public var rejected: UInt64 { _rejected }
    @usableFromInline var _rejected: UInt64 = 0
    /// Increments lost because one bucket hit `Count.max` (only possible for narrow counters).
    public var saturated: UInt64 { _saturated }
    @usableFromInline var _saturated: UInt64 = 0
    /// Lowest and highest bucket touched since the last reset, so merges and resets only
    /// visit the occupied range. `lowIndex > highIndex` when empty.
    public var lowIndex: Int { _lowIndex }
    @usableFromInline var _lowIndex: Int = Int.max
    public var highIndex: Int { _highIndex }
    @usableFromInline var _highIndex: Int = -1

    public init() {
        _counts = [Count](repeating: 0, count: HistogramLayout.bucketCount)
    }

    public var isEmpty: Bool { totalCount == 0 }

    /// Records one value (milliseconds).
    @inlinable
    public mutating func record(_ value: Double) {
        let index: Int
        if value >= HistogramLayout.lowestTrackable && value < HistogramLayout.highestTrackable {
            index = HistogramLayout.index(ofTrackable: value)
        } else if value >= 0 && value < HistogramLayout.lowestTrackable {
            index = 0
            _underflow &+= 1
        } else if value >= HistogramLayout.highestTrackable && value.isFinite {
            index = HistogramLayout.bucketCount - 1
            _overflow &+= 1
        } else {
            _rejected &+= 1  // NaN, ±infinity, negative
            return
        }
        bump(index, by: 1)
        _totalCount &+= 1
        _sum += value
        if value < _min { _min = value }
        if value > _max { _max = value }
    }

    /// Records `count` occurrences of one value (a sampled StatsD timing, a replayed bucket).
    @inlinable
    public mutating func record(_ value: Double, count: UInt64) {
        guard count > 0 else { return }
        let index: Int
        if value >= HistogramLayout.lowestTrackable && value < HistogramLayout.highestTrackable {
            index = HistogramLayout.index(ofTrackable: value)
        } else if value >= 0 && value < HistogramLayout.lowestTrackable {
            index = 0
            _underflow &+= count
        } else if value >= HistogramLayout.highestTrackable && value.isFinite {
            index = HistogramLayout.bucketCount - 1
            _overflow &+= count
        } else {
            _rejected &+= count
            return
        }
        bump(index, by: count)
        _totalCount &+= count
        _sum += value * Double(count)
        if value < _min { _min = value }
        if value > _max { _max = value }
    }

    @inlinable @inline(__always)
    mutating func bump(_ index: Int, by amount: UInt64) {
        let (next, overflowed) = _counts[index].addingReportingOverflow(Count(truncatingIfNeeded: amount))
        if overflowed || UInt64(truncatingIfNeeded: Count.max) < amount {
            _counts[index] = Count.max
            _saturated &+= amount
        } else {
            _counts[index] = next
        }
        if index < _lowIndex { _lowIndex = index }
        if index > _highIndex { _highIndex = index }
    }

    /// Clears all counts; touches only the occupied range, so it is cheap for sparse data.
    public mutating func reset() {
        if _lowIndex <= _highIndex {
            for i in _lowIndex..._highIndex { _counts[i] = 0 }
        }
        _totalCount = 0; _sum = 0; _min = .infinity; _max = -.infinity
        _underflow = 0; _overflow = 0; _rejected = 0; _saturated = 0
        _lowIndex = Int.max; _highIndex = -1
    }
}

/// Per-node histogram: 32-bit counters keep a node's current sub-window at 6.9 KB.
public typealias NodeHistogram = LatencyHistogram<UInt32>
/// Roll-up histogram for sites, regions and the fleet.
public typealias RollupHistogram = LatencyHistogram<UInt64>
