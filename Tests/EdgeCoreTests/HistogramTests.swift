import EdgeCore
import EdgeTestSupport
import Foundation
import Testing

/// Distributions chosen to break a histogram: two far-apart modes, a tail over six decades,
/// a single repeated value, one sample.
enum Shape: String, CaseIterable, CustomTestStringConvertible {
    case bimodal, heavyTail, singleValue, oneSample, uniformNarrow
    var testDescription: String { rawValue }

    func values(_ rng: inout SeededGenerator) -> [Double] {
        switch self {
        case .bimodal:
            return (0..<50_000).map { i in
                i % 10 == 0 ? Double.random(in: 180...260, using: &rng) : Double.random(in: 4...9, using: &rng)
            }
        case .heavyTail:  // log-uniform over 8 decades: 1 µs … 100 s, the whole promised range
            return (0..<50_000).map { _ in pow(10, Double.random(in: -3...5, using: &rng)) }
        case .singleValue:
            return Array(repeating: 42.42, count: 10_000)
        case .oneSample:
            return [12.5]
        case .uniformNarrow:
            return (0..<20_000).map { _ in Double.random(in: 99...101, using: &rng) }
        }
    }
}

@Suite("LatencyHistogram")
struct HistogramTests {
    static let quantiles = [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0]

    @Test("quantiles stay within 1 % of the exact nearest-rank quantile", arguments: Shape.allCases)
    func quantilesWithinOnePercent(shape: Shape) {
        var rng = SeededGenerator(seed: 7)
        let values = shape.values(&rng)
        var h = NodeHistogram()
        for v in values { h.record(v) }
        let sorted = values.sorted()
        for q in Self.quantiles {
            let exact = exactQuantile(sorted, q)
            let got = h.quantile(q)
            #expect(relativeError(got, exact) <= 0.01, "q=\(q) exact=\(exact) got=\(got)")
        }
        let s = h.summary()
        #expect(relativeError(s.p50, exactQuantile(sorted, 0.5)) <= 0.01)
        #expect(relativeError(s.p90, exactQuantile(sorted, 0.9)) <= 0.01)
        #expect(relativeError(s.p99, exactQuantile(sorted, 0.99)) <= 0.01)
    }

    @Test("ten million samples: exact count, min, max; quantiles within 1 %")
    func tenMillion() {
        var rng = SeededGenerator(seed: 99)
        var h = RollupHistogram()
        var values = [Double]()
        values.reserveCapacity(10_000_000)
        for _ in 0..<10_000_000 {
            // Log-normal around 40 ms with a long tail.
            let u1 = Double.random(in: Double.ulpOfOne...1, using: &rng), u2 = Double.random(in: 0...1, using: &rng)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            let v = 40 * exp(0.8 * z)
            values.append(v)
            h.record(v)
        }
        #expect(h.totalCount == 10_000_000)
        values.sort()
        #expect(h.min == values.first)
        #expect(h.max == values.last)
        for q in [0.5, 0.9, 0.99, 0.999] {
            #expect(relativeError(h.quantile(q), exactQuantile(values, q)) <= 0.01, "q=\(q)")
        }
    }

    @Test("count, sum, min and max are exact")
    func exactStatistics() {
        var h = NodeHistogram()
        let values = [0.5, 3.25, 17.0, 1234.5, 88.125]
        for v in values { h.record(v) }
        #expect(h.totalCount == 5)
        #expect(h.sum == values.reduce(0, +))
        #expect(h.min == 0.5)
        #expect(h.max == 1234.5)
        #expect(h.summary().mean == values.reduce(0, +) / 5)
    }

    @Test("out-of-range values are clamped and counted, never dropped")
    func outOfRange() {
        var h = NodeHistogram()
        h.record(0)            // below 1 µs
        h.record(0.0001)       // below 1 µs
        h.record(500_000)      // 500 s, above range
        h.record(20)
        #expect(h.totalCount == 4)
        #expect(h.underflow == 2)
        #expect(h.overflow == 1)
        #expect(h.max == 500_000)
        #expect(h.min == 0)
        #expect(h.quantile(1.0) == 500_000)  // clamped to the exact max
        #expect(h.quantile(0.0) == 0)
    }

    @Test("NaN, infinities and negatives are rejected and counted")
    func rejected() {
        var h = NodeHistogram()
        for v in [Double.nan, -1, -.infinity, .infinity] { h.record(v) }
        h.record(5, count: 3)
        h.record(-5, count: 2)
        #expect(h.totalCount == 3)
        #expect(h.rejected == 6)
        #expect(h.quantile(0.5) == 5)
    }

    @Test("empty histogram has no quantiles")
    func empty() {
        let h = NodeHistogram()
        #expect(h.quantile(0.5).isNaN)
        #expect(h.summary() == .empty || h.summary().count == 0)
    }

