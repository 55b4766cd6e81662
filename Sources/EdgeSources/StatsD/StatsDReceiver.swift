import EdgeCollector
import EdgeCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a StatsD listener binds and where untagged samples belong.
public struct StatsDOptions: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    public var region: String
    public var site: String
    public var node: String
    /// The service whose requests these timings measure ("": the node's only service). Two
    /// sources' latency for one node is summed only when they name different services.
    public var service = ""
    /// Whether the argument placed the listener (region, site or node given): only then is
    /// its default node shown before traffic arrives ("no data yet"); otherwise tagged
    /// traffic places everything and a phantom `default/statsd` node would be noise.
    public var placed = false

    public struct ParseError: Error, CustomStringConvertible { public var description: String }

    /// Parses `HOST:PORT[,region=R,site=S,node=N,service=NAME]` (host defaults to 127.0.0.1: `:8125`).
    public init(argument: String) throws {
        let parts = argument.split(separator: ",").map(String.init)
        guard let address = parts.first, let colon = address.lastIndex(of: ":"),
              let port = UInt16(address[address.index(after: colon)...]), port > 0 else {
            throw ParseError(description: "--statsd \"\(argument.prefix(60))\": expected HOST:PORT, e.g. 127.0.0.1:8125")
        }
        let h = String(address[..<colon])
        host = h.isEmpty ? "127.0.0.1" : h
        self.port = port
        region = "default"; site = "statsd"; node = "statsd"
        for option in parts.dropFirst() {
            let kv = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[1].isEmpty else { throw ParseError(description: "--statsd option \"\(option)\": expected key=value") }
            switch kv[0] {
            case "region": region = kv[1]; placed = true
            case "site": site = kv[1]; placed = true
            case "node": node = kv[1]; placed = true
            case "service": service = kv[1]
            default: throw ParseError(description: "--statsd option \"\(kv[0])\" is unknown (region, site, node, service)")
            }
        }
    }
}

/// Receives StatsD/DogStatsD datagrams on UDP and feeds the collector in batches. Timings
/// (`ms`, `h`, `d`) are request latencies, sample by sample, each weighted by its sample rate;
/// `region`/`site`/`node` tags place them (other tags are kept only in the source's counts).
/// Gauges named like edgetop's metrics (`gpu_util`, `gpu.temp_c` with a `gpu` tag, `up`) and
/// counters named `errors` are mapped too; other metrics are counted as ignored.
public final class StatsDReceiver: @unchecked Sendable {
    public let options: StatsDOptions
    private let collector: Collector
    private var fd: Int32 = -1
    private let lock = NSLock()
    private let loop = SocketLoop()
    private var stats: SourceStats
    private var refs: [String: NodeRef] = [:]
    /// This receiver's provenance in the collector.
    private let source: SourceID
    public static let maxNodes = 10_000

    public struct BindError: Error, CustomStringConvertible { public var description: String }

    public init(options: StatsDOptions, collector: Collector) {
        self.options = options
        self.collector = collector
        stats = SourceStats(name: "statsd \(options.host):\(options.port)")
        source = collector.registerSource(SourceInfo(name: stats.name, kind: .statsd, service: options.service))
    }

    /// Binds the socket (so an address in use fails at once) and starts receiving.
    public func start() throws {
        do {
            fd = try Sockets.bound(host: options.host, port: options.port, type: Int32(SOCK_DGRAM.rawValue), what: "StatsD").fd
        } catch { throw BindError(description: "\(error)") }
        var buffer: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
        if options.placed { _ = collector.register(placement(node: options.node, tags: [:])) }
        loop.start(name: "edgetop.statsd") { [self] in run() }
    }

    public func stop() {
        loop.stop(closing: &fd)
    }

    public func sourceStats() -> SourceStats {
        lock.lock(); defer { lock.unlock() }
        return stats
    }

    private var isStopping: Bool { loop.isStopping }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var batch: [Sample] = []
        batch.reserveCapacity(2048)
        var lastFlush = Date().timeIntervalSince1970
        var local = SourceStats(name: stats.name)
        while !isStopping {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            let now = Date().timeIntervalSince1970
            if n > 0 {
                local.reads += 1  // datagrams
                handle(Array(buffer[0..<n]), at: now, into: &batch, stats: &local)
            }
            if !batch.isEmpty && (batch.count >= 1024 || now - lastFlush >= 0.05 || n <= 0) {
                collector.ingest(batch)
                local.samples += UInt64(batch.count)
                batch.removeAll(keepingCapacity: true)
                lastFlush = now
            }
            lock.lock()
            local.up = true
            stats = local
            lock.unlock()
        }
        if !batch.isEmpty { collector.ingest(batch); local.samples += UInt64(batch.count) }
        lock.lock(); stats = local; lock.unlock()
    }

    func handle(_ datagram: [UInt8], at now: Double, into batch: inout [Sample], stats: inout SourceStats) {
        for line in StatsDParser.parse(datagram: datagram) {
            switch line {
            case .failure(let e):
                stats.invalid += 1
                stats.lastError = e.reason
                collector.countInvalid(1)
            case .success(.metric(let m)):
                switch map(m, at: now, into: &batch) {
                case .mapped: break
                case .ignored: stats.ignored += 1
                case .overCap:
                    stats.dropped += 1
                    stats.lastError = "more than \(Self.maxNodes) nodes"
                }
            case .success(.event), .success(.serviceCheck):
                break
            }
        }
    }

    enum MapOutcome { case mapped, ignored, overCap }

    /// Adds the samples one metric stands for.
    func map(_ m: StatsDMetric, at now: Double, into batch: inout [Sample]) -> MapOutcome {
        let t = m.timestamp ?? now
        // Timings need no name; gauges and counters are matched on a normalised one.
        var name: String {
            String(decoding: m.name.utf8.map { $0 == UInt8(ascii: ".") ? UInt8(ascii: "_") : ($0 >= 65 && $0 <= 90 ? $0 + 32 : $0) }, as: UTF8.self)
        }
        let metric: Metric
        switch m.kind {
        case .timer, .histogram, .distribution: metric = .latencyMs
        case .counter where name == "errors" || name.hasSuffix("_errors"): metric = .errors
        case .gauge where !m.relative:
            guard let g = Metric.allCases.first(where: { name == $0.name || name.hasSuffix("_" + $0.name) }),
                  g != .latencyMs, g != .latencyBucketMs, g != .errors else { return .ignored }
            metric = g
        default: return .ignored
        }
        var gpu: UInt8 = 0
        if metric.isPerGPU {
            guard let g = m.tags["gpu"].flatMap({ UInt8($0) }), g < 64 else { return .ignored }
            gpu = g
        } else if metric.carriesClass, let c = m.tags["class"] ?? m.tags["workload"] {
            gpu = collector.config.classes.workload(named: c).rawValue  // latency and errors: the byte holds the class
        }
        guard let ref = ref(for: m.tags) else { return .overCap }
        for v in m.values {
            batch.append(Sample(node: ref, time: t, metric: metric, value: v, gpu: gpu, weight: m.weight, source: source))
        }
        return .mapped
    }

    private func placement(node: String, tags: [String: String]) -> NodePlacement {
        NodePlacement(regionID: tags["region"] ?? options.region, siteID: tags["site"] ?? options.site, nodeID: node)
    }

    private func ref(for tags: [String: String]) -> NodeRef? {
        let node = tags["node"] ?? tags["host"] ?? options.node
        if let r = refs[node] { return r }
        guard refs.count < Self.maxNodes else { return nil }
        let r = collector.register(placement(node: node, tags: tags))
        refs[node] = r
        return r
    }
}
