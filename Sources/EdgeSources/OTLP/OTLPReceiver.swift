import EdgeCollector
import EdgeCore
import Foundation

/// Receives OTLP/HTTP JSON metrics on `POST /v1/metrics` and feeds the collector.
///
/// Answers 200 with `partialSuccess` when some points were refused, 400 for a malformed body,
/// 413 over the size limit (compressed or not), 415 for protobuf (send JSON), 404/405 for
/// other paths and methods.
public final class OTLPReceiver: @unchecked Sendable {
    public let host: String
    public let port: UInt16
    private let collector: Collector
    /// This receiver's provenance in the collector.
    private let source: SourceID
    private let lock = NSLock()
    private var decoder: OTLPDecoder
    private var refs: [String: NodeRef] = [:]
    private var stats: SourceStats
    private var server: HTTPServer?
    public static let maxBody = 16 << 20
    public static let maxNodes = 10_000

    /// `HOST:PORT[,region=R,site=S,node=N,service=NAME]`: where to listen and where unplaced data goes.
    public init(argument: String, collector: Collector) throws {
        let parts = argument.split(separator: ",").map(String.init)
        guard let address = parts.first, let colon = address.lastIndex(of: ":"),
              let port = UInt16(address[address.index(after: colon)...]), port > 0 else {
            throw StatsDOptions.ParseError(description: "--otlp \"\(argument.prefix(60))\": expected HOST:PORT, e.g. 127.0.0.1:4318")
        }
        let h = String(address[..<colon])
        host = h.isEmpty ? "127.0.0.1" : h
        self.port = port
        var placement = OTLPDecoder.Placement(region: "default", site: "otlp", node: "otlp")
        var service = ""
        for option in parts.dropFirst() {
            let kv = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[1].isEmpty else { throw StatsDOptions.ParseError(description: "--otlp option \"\(option)\": expected key=value") }
            switch kv[0] {
            case "region": placement.region = kv[1]
            case "site": placement.site = kv[1]
            case "node": placement.node = kv[1]
            case "service": service = kv[1]
            default: throw StatsDOptions.ParseError(description: "--otlp option \"\(kv[0])\" is unknown (region, site, node, service)")
            }
        }
        decoder = OTLPDecoder(defaultPlacement: placement, classes: collector.config.classes)
        self.collector = collector
        stats = SourceStats(name: "otlp \(host):\(port)")
        source = collector.registerSource(SourceInfo(name: "otlp \(host):\(port)", kind: .otlp, service: service))
    }

    public func start() throws {
        let s = HTTPServer(host: host, port: port, maxBody: Self.maxBody) { [self] in handle($0) }
        do { try s.start() } catch { throw HTTPServer.BindError(description: "--otlp: \(error)") }
        server = s
        lock.lock(); stats.up = true; lock.unlock()
    }

    public func stop() { server?.stop() }

    public func sourceStats() -> SourceStats {
        lock.lock(); defer { lock.unlock() }
        return stats
    }

    static func status(_ code: Int, _ message: String) -> HTTPResponse {
        var w = "{\"code\":\(code == 400 ? 3 : 8),\"message\":"
        w += jsonString(message) + "}"
        return .json(code, w)
    }

    static func jsonString(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s])) ?? Data("[\"\"]".utf8)
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }

    func handle(_ r: HTTPRequest) -> HTTPResponse {
        guard r.path == "/v1/metrics" else { return Self.status(404, "not found: OTLP metrics go to POST /v1/metrics") }
        guard r.method == "POST" else { return Self.status(405, "use POST") }
        let type = (r.headers["content-type"] ?? "").lowercased()
        if type.contains("protobuf") { return Self.status(415, "edgetop accepts OTLP/HTTP JSON; set the exporter to JSON encoding") }
        var body = r.body
        if r.headers["content-encoding"]?.lowercased() == "gzip" {
            do { body = try Gzip.inflate(body, limit: Self.maxBody) } catch Gzip.Failure.tooLarge {
                count(invalid: 1, error: "gzip body inflates past \(Self.maxBody) bytes")
                return Self.status(413, "body inflates past \(Self.maxBody) bytes")
            } catch {
                count(invalid: 1, error: "corrupt gzip body")
                return Self.status(400, "corrupt gzip body")
            }
        }
        lock.lock()
        defer { lock.unlock() }
        let output: OTLPDecoder.Output
        do { output = try decoder.decode(body) } catch {
            stats.invalid += 1
            stats.lastError = "\(error)"
            collector.countInvalid(1)
            return Self.status(400, "\(error)")
        }
        stats.reads += 1
        let now = Date().timeIntervalSince1970
        var batch: [Sample] = []
        var rejected = output.rejected
        for (p, m) in output.samples {
            let ref: NodeRef
            if let r = refs[p.node] { ref = r } else {
                guard refs.count < Self.maxNodes else { rejected += 1; stats.dropped += 1; continue }
                ref = collector.register(NodePlacement(regionID: p.region, siteID: p.site, nodeID: p.node))
                refs[p.node] = ref
            }
            batch.append(Sample(node: ref, time: now, metric: m.metric, value: m.value, gpu: m.gpu, weight: m.weight, source: source))
        }
        collector.ingest(batch)
        stats.samples += UInt64(batch.count)
        if rejected > 0 {
            stats.invalid += UInt64(rejected)
            stats.lastError = output.firstError ?? "points over the node cap"
            collector.countInvalid(UInt64(rejected))
            return .json(200, "{\"partialSuccess\":{\"rejectedDataPoints\":\"\(rejected)\",\"errorMessage\":\(Self.jsonString(stats.lastError ?? ""))}}")
        }
        return .json(200, "{}")
    }

    private func count(invalid: UInt64, error: String) {
        lock.lock()
        stats.invalid += invalid
        stats.lastError = error
        lock.unlock()
        collector.countInvalid(invalid)
    }
}