    @Test("merge is associative and commutative, and exact")
    func mergeLaws() {
        var rng = SeededGenerator(seed: 3)
        var a = NodeHistogram(), b = NodeHistogram(), c = NodeHistogram()
        var all = RollupHistogram()
        for i in 0..<3 {
            for _ in 0..<5_000 {
                let v = pow(10, Double.random(in: -1...4, using: &rng)) * Double(i + 1)
                switch i {
                case 0: a.record(v)
                case 1: b.record(v)
                default: c.record(v)
                }
                all.record(v)
            }
        }
        var ab_c = RollupHistogram(); ab_c.merge(a); ab_c.merge(b); ab_c.merge(c)
        var bc = RollupHistogram(); bc.merge(b); bc.merge(c)
        var a_bc = RollupHistogram(); a_bc.merge(a); a_bc.merge(bc)
        var cba = RollupHistogram(); cba.merge(c); cba.merge(b); cba.merge(a)
        #expect(a_bc.counts == ab_c.counts && cba.counts == ab_c.counts)
        #expect(a_bc.totalCount == ab_c.totalCount && cba.totalCount == ab_c.totalCount)
        #expect(a_bc.sum == ab_c.sum || abs(a_bc.sum - ab_c.sum) < 1e-6 * ab_c.sum)
        #expect(a_bc.min == ab_c.min && a_bc.max == ab_c.max && cba.min == ab_c.min && cba.max == ab_c.max)
        #expect(ab_c.counts == all.counts)
        #expect(ab_c.totalCount == all.totalCount)
    }

    @Test("copy() is independent of the original")
    func copies() {
        var h = NodeHistogram()
        h.record(5)
        var c = h.copy()
        c.record(50)
        #expect(h.totalCount == 1 && c.totalCount == 2)
        #expect(h.max == 5 && c.max == 50)
    }

    @Test("a compacted sub-window merges back to the same counts")
    func compactRoundTrip() {
        var h = NodeHistogram()
        for v in stride(from: 5.0, to: 400, by: 3.7) { h.record(v) }
        var a = RollupHistogram(); a.merge(h)
        var b = RollupHistogram(); b.merge(h.compacted())
        #expect(a.counts == b.counts)
        #expect(a.totalCount == b.totalCount && a.sum == b.sum && a.min == b.min && a.max == b.max)
        let occupied = (h.lowIndex...h.highIndex).filter { h.count(at: $0) != 0 }.count
        #expect(h.compacted().occupiedBuckets == occupied)
        #expect(h.compacted().byteCount == occupied * 4)
        // One request in a sub-window (a quiet node) keeps nothing on the heap.
        var one = NodeHistogram()
        one.record(42)
        #expect(one.compacted().byteCount == 0 && one.compacted().occupiedBuckets == 1)
        var c = RollupHistogram(); c.merge(one.compacted())
        #expect(c.totalCount == 1 && c.quantile(0.5) == 42)
    }

    @Test("fleet p99 from merged histograms is right where averaging per-node p99s is wrong")
    func mergedVersusAveragedP99() {
        // Nine quiet nodes at ~10 ms and one busy node serving most traffic at ~400 ms.
        var fleet = RollupHistogram()
        var pooled: [Double] = []
        var p99s: [Double] = []
        for i in 0..<10 {
            var node = NodeHistogram()
            let values: [Double]
            if i < 9 {
                values = (0..<100).map { k in 9 + Double(k % 10) * 0.2 }
            } else {
                values = (0..<9_000).map { k in 380 + Double(k % 40) }
            }
            for v in values { node.record(v); pooled.append(v) }
            p99s.append(node.quantile(0.99))
            fleet.merge(node)
        }
        pooled.sort()
        let exact = exactQuantile(pooled, 0.99)
        let meanOfP99 = p99s.reduce(0, +) / 10
        #expect(relativeError(fleet.quantile(0.99), exact) <= 0.01)
        #expect(relativeError(meanOfP99, exact) > 0.5, "averaging percentiles should be far off: \(meanOfP99) vs \(exact)")
    }

    @Test("bucket bounds are contiguous and each bucket is at most 1/64 of its lower bound wide")
    func layout() {
        #expect(HistogramLayout.bucketCount == 27 * 64)
        #expect(HistogramLayout.index(ofTrackable: HistogramLayout.lowestTrackable) == 0)
        #expect(HistogramLayout.index(ofTrackable: HistogramLayout.highestTrackable) == HistogramLayout.bucketCount)
        #expect(HistogramLayout.index(ofTrackable: HistogramLayout.highestTrackable.nextDown) == HistogramLayout.bucketCount - 1)
        for i in 0..<(HistogramLayout.bucketCount - 1) {
            #expect(HistogramLayout.upperBound(i) == HistogramLayout.lowerBound(i + 1))
            let lo = HistogramLayout.lowerBound(i), hi = HistogramLayout.upperBound(i)
            #expect((hi - lo) / lo <= 1.0 / 64 + 1e-12)
            #expect(HistogramLayout.index(ofTrackable: lo) == i)
        }
        #expect(HistogramLayout.lowerBound(0) <= 0.001)
        #expect(HistogramLayout.upperBound(HistogramLayout.bucketCount - 1) >= 100_000)
    }

    @Test("narrow counters carry instead of wrapping: counts stay exact")
    func carry() {
        var h = NodeHistogram()
        let i = HistogramLayout.index(ofTrackable: 10)
        for _ in 0..<70_000 { h.record(10) }
        h.record(10, count: 200_000)
        #expect(h.count(at: i) == 270_000)
        #expect(h.totalCount == 270_000)
        var rollup = RollupHistogram()
        rollup.merge(h)
        rollup.merge(h.compacted())
        #expect(rollup.count(at: i) == 540_000)
        #expect(rollup.quantile(0.5) == 10)
        h.reset()
        #expect(h.count(at: i) == 0)
    }
}
