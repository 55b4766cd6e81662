extension LatencyHistogram {
    /// Adds every count of `other` into this histogram. Exact: element-wise addition of the
    /// counters plus exact sum/min/max, so merging is associative and commutative, and a
    /// quantile of the merge is the quantile of all the values together.
    @inlinable
    public mutating func merge<Other>(_ other: borrowing LatencyHistogram<Other>) {
        _rejected &+= other._rejected
        guard other._totalCount > 0 else { return }
        let lo = other.lowIndex, hi = other.highIndex
        reserve(lo, hi)
        let src = other._counts - other._base  // indexed by bucket: both windows cover lo...hi
        if Count.bitWidth >= 64 {
            // Roll-ups: plain adds over both buffers; a 64-bit counter wrapping is reported.
            let dst = _counts - _base
            for i in lo...hi {
                let (sum, wrapped) = dst[i].addingReportingOverflow(Count(truncatingIfNeeded: src[i]))
                dst[i] = sum
                if _slowPath(wrapped) { _carry[i, default: 0] &+= 1 }
            }
        } else {
            for i in lo...hi where src[i] != 0 { add(UInt64(src[i]), at: i) }
        }
        // Carries of narrow counters (a 64-bit counter never wraps in practice).
        if !other._carry.isEmpty && Other.bitWidth < 64 {
            for (i, c) in other._carry { add(c << UInt64(Other.bitWidth), at: i) }
        }
        absorbStatistics(totalCount: other._totalCount, sum: other._sum, min: other._min, max: other._max,
                         underflow: other._underflow, overflow: other._overflow)
    }

    /// Adds a compacted histogram (a finished sub-window) into this one.
    @inlinable
    public mutating func merge(_ other: CompactHistogram) {
        _rejected &+= other.rejected
        if other.single != 0 {
            add(UInt64(other.single & CompactHistogram.countMask), at: Int(other.single >> CompactHistogram.countBits))
        } else if let first = other.entries.first, let last = other.entries.last {
            reserve(Int(first >> CompactHistogram.countBits), Int(last >> CompactHistogram.countBits))
            for e in other.entries { add(UInt64(e & CompactHistogram.countMask), at: Int(e >> CompactHistogram.countBits)) }
        }
        if let x = other.extras {
            for (j, c) in x.carry { add(c, at: j) }
        }
        absorbStatistics(totalCount: other.totalCount, sum: other.sum, min: other.min, max: other.max,
                         underflow: other.underflow, overflow: other.overflow)
    }

    @inlinable
    mutating func absorbStatistics(totalCount: UInt64, sum: Double, min: Double, max: Double,
                                   underflow: UInt64, overflow: UInt64) {
        _totalCount &+= totalCount
        _sum += sum
        if min < _min { _min = min }
        if max > _max { _max = max }
        _underflow &+= underflow
        _overflow &+= overflow
    }

    /// A copy holding only the occupied buckets (a finished sub-window costs bytes in
    /// proportion to the buckets its values fell in, not to their spread, and none on the heap
    /// when they all fell in one).
    @inlinable
    public func compacted() -> CompactHistogram {
        let extras = CompactHistogram.Extras(carry: [:], underflow: _underflow, overflow: _overflow, rejected: _rejected)
        let lo = lowIndex, hi = highIndex
        // One occupied bucket and nothing rare (a quiet node's sub-window): no scan, no box.
        // Its count is the total, whether or not it overflowed into `_carry` on the way.
        if extras.isEmpty && _totalCount > 0 && lo == hi && _totalCount <= UInt64(CompactHistogram.countMask) {
            return CompactHistogram(single: UInt32(lo) << CompactHistogram.countBits | UInt32(_totalCount),
                                    totalCount: _totalCount, sum: _sum, min: _min, max: _max)
        }
        guard _totalCount > 0 else { return CompactHistogram(extras: extras) }
        var occupied = 0, only: UInt32 = 0
        var carry: [Int: UInt64] = [:]
        for i in lo...hi {
            let c = count(at: i)
            guard c != 0 else { continue }
            if c <= UInt64(CompactHistogram.countMask) {
                occupied += 1
                only = UInt32(i) << CompactHistogram.countBits | UInt32(c)
            } else {
                carry[i] = c
            }
        }
        var x = extras
        x.carry = carry
        guard occupied > 1 else {
            return CompactHistogram(single: only, totalCount: _totalCount, sum: _sum, min: _min, max: _max, extras: x)
        }
        let entries = [UInt32](unsafeUninitializedCapacity: occupied) { buffer, initialized in
            var k = 0
            for i in lo...hi {
                let c = count(at: i)
                if c != 0 && c <= UInt64(CompactHistogram.countMask) {
                    buffer[k] = UInt32(i) << CompactHistogram.countBits | UInt32(c)
                    k += 1
                }
            }
            initialized = k
        }
        return CompactHistogram(entries: entries, totalCount: _totalCount, sum: _sum, min: _min, max: _max, extras: x)
    }
}

