import EdgeCollector
import EdgeCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Scrapes Prometheus/OpenMetrics endpoints concurrently, each on its own interval with its
/// own timeout, into the collector's batched ingest path. A slow or dead target only delays
/// itself: its nodes get `up = 0` with the error shown, and their data age grows.
public final class Scraper: @unchecked Sendable {
    public let targets: [ScrapeTarget]
    private let collector: Collector
    private let session: URLSession
    private let lock = NSLock()
    private var tasks: [Task<Void, Never>] = []
    private var stopping = false
    private var stats: [String: SourceStats] = [:]
    /// Each target's provenance in the collector, by target index.
    private let sources: [SourceID]
    /// Most distinct nodes one target may create (a label explosion stops here; counted).
    public static let maxNodesPerTarget = 2_000

    public init(targets: [ScrapeTarget], collector: Collector) {
        self.targets = targets
        self.collector = collector
        sources = targets.map { collector.registerSource(SourceInfo(name: $0.url.absoluteString, kind: .scrape, service: $0.service)) }
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = 2
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: config)
    }

    /// Registers every target's own node, so a target that never answers still shows (DOWN).
    public func registerTargets() {
        _ = collector.register(targets.map { Self.placement($0, node: $0.node) })
    }

    static func placement(_ t: ScrapeTarget, node: String, site: String? = nil, region: String? = nil) -> NodePlacement {
        NodePlacement(regionID: region ?? t.region, siteID: site ?? t.site, nodeID: node, tierMs: t.tierMs)
    }

    /// Starts one loop per target.
    public func start() {
        registerTargets()
        lock.lock()
        defer { lock.unlock() }
        for (i, t) in targets.enumerated() {
            let source = sources[i]
            tasks.append(Task.detached { [self] in
                var state = TargetState(target: t, source: source)
                while !isStopping {
                    let began = Date().timeIntervalSince1970
                    await scrape(t, state: &state)
                    // Sleep in short steps so stop() is noticed soon after.
                    var wait = max(0.05, t.interval - (Date().timeIntervalSince1970 - began))
                    while wait > 0 && !isStopping {
                        try? await Task.sleep(nanoseconds: UInt64(min(wait, 0.1) * 1e9))
                        wait -= 0.1
                    }
                }
            })
        }
    }

    /// Stops the loops after their current scrape. Tasks are not cancelled: cancelling an
    /// in-flight `URLSession` request crashes FoundationNetworking on Linux (seen in CI), so a
    /// request finishes (within its timeout) and its loop ends.
    public func stop() {
        lock.lock()
        stopping = true
        tasks = []
        lock.unlock()
    }

    private var isStopping: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopping
    }

    /// Per-target counters for the status bar and JSON.
    public func sourceStats() -> [SourceStats] {
        lock.lock(); defer { lock.unlock() }
        return targets.map { stats[$0.url.absoluteString] ?? SourceStats(name: $0.url.absoluteString) }
    }

    struct TargetState {
        var mapper: ScrapeMapper
        var refs: [String: NodeRef] = [:]
        let source: SourceID
        init(target: ScrapeTarget, source: SourceID = 0) {
            self.source = source
            mapper = ScrapeMapper(defaultNode: target.node, nodeLabels: target.nodeLabels)
            mapper.siteLabel = target.siteLabel
            mapper.regionLabel = target.regionLabel
        }
    }

    func scrape(_ t: ScrapeTarget, state: inout TargetState) async {
        let now = Date().timeIntervalSince1970
        do {
            let page = try await fetch(t)
            let exposition = try Self.parse(page.body, contentType: page.contentType)
            let mapped = state.mapper.map(exposition)
            var batch: [Sample] = []
            batch.reserveCapacity(mapped.count + 4)
            var nodes = Set(mapped.map(\.node))
            nodes.insert(t.node)
            var dropped = 0
            var where_: [String: (site: String?, region: String?)] = [:]
            for m in mapped where where_[m.node] == nil { where_[m.node] = (m.site, m.region) }
            for n in nodes where state.refs[n] == nil {
                if state.refs.count >= Self.maxNodesPerTarget { dropped += 1; continue }
                state.refs[n] = collector.register(Self.placement(t, node: n, site: where_[n]?.site, region: where_[n]?.region))
            }
            for n in nodes { if let r = state.refs[n] { batch.append(Sample(node: r, time: now, metric: .up, value: 1, source: state.source)) } }
            for m in mapped {
                guard let r = state.refs[m.node] else { continue }
                batch.append(Sample(node: r, time: now, metric: m.metric, value: m.value, gpu: m.gpu, weight: m.weight, source: state.source))
            }
            collector.ingest(batch)
            record(t) {
                $0.reads += 1
                $0.samples += UInt64(batch.count)
                $0.dropped += UInt64(dropped)
                if dropped > 0 { $0.lastError = "\(dropped) nodes over the per-target cap" }
                $0.up = true
            }
        } catch {
            let failure = (error as? ScrapeFailure) ?? ScrapeFailure(reason: "unreachable: " + Self.describe(error))
            if failure.invalidPage { collector.countInvalid(1) }
            if state.refs.isEmpty { state.refs[t.node] = collector.register(Self.placement(t, node: t.node)) }
            var batch: [Sample] = []
            for r in state.refs.values {
                batch.append(Sample(node: r, time: now, metric: .up, value: 0, source: state.source))
                collector.setError(failure.reason, node: r)
            }
            collector.ingest(batch)
            record(t) {
                $0.failures += 1
                if failure.invalidPage { $0.invalid += 1 }
                $0.lastError = failure.reason
                $0.up = false
            }
        }
    }

    /// One answer of a target.
    struct Page { var body: [UInt8]; var contentType: String? }

    /// GETs the target's page (both exposition formats in `Accept`, its own timeout).
    func fetch(_ t: ScrapeTarget) async throws -> Page {
        var request = URLRequest(url: t.url, timeoutInterval: t.timeout)
        request.setValue(ExpositionFormat.acceptHeader, forHTTPHeaderField: "Accept")
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw ScrapeFailure(reason: "scrape failed: not an HTTP response") }
        guard (200..<300).contains(http.statusCode) else { throw ScrapeFailure(reason: "scrape failed: HTTP \(http.statusCode)") }
        return Page(body: [UInt8](data), contentType: http.value(forHTTPHeaderField: "Content-Type"))
    }

    /// Parses a page the way Prometheus judges a scrape: a page with any line that cannot be
    /// parsed is a failed scrape (nothing of it is used, the target's nodes go DOWN with the
    /// line and reason), never a partly-read page that looks healthy. Text 0.0.4 is read as
    /// leniently as Prometheus' own parser; OpenMetrics strictly.
    public static func parse(_ body: [UInt8], contentType: String?) throws(ScrapeFailure) -> Exposition {
        if body.count >= 2 && body[0] == 0x1F && body[1] == 0x8B {
            throw ScrapeFailure(reason: "scrape failed: gzip body without Content-Encoding", invalidPage: true)
        }
        if let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }), first == UInt8(ascii: "<") {
            throw ScrapeFailure(reason: "scrape failed: an HTML page, not metrics", invalidPage: true)
        }
        let format = ExpositionFormat(contentType: contentType)
        let exposition = ExpositionParser(format: format, strict: format == .openMetrics).parse(body)
        if let e = exposition.errors.first {
            let more = exposition.errors.count > 1 ? " (+\(exposition.errors.count - 1) more)" : ""
            throw ScrapeFailure(reason: "scrape failed: \(e)\(more)", invalidPage: true)
        }
        return exposition
    }

    private func record(_ t: ScrapeTarget, _ change: (inout SourceStats) -> Void) {
        lock.lock()
        var s = stats[t.url.absoluteString] ?? SourceStats(name: t.url.absoluteString)
        change(&s)
        stats[t.url.absoluteString] = s
        lock.unlock()
    }

    static func describe(_ error: any Error) -> String {
        let ns = error as NSError
        if ns.domain == NSURLErrorDomain {
            switch ns.code {
            case NSURLErrorTimedOut: return "timed out"
            case NSURLErrorCannotConnectToHost: return "connection refused"
            case NSURLErrorCannotFindHost: return "unknown host"
            default: break
            }
        }
        return ns.localizedDescription
    }
}

/// Why a scrape failed, as the operator reads it on the node.
public struct ScrapeFailure: Error, CustomStringConvertible {
    public var reason: String
    /// The target answered, but with a page that is not a valid exposition.
    public var invalidPage = false
    public var description: String { reason }
}

