/// The fixed bucket layout shared by every latency histogram.
///
/// Log-linear: each power of two between 2^-10 ms (≈1 µs) and 2^17 ms (≈131 s) is split into
/// 64 equal sub-buckets. A bucket index is read straight from the IEEE-754 bits of the value
/// (exponent and the top 6 mantissa bits), so mapping a value costs a shift and a subtract.
///
/// A bucket `[lower, upper)` is at most 1/64 of its lower bound wide, so its midpoint is within
/// 1/128 ≈ 0.78 % of any value in it — the root of the histogram's 1 % quantile guarantee.
public enum HistogramLayout {
    /// Sub-buckets per power of two (2^mantissaBits).
    // Literals rather than derived `static let`s: the record path inlines them as constants
    // instead of calling a lazy initialiser (the layout test checks they agree).
    @inlinable public static var mantissaBits: UInt64 { 6 }
    @inlinable static var shift: UInt64 { 46 }  // 52 - mantissaBits
    /// Smallest value that lands in its own bucket, in milliseconds (2^-10 ms ≈ 0.98 µs).
    @inlinable public static var lowestTrackable: Double { 0x1p-10 }
    /// Values at or above this (2^17 ms ≈ 131 s) are clamped into the last bucket.
    @inlinable public static var highestTrackable: Double { 0x1p17 }
    /// `lowestTrackable.bitPattern >> shift`: (1023 - 10) << 6.
    @inlinable static var baseKey: Int { 64_832 }
    /// Number of buckets: 27 powers of two × 64.
    @inlinable public static var bucketCount: Int { 1_728 }

    /// Bucket index for a value already known to be within `[lowestTrackable, highestTrackable)`.
    @inlinable @inline(__always)
    public static func index(ofTrackable value: Double) -> Int {
        Int(truncatingIfNeeded: value.bitPattern >> shift) &- baseKey
    }

    /// Bucket index of any non-negative value, clamping out-of-range values to the ends.
    @inlinable
    public static func clampedIndex(_ value: Double) -> Int {
        if value < lowestTrackable { return 0 }
        if value >= highestTrackable { return bucketCount - 1 }
        return index(ofTrackable: value)
    }

    /// Inclusive lower bound of bucket `index`, in milliseconds.
    @inlinable
    public static func lowerBound(_ index: Int) -> Double {
        Double(bitPattern: UInt64(index + baseKey) << shift)
    }

    /// Exclusive upper bound of bucket `index`, in milliseconds.
    @inlinable
    public static func upperBound(_ index: Int) -> Double {
        Double(bitPattern: UInt64(index + baseKey + 1) << shift)
    }

    /// The value a quantile reports for bucket `index`: its midpoint.
    @inlinable
    public static func representative(_ index: Int) -> Double {
        (lowerBound(index) + upperBound(index)) / 2
    }
}
