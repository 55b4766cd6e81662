extension LatencyHistogram {
    /// Adds every count of `other` into this histogram. Exact: element-wise addition of the
    /// counters plus exact sum/min/max, so merging is associative and commutative, and a
    /// quantile of the merge is the quantile of all the values together.
    @inlinable
    public mutating func merge<Other>(_ other: LatencyHistogram<Other>) {
        guard other.lowIndex <= other.highIndex else {
            _rejected &+= other.rejected
            return
        }
        for i in other.lowIndex...other.highIndex where other.counts[i] != 0 {
            bump(i, by: UInt64(other.counts[i]))
        }
        absorbStatistics(totalCount: other.totalCount, sum: other.sum, min: other.min, max: other.max,
                         underflow: other.underflow, overflow: other.overflow,
                         rejected: other.rejected, saturated: other.saturated)
    }

    /// Adds a compacted histogram (a finished sub-window) into this one.
    @inlinable
    public mutating func merge(_ other: CompactHistogram) {
        var i = other.lowIndex
        for c in other.counts {
            if c != 0 { bump(i, by: UInt64(c)) }
            i += 1
        }
        absorbStatistics(totalCount: other.totalCount, sum: other.sum, min: other.min, max: other.max,
                         underflow: other.underflow, overflow: other.overflow,
                         rejected: other.rejected, saturated: 0)
    }

    @inlinable
    mutating func absorbStatistics(totalCount: UInt64, sum: Double, min: Double, max: Double,
                                   underflow: UInt64, overflow: UInt64, rejected: UInt64, saturated: UInt64) {
        self._totalCount &+= totalCount
        self._sum += sum
        if min < self._min { self._min = min }
        if max > self._max { self._max = max }
        self._underflow &+= underflow
        self._overflow &+= overflow
        self._rejected &+= rejected
        self._saturated &+= saturated
    }

    /// A copy holding only the occupied bucket range (a finished sub-window costs bytes
    /// proportional to the spread of its values, not the full layout).
    public func compacted() -> CompactHistogram {
        guard lowIndex <= highIndex else { return CompactHistogram(rejected: rejected) }
        var slice = [UInt32]()
        slice.reserveCapacity(highIndex - lowIndex + 1)
        for i in lowIndex...highIndex {
            slice.append(UInt32(clamping: UInt64(counts[i])))
        }
        return CompactHistogram(lowIndex: lowIndex, counts: slice, totalCount: totalCount, sum: sum,
                                min: min, max: max, underflow: underflow, overflow: overflow, rejected: rejected)
    }
}

/// An immutable histogram holding only its occupied bucket range; what the sliding window keeps
/// for each finished sub-window.
public struct CompactHistogram: Sendable {
    public let lowIndex: Int
    public let counts: [UInt32]
    public let totalCount: UInt64
    public let sum: Double
    public let min: Double
    public let max: Double
    public let underflow: UInt64
    public let overflow: UInt64
    public let rejected: UInt64

    public init(lowIndex: Int = 0, counts: [UInt32] = [], totalCount: UInt64 = 0, sum: Double = 0,
                min: Double = .infinity, max: Double = -.infinity, underflow: UInt64 = 0,
                overflow: UInt64 = 0, rejected: UInt64 = 0) {
        self.lowIndex = lowIndex; self.counts = counts; self.totalCount = totalCount; self.sum = sum
        self.min = min; self.max = max; self.underflow = underflow; self.overflow = overflow
        self.rejected = rejected
    }

    /// Bytes of counter storage (for the memory figures in `edgetop bench`).
    public var byteCount: Int { counts.count * MemoryLayout<UInt32>.stride }
}
