/// A fixed-size latency histogram (milliseconds) with exact counts, sum, min and max.
///
/// Storage is allocated once at `init`; `record` is O(1), allocation-free and lock-free — the
/// owner serialises access (in edgetop: the region's serial queue). The type is non-copyable:
/// a histogram has exactly one owner, so recording needs no copy-on-write check (that check
/// was a third of the cost of a record); `copy()` and `compacted()` make explicit copies. The counter width is a type
/// parameter: nodes keep 16-bit counters to stay within the memory budget, roll-ups 64-bit.
/// A counter that would wrap carries into a small side table instead, so counts stay exact
/// whatever the width (the table is allocated at most once per 65,536 samples in one bucket).
///
/// Out-of-range values are clamped into the first or last bucket and counted in `underflow` /
/// `overflow`; NaN, infinite and negative values are rejected and counted in `rejected`. None is
/// silently dropped.
///
/// Quantiles use the **nearest-rank** definition: the q-quantile of n recorded values is the
/// smallest recorded value v such that at least ⌈q·n⌉ values are ≤ v (rank 1 for q = 0). The
/// histogram returns the midpoint of the bucket holding that rank, clamped to the exact
/// [min, max]; for values within the trackable range this is within 0.79 % (< 1 %) relative
/// error of the exact nearest-rank quantile. Ranks that fall among clamped out-of-range values
/// report the exact min or max.
public struct LatencyHistogram<Count: FixedWidthInteger & UnsignedInteger & Sendable>: ~Copyable {
    /// Bucket counters, `HistogramLayout.bucketCount` of them (a copy; carries not included:
    /// use `count(at:)` for the exact count of a bucket).
    public var counts: [Count] { Array(UnsafeBufferPointer(start: _counts, count: HistogramLayout.bucketCount)) }
    /// Owned counter storage, freed in `deinit`.
    @usableFromInline let _counts: UnsafeMutablePointer<Count>
    /// Carries of counters that wrapped: bucket → how many times it wrapped (each worth
    /// 2^bitWidth). Empty in practice.
    @usableFromInline var _carry: [Int: UInt64] = [:]
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

    @inlinable
    public init() {
        _counts = .allocate(capacity: HistogramLayout.bucketCount)
        // Zero the bytes in one go (a generic element-wise initialise costs a call per counter).
        UnsafeMutableRawPointer(_counts).initializeMemory(
            as: UInt8.self, repeating: 0, count: HistogramLayout.bucketCount * MemoryLayout<Count>.stride)
    }

    deinit { _counts.deallocate() }

    /// An independent copy.
    @inlinable
    public func copy() -> LatencyHistogram<Count> {
        var c = LatencyHistogram<Count>()
        c._counts.update(from: _counts, count: HistogramLayout.bucketCount)
        c._carry = _carry; c._totalCount = _totalCount; c._sum = _sum; c._min = _min; c._max = _max
        c._underflow = _underflow; c._overflow = _overflow; c._rejected = _rejected
        return c
    }

    public var isEmpty: Bool { _totalCount == 0 }

    /// Lowest occupied bucket (derived from the exact min, so `record` need not track it);
    /// greater than `highIndex` when empty.
    @inlinable public var lowIndex: Int { _totalCount == 0 ? 1 : HistogramLayout.clampedIndex(_min) }
    /// Highest occupied bucket.
    @inlinable public var highIndex: Int { _totalCount == 0 ? 0 : HistogramLayout.clampedIndex(_max) }

    /// The exact count of bucket `i`, carries included.
    @inlinable
    public func count(at i: Int) -> UInt64 {
        if _carry.isEmpty || Count.bitWidth >= 64 { return UInt64(_counts[i]) }
        return UInt64(_counts[i]) &+ ((_carry[i] ?? 0) << UInt64(Count.bitWidth))
    }

    /// Records one value (milliseconds).
    @inlinable
    public mutating func record(_ value: Double) {
        // One unsigned compare admits exactly the finite values in range: below-range values
        // give a negative key, negative values (sign bit) and NaN/inf give a key past the end.
        let key = Int(truncatingIfNeeded: value.bitPattern >> HistogramLayout.shift) &- HistogramLayout.baseKey
        guard _fastPath(UInt(bitPattern: key) < UInt(HistogramLayout.bucketCount)) else {
            recordOutOfRange(value, count: 1)
            return
        }
        let c = _counts[key] &+ 1
        _counts[key] = c
        if _slowPath(c == 0) { _carry[key, default: 0] &+= 1 }
        _totalCount &+= 1
        _sum += value
        if value < _min { _min = value }
        if value > _max { _max = value }
    }

    /// Records `count` occurrences of one value (a sampled StatsD timing, a replayed bucket).
    @inlinable
    public mutating func record(_ value: Double, count: UInt64) {
        guard count > 0 else { return }
        let key = Int(truncatingIfNeeded: value.bitPattern >> HistogramLayout.shift) &- HistogramLayout.baseKey
        guard UInt(bitPattern: key) < UInt(HistogramLayout.bucketCount) else {
            recordOutOfRange(value, count: count)
            return
        }
        absorb(value, count: count, at: key)
    }

    @inlinable @inline(never)
    mutating func recordOutOfRange(_ value: Double, count: UInt64) {
        let index: Int
        if value >= 0 && value < HistogramLayout.lowestTrackable {
            index = 0
            _underflow &+= count
        } else if value >= HistogramLayout.highestTrackable && value.isFinite {
            index = HistogramLayout.bucketCount - 1
            _overflow &+= count
        } else {
            _rejected &+= count  // NaN, ±infinity, negative
            return
        }
        absorb(value, count: count, at: index)
    }

    /// Counts `count` occurrences of `value` in bucket `index`, with the exact statistics.
    /// (`record(_:)` spells this out for one value: it is the hot path.)
    @inlinable
    mutating func absorb(_ value: Double, count: UInt64, at index: Int) {
        add(count, at: index)
        _totalCount &+= count
        _sum += value * Double(count)
        if value < _min { _min = value }
        if value > _max { _max = value }
    }

    /// Adds `amount` to bucket `index`, carrying whatever does not fit the counter.
    @inlinable
    mutating func add(_ amount: UInt64, at index: Int) {
        let width = UInt64(Count.bitWidth)
        if width >= 64 {
            let (next, wrapped) = _counts[index].addingReportingOverflow(Count(truncatingIfNeeded: amount))
            _counts[index] = next
            if wrapped { _carry[index, default: 0] &+= 1 }
            return
        }
        let modulus = UInt64(1) << width
        let total = UInt64(_counts[index]) &+ amount
        _counts[index] = Count(truncatingIfNeeded: total & (modulus - 1))
        let carried = total >> width
        if carried > 0 { _carry[index, default: 0] &+= carried }
    }

    /// Clears all counts; touches only the occupied range, so it is cheap for sparse data.
    @inlinable
    public mutating func reset() {
        if _totalCount > 0 {
            for i in lowIndex...highIndex { _counts[i] = 0 }
        }
        if !_carry.isEmpty { _carry.removeAll() }
        _totalCount = 0; _sum = 0; _min = .infinity; _max = -.infinity
        _underflow = 0; _overflow = 0; _rejected = 0
    }
}

// Sole ownership makes sending a histogram to another thread a transfer, never a share.
extension LatencyHistogram: @unchecked Sendable {}

/// Per-node histogram: 16-bit counters keep a node's current sub-window at 3.5 KB.
public typealias NodeHistogram = LatencyHistogram<UInt16>
/// Roll-up histogram for sites, regions and the fleet.
public typealias RollupHistogram = LatencyHistogram<UInt64>
