import EdgeSources
import EdgeTestSupport
import Foundation
import Testing

/// edgetop's own HTTP client against a real Python HTTP/1.1 peer: framing, keep-alive,
/// timeouts, cancellation mid-body, TLS.
@Suite("HTTP client against a real peer", .serialized, .enabled(if: LiveSourcesTests.python != nil))
struct HTTPClientTests {
    static let script = LiveSourcesTests.scripts.appendingPathComponent("http_peer.py").path
    static let page = Array((0..<4).map { "DCGM_FI_DEV_GPU_UTIL{gpu=\"\($0)\",Hostname=\"peer-n01\"} \(40 + $0)\n" }.joined().utf8)
        + Array("# TYPE DCGM_FI_DEV_GPU_TEMP gauge\nDCGM_FI_DEV_GPU_TEMP{gpu=\"0\",Hostname=\"peer-n01\"} 61\n".utf8)

    final class Peer: @unchecked Sendable {
        let port = freePort()
        let process: BackgroundProcess
        init?(tls: (cert: String, key: String)? = nil) {
            var args = [HTTPClientTests.script, "\(port)"]
            if let tls { args += [tls.cert, tls.key] }
            guard let p = BackgroundProcess(LiveSourcesTests.python!, args) else { return nil }
            process = p
            guard waitForPort(port) else { return nil }
        }
        func url(_ path: String, https: Bool = false) -> URL { URL(string: "\(https ? "https" : "http")://127.0.0.1:\(port)\(path)")! }
        deinit { process.stop() }
    }

    func get(_ client: HTTPClient, _ url: URL, timeout: Double = 5) async -> Result<HTTPClientResponse, HTTPClientError> {
        do { return .success(try await client.get(HTTPClientRequest(url: url, timeout: timeout))) } catch {
            return .failure(error as? HTTPClientError ?? .protocolError("\(error)"))
        }
    }

    @Test("Content-Length, chunked, gzip and close-delimited bodies all arrive whole")
    func framing() async throws {
        let peer = try #require(Peer())
        let client = HTTPClient()
        defer { client.shutdown() }
        for path in ["/metrics", "/chunked", "/gzip", "/close"] {
            let r = try await get(client, peer.url(path)).get()
            #expect(r.status == 200, "\(path)")
            #expect(r.body == Self.page, "\(path): \(r.body.count) bytes")
            #expect(r.header("Content-Type")?.hasPrefix("text/plain") == true, "\(path)")
        }
        let missing = try await get(client, peer.url("/nope")).get()
        #expect(missing.status == 404)
    }

    @Test("keep-alive: ten requests to one host share one connection")
    func keepAlive() async throws {
        let peer = try #require(Peer())
        let client = HTTPClient()
        defer { client.shutdown() }
        func connections() async throws -> String { String(decoding: try await get(client, peer.url("/connections")).get().body, as: UTF8.self) }
        let before = try await connections()  // (waitForPort's probe counts as one)
        for _ in 0..<10 { _ = try await get(client, peer.url("/metrics")).get() }
        #expect(try await connections() == before, "no new connection for ten more requests")
    }

    @Test("a peer that never answers times out; a closed port is refused; a short body is an error")
    func failures() async throws {
        let peer = try #require(Peer())
        let client = HTTPClient()
        defer { client.shutdown() }
        let began = Date()
        #expect(await get(client, peer.url("/hang"), timeout: 0.5).error == .timedOut)
        // The peer never answers: returning at all is the point. The bound is loose (a shared
        // 2-core machine under a parallel test run took 3.6 s for a 0.5 s timeout).
        #expect(Date().timeIntervalSince(began) < 20)
        #expect(await get(client, peer.url("/slow-body"), timeout: 0.5).error == .timedOut)
        #expect(await get(client, URL(string: "http://127.0.0.1:\(freePort() + 300)/metrics")!).error == .refused)
        if case .protocolError(let why) = await get(client, peer.url("/bad-length")).error {
            #expect(why.contains("connection closed after"), "\(why)")
        } else {
            Issue.record("a body shorter than its Content-Length was accepted")
        }
        // The client is still good after all that.
        #expect((try? await get(client, peer.url("/metrics")).get().body) == Self.page)
    }

    @Test("a request cancelled mid-body ends at once with .cancelled; the client carries on")
    func cancelMidBody() async throws {
        let peer = try #require(Peer())
        let client = HTTPClient()
        defer { client.shutdown() }
        let task = Task { await get(client, peer.url("/slow-body"), timeout: 20) }
        try await Task.sleep(nanoseconds: 400_000_000)  // headers and half the body are in
        let began = Date()
        task.cancel()
        #expect(await task.value.error == .cancelled)
        #expect(Date().timeIntervalSince(began) < 1)
        #expect((try? await get(client, peer.url("/metrics")).get().status) == 200)
        // Cancelled before it started, too.
        let early = Task { () -> Result<HTTPClientResponse, HTTPClientError> in
            withUnsafeCurrentTask { $0?.cancel() }
            return await get(client, peer.url("/hang"), timeout: 20)
        }
        #expect(await early.value.error == .cancelled)
    }

    static let openssl = which("openssl")

    @Test("https: a self-signed peer is refused with the reason; trusted, the scrape reads it", .enabled(if: openssl != nil))
    func tls() async throws {
        let dir = NSTemporaryDirectory() + "edgetop-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = spawn(Self.openssl!, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                                         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                                         "-keyout", "\(dir)/key.pem", "-out", "\(dir)/cert.pem"])
        #expect(made.status == 0, "\(made.stderr)")
        let peer = try #require(Peer(tls: ("\(dir)/cert.pem", "\(dir)/key.pem")))
        // This process trusts only the system store: the peer's certificate is not in it.
        let client = HTTPClient()
        defer { client.shutdown() }
        guard case .tls(let why) = await get(client, peer.url("/metrics", https: true)).error else {
            Issue.record("an untrusted certificate was accepted")
            return
        }
        #expect(why.contains("certificate"), "\(why)")
        // edgetop trusting the peer's certificate (SSL_CERT_FILE) scrapes it over https.
        let r = spawn(edgetopBinary(), ["snapshot", "--format", "json", "--view", "nodes", "--duration", "2",
                                        "--scrape", "https://127.0.0.1:\(peer.port)/chunked,region=WEU,site=tls1"],
                      environment: ["SSL_CERT_FILE": "\(dir)/cert.pem"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let node = ((o["nodes"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == "peer-n01" }
        #expect(node?["health"] as? String == "HEALTHY", "\(o["sources"] ?? "")")
        #expect((node?["gpus"] as? [[String: Any]])?.count == 4)
    }
}

extension Result {
    var error: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}
