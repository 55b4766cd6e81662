/// An HTTP/1.x response as the client returns it.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    /// Header names lowercased, in arrival order.
    public var headers: [(name: String, value: String)]
    /// The body, already un-chunked and, for `Content-Encoding: gzip`, inflated.
    public var body: [UInt8]
    /// Whether the server lets the connection be reused.
    public var keepAlive: Bool

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n }?.value
    }
}

/// Reads one HTTP/1.x response from bytes as they arrive: a head, then a body framed by
/// `Content-Length`, `Transfer-Encoding: chunked` or the end of the connection. Incremental
/// (feed any split of the bytes), bounded (`maxBody`), and strict about framing so a
/// malformed answer is an error, never a silently short page.
package struct HTTPResponseParser {
    package enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case tooLarge(Int)
        package var description: String {
            switch self {
            case .malformed(let why): "malformed HTTP response: \(why)"
            case .tooLarge(let limit): "response body over \(limit / 1_048_576) MiB"
            }
        }
    }

    enum Framing { case length(Int), chunked, untilClose, none }

    let maxBody: Int
    /// True for the answer to a HEAD request (no body whatever the headers say).
    var headRequest = false
    private(set) var buffer: [UInt8] = []
    private var cursor = 0
    private(set) var status = 0
    private(set) var headers: [(name: String, value: String)] = []
    private var framing: Framing?
    private var body: [UInt8] = []
    private var chunkRemaining = -1  // -1: expecting a chunk-size line
    private var inTrailers = false
    private var http10 = false
    package private(set) var done = false

    package init(maxBody: Int) { self.maxBody = maxBody }

    /// Adds bytes; returns true once the response is complete.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> Bool {
        buffer.append(contentsOf: bytes)
        return try advance()
    }

    package mutating func feed(_ bytes: [UInt8]) throws(Failure) -> Bool {
        buffer.append(contentsOf: bytes)
        return try advance()
    }

    /// The peer closed the connection; returns whether that completes the response.
    package mutating func finishAtClose() throws(Failure) -> Bool {
        if done { return true }
        guard let framing else { throw .malformed(buffer.isEmpty ? "connection closed before any answer" : "connection closed inside the headers") }
        switch framing {
        case .untilClose:
            done = true
            return true
        case .length(let n): throw .malformed("connection closed after \(body.count) of \(n) body bytes")
        case .chunked: throw .malformed("connection closed inside a chunked body")
        case .none: return done
        }
    }

    /// The finished response (call once `done`).
    package func response() -> HTTPClientResponse {
        let connection = headers.first { $0.name == "connection" }?.value.lowercased() ?? ""
        var keepAlive = http10 ? connection.contains("keep-alive") : !connection.contains("close")
        if case .untilClose = framing { keepAlive = false }
        return HTTPClientResponse(status: status, headers: headers, body: body, keepAlive: keepAlive)
    }

    private mutating func advance() throws(Failure) -> Bool {
        if framing == nil {
            guard try parseHead() else { return false }
        }
        switch framing! {
        case .none:
            done = true
        case .length(let n):
            let take = min(n - body.count, buffer.count - cursor)
            body.append(contentsOf: buffer[cursor..<(cursor + take)])
            cursor += take
            if body.count == n { done = true }
        case .untilClose:
            body.append(contentsOf: buffer[cursor...])
            cursor = buffer.count
            if body.count > maxBody { throw .tooLarge(maxBody) }
        case .chunked:
            try parseChunks()
        }
        compact()
        return done
    }

    /// Drops consumed bytes now and then, so a long body is not copied once per read.
    private mutating func compact() {
        if cursor > 65_536 || cursor == buffer.count {
            buffer.removeFirst(cursor)
            cursor = 0
        }
    }

    private func lineEnd(from start: Int) -> Int? {
        var i = start
        while i + 1 < buffer.count {
            if buffer[i] == 0x0D && buffer[i + 1] == 0x0A { return i }
            i += 1
        }
        return nil
    }

    private mutating func parseHead() throws(Failure) -> Bool {
        // Judged the same however the bytes arrive: the first five bytes, then the head's size.
        if buffer.count - cursor >= 5 && !buffer[cursor...].starts(with: Array("HTTP/".utf8)) { throw .malformed("not an HTTP response") }
        // Find the blank line that ends the head.
        var end: Int?
        var i = cursor
        while i + 3 < buffer.count {
            if buffer[i] == 0x0D && buffer[i + 1] == 0x0A && buffer[i + 2] == 0x0D && buffer[i + 3] == 0x0A { end = i; break }
            i += 1
        }
        guard let end else {
            if buffer.count - cursor > 65_536 + 3 { throw .malformed("headers over 64 KiB") }
            return false
        }
        if end - cursor > 65_536 { throw .malformed("headers over 64 KiB") }
        if !buffer[cursor...].starts(with: Array("HTTP/".utf8)) { throw .malformed("not an HTTP response") }
        // Bytes, not Foundation strings: this runs once per scrape.
        let head = buffer[cursor..<end]
        cursor = end + 4
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map { $0.last == 0x0D ? $0.dropLast() : $0 }
        guard !lines.isEmpty else { throw .malformed("empty head") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: 0x20, maxSplits: 2)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)), parts[1].count == 3,
              let code = Int(String(decoding: parts[1], as: UTF8.self)), (100...999).contains(code) else {
            throw .malformed("bad status line \"\(String(decoding: statusLine.prefix(40), as: UTF8.self))\"")
        }
        http10 = parts[0].elementsEqual(Array("HTTP/1.0".utf8))
        status = code
        func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
            var s = s
            while let f = s.first, f == 0x20 || f == 0x09 { s.removeFirst() }
            while let l = s.last, l == 0x20 || l == 0x09 { s.removeLast() }
            return s
        }
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformed("bad header line") }
            let name = trimmed(line[..<colon]).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
            headers.append((String(decoding: name, as: UTF8.self), String(decoding: trimmed(line[(colon + 1)...]), as: UTF8.self)))
        }
        if (100..<200).contains(code) {
            // An interim answer (100 Continue): the real one follows.
            headers = []
            return try parseHead()
        }
        let encoding = headers.first { $0.name == "transfer-encoding" }?.value.lowercased()
        if headRequest || code == 204 || code == 304 {
            framing = Framing.none
        } else if let encoding, encoding.contains("chunked") {
            framing = .chunked
        } else if let first = headers.first(where: { $0.name == "content-length" }) {
            let lengths = headers.filter { $0.name == "content-length" }
            guard let n = Int(first.value), n >= 0, lengths.allSatisfy({ $0.value == first.value }) else {
                throw .malformed("bad Content-Length")
            }
            guard n <= maxBody else { throw .tooLarge(maxBody) }
            framing = .length(n)
            body.reserveCapacity(n)
        } else {
            framing = .untilClose
        }
        return true
    }

    private mutating func parseChunks() throws(Failure) {
        while !done {
            if inTrailers {
                guard let e = lineEnd(from: cursor) else { return }
                let empty = e == cursor
                cursor = e + 2
                if empty { done = true }
                continue
            }
            if chunkRemaining < 0 {
                guard let e = lineEnd(from: cursor) else {
                    if buffer.count - cursor > 1024 { throw .malformed("chunk size line too long") }
                    return
                }
                let text = String(decoding: buffer[cursor..<e], as: UTF8.self)
                let sizeText = text.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard let size = Int(sizeText, radix: 16), size >= 0 else { throw .malformed("bad chunk size") }
                cursor = e + 2
                if size == 0 { inTrailers = true; continue }
                guard body.count + size <= maxBody else { throw .tooLarge(maxBody) }
                chunkRemaining = size
            }
            let take = min(chunkRemaining, buffer.count - cursor)
            body.append(contentsOf: buffer[cursor..<(cursor + take)])
            cursor += take
            chunkRemaining -= take
            guard chunkRemaining == 0 else { return }
            guard buffer.count - cursor >= 2 else { chunkRemaining = 0; return }
            guard buffer[cursor] == 0x0D && buffer[cursor + 1] == 0x0A else { throw .malformed("chunk not followed by CRLF") }
            cursor += 2
            chunkRemaining = -1
        }
    }
}