/// An immutable histogram holding only its occupied buckets; what the sliding window keeps for
/// each finished sub-window. A sub-window's values rarely fill a fifth of the buckets between
/// its lowest and highest, so each occupied bucket is one 32-bit entry (bucket index and
/// count) rather than the whole range; a sub-window whose values share one bucket (a quiet
/// node's one request) holds it inline, with nothing on the heap.
public struct CompactHistogram: Sendable {
    /// Bits of an entry that hold the count; the bucket index is above them.
    @usableFromInline static let countBits: UInt32 = 20
    @usableFromInline static let countMask: UInt32 = (1 << 20) - 1

    /// The rare parts: counts too large for an entry, and out-of-range and rejected values.
    public struct Extras: Sendable {
        public var carry: [Int: UInt64]
        public var underflow: UInt64
        public var overflow: UInt64
        public var rejected: UInt64
        @usableFromInline var isEmpty: Bool { carry.isEmpty && underflow == 0 && overflow == 0 && rejected == 0 }
        @inlinable public init(carry: [Int: UInt64], underflow: UInt64, overflow: UInt64, rejected: UInt64) {
            self.carry = carry; self.underflow = underflow; self.overflow = overflow; self.rejected = rejected
        }
    }

    /// Occupied buckets in ascending order, each `index << countBits | count` (empty when
    /// `single` holds the only one).
    @usableFromInline let entries: [UInt32]
    /// The only occupied bucket's entry, or 0 (a count is never 0).
    @usableFromInline let single: UInt32
    public let totalCount: UInt64
    public let sum: Double
    public let min: Double
    public let max: Double
    /// Boxed, and nil when empty, so the common sub-window stays small.
    @usableFromInline let box: ExtrasBox?

    @usableFromInline final class ExtrasBox: Sendable {
        @usableFromInline let value: Extras
        @usableFromInline init(_ value: Extras) { self.value = value }
    }

    @inlinable
    public init(entries: [UInt32] = [], single: UInt32 = 0, totalCount: UInt64 = 0, sum: Double = 0,
                min: Double = .infinity, max: Double = -.infinity, extras: Extras? = nil) {
        self.entries = entries; self.single = single; self.totalCount = totalCount
        self.sum = sum; self.min = min; self.max = max
        box = extras.flatMap { $0.isEmpty ? nil : ExtrasBox($0) }
    }

    @inlinable var extras: Extras? { box?.value }
    /// Buckets whose count does not fit an entry, with their counts.
    public var carry: [Int: UInt64] { box?.value.carry ?? [:] }
    public var underflow: UInt64 { box?.value.underflow ?? 0 }
    public var overflow: UInt64 { box?.value.overflow ?? 0 }
    public var rejected: UInt64 { box?.value.rejected ?? 0 }

    /// How many buckets hold a count.
    public var occupiedBuckets: Int { (single != 0 ? 1 : entries.count) + carry.count }

    /// Bytes of counter storage on the heap (for the memory figures in `edgetop bench`).
    public var byteCount: Int { entries.count * MemoryLayout<UInt32>.stride }
}
