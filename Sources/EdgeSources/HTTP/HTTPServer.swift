import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A request as the handlers see it.
public struct HTTPRequest: Sendable {
    public var method: String
    /// Path without the query string.
    public var path: String
    public var query: [String: String]
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// `Content-Encoding` of `body` (nil: identity).
    public var contentEncoding: String?

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status; self.contentType = contentType; self.body = body
    }

    public init(status: Int, text: String) {
        self.init(status: status, body: Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// The response gzipped when the request's `Accept-Encoding` takes gzip and the body is
    /// worth it (a fleet's /metrics page shrinks ~10×; Prometheus asks for gzip).
    public func compressed(for request: HTTPRequest) -> HTTPResponse {
        guard contentEncoding == nil, body.count >= 1024,
              let accept = request.headers["accept-encoding"]?.lowercased(), accept.contains("gzip"),
              let packed = Gzip.deflate(body) else { return self }
        var r = self
        r.body = packed
        r.contentEncoding = "gzip"
        return r
    }

    public static func json(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: Array(text.utf8))
    }
}

/// A small HTTP/1.1 server on POSIX sockets: enough for OTLP/HTTP and `/metrics`, no more.
/// Each connection is served on its own thread with a read timeout, so a slow or silent client
/// holds only its own connection, never the accept loop, other clients or the collector.
/// Bodies over `maxBody` get 413 before they are read; heads over 16 KB get 431.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    public let host: String
    public private(set) var port: UInt16
    public let maxBody: Int
    private let handler: Handler
    private var fd: Int32 = -1
    private let lock = NSLock()
    private let loop = SocketLoop()
    /// Connections being served; each has its own thread (a dispatch pool grows too slowly
    /// when idle clients sit in blocking reads), up to `maxConnections`.
    private var open = 0
    public let maxConnections: Int

    public struct BindError: Error, CustomStringConvertible { public var description: String }

    public init(host: String, port: UInt16, maxBody: Int = 8 << 20, maxConnections: Int = 256, handler: @escaping Handler) {
        self.maxConnections = maxConnections
        self.host = host
        self.port = port
        self.maxBody = maxBody
        self.handler = handler
    }

    /// Binds (failing at once on a taken port) and starts accepting.
    public func start() throws {
        do {
            (fd, port) = try Sockets.bound(host: host, port: port, type: Int32(SOCK_STREAM.rawValue), what: "HTTP")
        } catch { throw BindError(description: "\(error)") }
        guard listen(fd, 128) == 0 else {
            close(fd)
            throw BindError(description: "cannot listen on \(host):\(port): \(String(cString: strerror(errno)))")
        }
        loop.start(name: "edgetop.http.accept") { [self] in acceptLoop() }
    }

    public func stop() {
        loop.stop(closing: &fd)
    }

    private var isStopping: Bool { loop.isStopping }

    private func acceptLoop() {
        while !isStopping {
            let client = accept(fd, nil, nil)
            if client < 0 { continue }  // timeout: look at the stop flag again
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            lock.lock()
            let full = open >= maxConnections
            if !full { open += 1 }
            lock.unlock()
            if full {
                send(client, HTTPResponse(status: 503, text: "too many connections"), close: true)
                close(client)
                continue
            }
            let t = Thread { [self] in
                serve(client)
                lock.lock(); open -= 1; lock.unlock()
            }
            t.stackSize = 256 * 1024
            t.start()
        }
    }

    /// Serves requests on one connection until it closes, times out or asks to close.
    private func serve(_ client: Int32) {
        defer { close(client) }
        var buffer: [UInt8] = []
        while !isStopping {
            guard let (head, rest) = readHead(client, buffer: &buffer) else { return }
            guard let parsed = Self.parseHead(head) else {
                send(client, HTTPResponse(status: 400, text: "malformed request"), close: true)
                return
            }
            var request = parsed
            var body = rest
            let length = Int(request.headers["content-length"] ?? "0") ?? -1
            if request.headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
                send(client, HTTPResponse(status: 411, text: "send a Content-Length (chunked bodies are not accepted)"), close: true)
                return
            }
            guard length >= 0 else { send(client, HTTPResponse(status: 400, text: "bad Content-Length"), close: true); return }
            if length > maxBody {
                send(client, HTTPResponse(status: 413, text: "body of \(length) bytes is over the \(maxBody)-byte limit"), close: true)
                return
            }
            while body.count < length {
                var chunk = [UInt8](repeating: 0, count: min(65_536, length - body.count))
                let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                body.append(contentsOf: chunk[0..<n])
            }
            buffer = Array(body[length...])
            request.body = Array(body[0..<length])
            let keepAlive = request.headers["connection"]?.lowercased() != "close"
            send(client, handler(request), close: !keepAlive)
            if !keepAlive { return }
        }
    }

    private func readHead(_ client: Int32, buffer: inout [UInt8]) -> ([UInt8], [UInt8])? {
        let marker: [UInt8] = [13, 10, 13, 10]
        while true {
            if let end = Self.find(marker, in: buffer) {
                return (Array(buffer[0..<end]), Array(buffer[(end + 4)...]))
            }
            if buffer.count > 16_384 {
                send(client, HTTPResponse(status: 431, text: "request head over 16 KB"), close: true)
                return nil
            }
            var chunk = [UInt8](repeating: 0, count: 16_384)
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    package static func parseHead(_ head: [UInt8]) -> HTTPRequest? {
        guard let text = String(validating: head, as: UTF8.self) else { return nil }
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { return nil }
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else { return nil }
        var headers: [String: String] = [:]
        for l in lines where !l.isEmpty {
            guard let c = l.firstIndex(of: ":") else { return nil }
            headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
        }
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                // `=x` has an empty name: split keeps it, so a hostile query never indexes past the end.
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    .map { String($0).removingPercentEncoding ?? String($0) }
                query[kv[0]] = kv.count == 2 ? kv[1] : ""
            }
        }
        return HTTPRequest(method: String(requestLine[0]), path: String(parts.first ?? "/"), query: query, headers: headers, body: [])
    }

    private func send(_ client: Int32, _ r: HTTPResponse, close: Bool) {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
                      413: "Payload Too Large", 415: "Unsupported Media Type", 431: "Request Header Fields Too Large",
                      500: "Internal Server Error", 503: "Service Unavailable"][r.status] ?? "Status"
        var head = "HTTP/1.1 \(r.status) \(reason)\r\nContent-Type: \(r.contentType)\r\nContent-Length: \(r.body.count)\r\n"
        if let e = r.contentEncoding { head += "Content-Encoding: \(e)\r\nVary: Accept-Encoding\r\n" }
        if close { head += "Connection: close\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + r.body
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }
}
