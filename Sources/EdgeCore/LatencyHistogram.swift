/// A latency histogram (milliseconds) on a fixed bucket layout, with exact counts, sum, min and max.
///
/// Counters are stored only for a window of the layout that covers what was recorded, grown
/// an octave (64 buckets) at a time: a node whose requests span 20–800 ms holds ~8 octaves
/// (1 KB of 16-bit counters) instead of all 27 (3.5 KB), and one that never saw a request
/// holds none. Growth is rare (a value outside every earlier one's octaves) and after it
/// `record` is O(1), allocation-free and lock-free — the owner serialises access (in
/// edgetop: the region's serial queue). The type is non-copyable:
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
    public var counts: [Count] {
        var all = [Count](repeating: 0, count: HistogramLayout.bucketCount)
        for k in 0..<_capacity { all[_base + k] = _counts[k] }
        return all
    }
    /// Owned counter storage for buckets `_base ..< _base + _capacity`, freed in `deinit`.
    @usableFromInline var _counts: UnsafeMutablePointer<Count>
    /// Layout index of `_counts[0]`.
    @usableFromInline var _base = 0
    /// Buckets stored (0 until the first value).
    @usableFromInline var _capacity = 0
    /// Bytes of counter storage held.
    public var storageBytes: Int { _capacity * MemoryLayout<Count>.stride }
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

    /// An empty histogram; it holds no counters until the first value.
    @inlinable
    public init() {
        // Nothing on the heap until the first value: a series' step and minute histograms
        // stay empty with history off, and a replay creates 44k series at once.
        _counts = UnsafeMutablePointer(bitPattern: MemoryLayout<Count>.alignment)!
    }

    deinit { if _capacity > 0 { _counts.deallocate() } }

    /// An independent copy.
    @inlinable
    public func copy() -> LatencyHistogram<Count> {
        var c = LatencyHistogram<Count>()
        if _capacity > 0 {
            c.reserve(_base, _base + _capacity - 1)
            (c._counts + (_base - c._base)).update(from: _counts, count: _capacity)
        }
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
        let slot = i &- _base
        guard UInt(bitPattern: slot) < UInt(bitPattern: _capacity) else { return 0 }
        if _carry.isEmpty || Count.bitWidth >= 64 { return UInt64(_counts[slot]) }
        return UInt64(_counts[slot]) &+ ((_carry[i] ?? 0) << UInt64(Count.bitWidth))
    }

    /// Makes the stored window cover buckets `lo...hi` (whole octaves; see `spare`), keeping
    /// the counts.
    @inlinable @inline(never)
    public mutating func reserve(_ lo: Int, _ hi: Int) {
        let end = _base + _capacity
        if _capacity > 0 && lo >= _base && hi < end { return }
        let octave = 1 << Int(HistogramLayout.mantissaBits)
        // Roll-ups keep a spare octave each side (they grow while merging many nodes); node
        // histograms, thousands of them held for the window, take only the octaves they use.
        let spare = Count.bitWidth >= 64 ? 1 : 0
        var newLo = (lo / octave - spare) * octave, newEnd = (hi / octave + 1 + spare) * octave
        if _capacity > 0 {
            newLo = lo < _base ? Swift.min(newLo, _base) : _base
            newEnd = hi >= end ? Swift.max(newEnd, end) : end
        }
        newLo = Swift.max(0, newLo)
        newEnd = Swift.min(HistogramLayout.bucketCount, newEnd)
        let grown = UnsafeMutablePointer<Count>.allocate(capacity: newEnd - newLo)
        // Zero the bytes in one go (a generic element-wise initialise costs a call per counter).
        UnsafeMutableRawPointer(grown).initializeMemory(as: UInt8.self, repeating: 0,
                                                        count: (newEnd - newLo) * MemoryLayout<Count>.stride)
        if _capacity > 0 { (grown + (_base - newLo)).update(from: _counts, count: _capacity) }
        if _capacity > 0 { _counts.deallocate() }
        _counts = grown
        _base = newLo
        _capacity = newEnd - newLo
    }

    /// Records one value (milliseconds).
    @inlinable
    public mutating func record(_ value: Double) {
        // One unsigned compare admits exactly the finite values in range: below-range values
        // give a negative key, negative values (sign bit) and NaN/inf give a key past the end.
        // The window lies inside the layout, so a slot inside the window is a valid bucket;
        // anything else (outside the window, out of range, rejected) takes the general path.
        let key = Int(truncatingIfNeeded: value.bitPattern >> HistogramLayout.shift) &- HistogramLayout.baseKey
        let slot = key &- _base
        guard _fastPath(UInt(bitPattern: slot) < UInt(bitPattern: _capacity)) else {
            record(value, count: 1)
            return
        }
        let c = _counts[slot] &+ 1
        _counts[slot] = c
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
        var slot = index &- _base
        if _slowPath(UInt(bitPattern: slot) >= UInt(bitPattern: _capacity)) {
            reserve(index, index)
            slot = index &- _base
        }
        let width = UInt64(Count.bitWidth)
        if width >= 64 {
            let (next, wrapped) = _counts[slot].addingReportingOverflow(Count(truncatingIfNeeded: amount))
            _counts[slot] = next
            if wrapped { _carry[index, default: 0] &+= 1 }
            return
        }
        let modulus = UInt64(1) << width
        let total = UInt64(_counts[slot]) &+ amount
        _counts[slot] = Count(truncatingIfNeeded: total & (modulus - 1))
        let carried = total >> width
        if carried > 0 { _carry[index, default: 0] &+= carried }
    }

    /// Clears all counts; touches only the occupied range, so it is cheap for sparse data.
    @inlinable
    public mutating func reset() {
        if _totalCount > 0 {
            for i in lowIndex...highIndex { _counts[i &- _base] = 0 }
        }
        if !_carry.isEmpty { _carry.removeAll() }
        _totalCount = 0; _sum = 0; _min = .infinity; _max = -.infinity
        _underflow = 0; _overflow = 0; _rejected = 0
    }
}

// Sole ownership makes sending a histogram to another thread a transfer, never a share.
extension LatencyHistogram: @unchecked Sendable {}

/// Per-node histogram: 16-bit counters over the occupied octaves keep a node's current
/// sub-window near 1 KB.
public typealias NodeHistogram = LatencyHistogram<UInt16>
/// Roll-up histogram for sites, regions and the fleet.
public typealias RollupHistogram = LatencyHistogram<UInt64>
