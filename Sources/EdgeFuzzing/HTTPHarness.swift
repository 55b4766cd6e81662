import EdgeSources

/// HTTP: the server's request-head parser takes any bytes; the client's response parser gives
/// the same answer (or the same error) however the bytes are split across reads, and never a
/// body over its limit.
enum HTTPHarness {
    static let limit = 1 << 16

    static func run(_ input: [UInt8]) -> String? {
        _ = HTTPServer.parseHead(input)
        guard !input.isEmpty else { return nil }
        // The first byte picks where the stream splits.
        let rest = Array(input.dropFirst())
        let cut = rest.isEmpty ? 0 : Int(input[0]) % (rest.count + 1)
        let whole = outcome([rest])
        let split = outcome([Array(rest[..<cut]), Array(rest[cut...])])
        let bytewise = outcome(rest.prefix(512).map { [$0] } + (rest.count > 512 ? [Array(rest[512...])] : []))
        if whole != split { return "split at \(cut) reads \(split), whole reads \(whole)" }
        if whole != bytewise { return "byte by byte reads \(bytewise), whole reads \(whole)" }
        return nil
    }

    /// What the parser made of the pieces: the response, an error, or "incomplete".
    static func outcome(_ pieces: [[UInt8]]) -> String {
        var p = HTTPResponseParser(maxBody: limit)
        do {
            for piece in pieces where !piece.isEmpty {
                if try p.feed(piece) { return describe(p.response()) }
            }
            return try p.finishAtClose() ? describe(p.response()) : "incomplete"
        } catch {
            return "error: \(error)"
        }
    }

    static func describe(_ r: HTTPClientResponse) -> String {
        if r.body.count > limit { return "body of \(r.body.count) bytes over the \(limit) limit" }
        return "\(r.status) \(r.headers.map { "\($0.name)=\($0.value)" }) \(r.body.count) bytes \(r.body.hashValue) keepAlive=\(r.keepAlive)"
    }
}
