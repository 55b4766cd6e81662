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
        if !other.counts.isEmpty { reserve(other.lowIndex, other.lowIndex + other.counts.count - 1) }
        var i = other.lowIndex
        for c in other.counts {
            if c != 0 { add(UInt64(c), at: i) }
            i += 1
        }
        for (j, c) in other.carry { add(c, at: j) }
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

    /// A copy holding only the occupied bucket range (a finished sub-window costs bytes
    /// proportional to the spread of its values, not the full layout).
    @inlinable
    public func compacted() -> CompactHistogram {
        guard _totalCount > 0 else { return CompactHistogram(rejected: _rejected) }
        let lo = lowIndex, hi = highIndex
        var slice = [UInt32](repeating: 0, count: hi - lo + 1)
        var carry: [Int: UInt64] = [:]
        for i in lo...hi {
            let c = count(at: i)
            if c <= UInt64(UInt32.max) { slice[i - lo] = UInt32(c) } else { carry[i] = c }
        }
        return CompactHistogram(lowIndex: lo, counts: slice, carry: carry, totalCount: _totalCount, sum: _sum,
                                min: _min, max: _max, underflow: _underflow, overflow: _overflow, rejected: _rejected)
    }
}

/// An immutable histogram holding only its occupied bucket range; what the sliding window keeps
/// for each finished sub-window.
public struct CompactHistogram: Sendable {
    public let lowIndex: Int
    public let counts: [UInt32]
    /// Buckets whose count does not fit 32 bits (their `counts` entry is 0).
    public let carry: [Int: UInt64]
    public let totalCount: UInt64
    public let sum: Double
    public let min: Double
    public let max: Double
    public let underflow: UInt64
    public let overflow: UInt64
    public let rejected: UInt64

    public init(lowIndex: Int = 0, counts: [UInt32] = [], carry: [Int: UInt64] = [:], totalCount: UInt64 = 0,
                sum: Double = 0, min: Double = .infinity, max: Double = -.infinity, underflow: UInt64 = 0,
                overflow: UInt64 = 0, rejected: UInt64 = 0) {
        self.lowIndex = lowIndex; self.counts = counts; self.carry = carry; self.totalCount = totalCount
        self.sum = sum; self.min = min; self.max = max; self.underflow = underflow; self.overflow = overflow
        self.rejected = rejected
    }

    /// Bytes of counter storage (for the memory figures in `edgetop bench`).
    public var byteCount: Int { counts.count * MemoryLayout<UInt32>.stride }
}
