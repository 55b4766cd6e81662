/// The latency figures operators read: count and nearest-rank p50/p90/p99, exact min/max/mean.
@frozen
public struct LatencySummary: Sendable, Equatable {
    public var count: UInt64
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var min: Double
    public var max: Double
    public var mean: Double
    /// True when the quantiles are bounded by coarse buckets (Prometheus classic histograms)
    /// rather than within 1 % of exact.
    public var bucketBounded: Bool

    public init(count: UInt64, p50: Double, p90: Double, p99: Double, min: Double, max: Double,
                mean: Double, bucketBounded: Bool = false) {
        self.count = count; self.p50 = p50; self.p90 = p90; self.p99 = p99
        self.min = min; self.max = max; self.mean = mean; self.bucketBounded = bucketBounded
    }

    /// No samples in the window.
    public static let empty = LatencySummary(count: 0, p50: .nan, p90: .nan, p99: .nan, min: .nan,
                                             max: .nan, mean: .nan)
}

extension LatencyHistogram {
    /// Nearest-rank rank of quantile `q` among `n` values: ⌈q·n⌉, at least 1.
    @inlinable
    static func rank(_ q: Double, of n: UInt64) -> UInt64 {
        let r = (q * Double(n)).rounded(.up)
        return Swift.max(1, Swift.min(n, UInt64(r)))
    }

    /// The nearest-rank q-quantile (0 ≤ q ≤ 1), within 1 % of exact; NaN when empty.
    /// A rank that falls among clamped out-of-range values reports the exact min or max.
    @inlinable
    public func quantile(_ q: Double) -> Double {
        guard totalCount > 0, lowIndex <= highIndex else { return .nan }
        return value(atRank: Self.rank(Swift.min(Swift.max(q, 0), 1), of: totalCount))
    }

    /// The value at nearest rank `target` (1-based).
    @inlinable
    func value(atRank target: UInt64) -> Double {
        if target <= underflow || target == 1 { return min }
        if target > totalCount &- overflow || target == totalCount { return max }
        var cumulative: UInt64 = 0
        for i in lowIndex...highIndex {
            cumulative &+= count(at: i)
            if cumulative >= target { return clampToRange(HistogramLayout.representative(i)) }
        }
        return max
    }

    /// p50, p90 and p99 in one pass over the occupied buckets.
    @inlinable
    public func summary() -> LatencySummary {
        guard totalCount > 0, lowIndex <= highIndex else { return .empty }
        let r50 = Self.rank(0.5, of: totalCount)
        let r90 = Self.rank(0.9, of: totalCount)
        let r99 = Self.rank(0.99, of: totalCount)
        // The common case walks the buckets once for all three; ranks among clamped
        // out-of-range values (or at the ends) take the exact min/max path instead.
        let edgeCase = underflow > 0 || overflow > 0 || r99 >= totalCount || r50 <= 1
        if edgeCase {
            return LatencySummary(count: totalCount, p50: value(atRank: r50), p90: value(atRank: r90),
                                  p99: value(atRank: r99), min: min, max: max, mean: sum / Double(totalCount))
        }
        var p50 = Double.nan, p90 = Double.nan, p99 = max
        var cumulative: UInt64 = 0
        for i in lowIndex...highIndex {
            let c = count(at: i)
            if c == 0 { continue }
            cumulative &+= c
            if cumulative >= r50 && p50.isNaN { p50 = clampToRange(HistogramLayout.representative(i)) }
            if cumulative >= r90 && p90.isNaN { p90 = clampToRange(HistogramLayout.representative(i)) }
            if cumulative >= r99 { p99 = clampToRange(HistogramLayout.representative(i)); break }
        }
        return LatencySummary(count: totalCount, p50: p50, p90: p90, p99: p99, min: min, max: max,
                              mean: sum / Double(totalCount))
    }

    @inlinable
    func clampToRange(_ v: Double) -> Double { Swift.min(Swift.max(v, min), max) }
}
