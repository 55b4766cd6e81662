import EdgeSources

/// gzip / zlib: inflating never returns more than the limit, and a body that inflates does so
/// the same way twice; what deflates in gzip inflates back to itself.
enum GzipHarness {
    static let limit = 1 << 20

    static func run(_ input: [UInt8]) -> String? {
        let a = try? Gzip.inflate(input, limit: limit)
        if let a, a.count > limit { return "inflated \(a.count) bytes past the \(limit) limit" }
        let b = try? Gzip.inflate(input, limit: limit)
        if a != b { return "inflates differently twice" }
        if let packed = Gzip.deflate(input), (try? Gzip.inflate(packed, limit: input.count + 1)) != input {
            return "gzip of the input does not inflate back to it"
        }
        return nil
    }
}
