@testable import EdgeSources
import Testing

/// The HTTP/1.x response reader: framing at every split of the bytes, and malformed answers.
@Suite("HTTP response parser")
struct HTTPResponseParserTests {
    static let chunked = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: t\r\n\r\n".utf8)

    func parse(_ parts: [[UInt8]], max: Int = 1 << 20, atClose: Bool = false) throws -> HTTPClientResponse? {
        var p = HTTPResponseParser(maxBody: max)
        var done = false
        for part in parts where !done { done = try p.feed(part) }
        if !done && atClose { done = try p.finishAtClose() }
        return done ? p.response() : nil
    }

    @Test("a chunked answer reads the same however the bytes are split")
    func chunkedAtEverySplit() throws {
        let b = Self.chunked
        for cut in 1..<b.count {
            let r = try #require(try parse([Array(b[..<cut]), Array(b[cut...])]), "split at \(cut)")
            #expect(String(decoding: r.body, as: UTF8.self) == "hello, world", "split at \(cut)")
            #expect(r.header("content-type") == "text/plain" && r.keepAlive)
        }
        let byteByByte = try #require(try parse(b.map { [$0] }))
        #expect(byteByByte.body.count == 12)
    }

    @Test("Content-Length, close-delimited bodies, HTTP/1.0 and Connection: close")
    func framing() throws {
        let sized = try #require(try parse([Array("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabcEXTRA".utf8)]))
        #expect(sized.status == 404 && sized.body == Array("abc".utf8))
        #expect(try parse([Array("HTTP/1.1 200 OK\r\n\r\npartial".utf8)]) == nil, "no length: waits for the close")
        let closed = try #require(try parse([Array("HTTP/1.0 200 OK\r\n\r\nall of it".utf8)], atClose: true))
        #expect(closed.body == Array("all of it".utf8) && !closed.keepAlive)
        let close = try #require(try parse([Array("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".utf8)]))
        #expect(!close.keepAlive)
        let interim = try #require(try parse([Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".utf8)]))
        #expect(interim.status == 204 && interim.body.isEmpty)
    }

    @Test("malformed answers are errors, never a short page", arguments: [
        "SSH-2.0-OpenSSH_9.2\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    ])
    func malformed(_ text: String) {
        #expect(throws: HTTPResponseParser.Failure.self) { _ = try parse([Array(text.utf8)], atClose: true) }
    }

    @Test("a body over the limit stops at the limit, however it is framed")
    func limits() {
        #expect(throws: HTTPResponseParser.Failure.tooLarge(8)) { _ = try parse([Array("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n".utf8)], max: 8) }
        #expect(throws: HTTPResponseParser.Failure.tooLarge(8)) { _ = try parse([Array("HTTP/1.1 200 OK\r\n\r\n0123456789".utf8)], max: 8) }
        #expect(throws: HTTPResponseParser.Failure.tooLarge(8)) { _ = try parse([Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n".utf8)], max: 8) }
        #expect(throws: HTTPResponseParser.Failure.self) { _ = try parse([Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab".utf8)], atClose: true) }
    }
}
