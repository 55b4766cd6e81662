import EdgeCollector
import EdgeCore
import Foundation

/// Scrapes Prometheus/OpenMetrics endpoints concurrently, each on its own interval with its
/// own timeout, into the collector's batched ingest path. A slow or dead target only delays
/// itself: its nodes get `up = 0` with the error shown, and their data age grows.
///
/// No task or thread per target: the HTTP client's event loop starts each request at its
/// scheduled time and hands the answer to `handle` on that same thread, which parses, maps and
/// batches it and schedules the next scrape — two wake-ups per scrape (its start time and its
/// answer), none for thread hand-offs. Batches reach the collector every 4,096 samples or 50 ms.
public final class Scraper: @unchecked Sendable {
    public let targets: [ScrapeTarget]
    private let collector: Collector
    private let client = HTTPClient()
    private let flusher = DispatchQueue(label: "edgetop.scrape-flush")
    private let lock = NSLock()
    private var stopping = false
    private var stats: [String: SourceStats] = [:]
    /// Each target's provenance in the collector, by target index.
    private let sources: [SourceID]
    /// Per target; touched on the client's loop thread only (and before start, after stop).
    private var states: [TargetState] = []
    /// Samples read and not yet handed over, guarded by `pendingLock`.
    private let pendingLock = NSLock()
    private var pending: [Sample] = []
    private var flushScheduled = false
    /// Most distinct nodes one target may create (a label explosion stops here; counted).
    public static let maxNodesPerTarget = 2_000
    /// Samples from several scrapes go to the collector together (one hop per region).
    static let flushSamples = 4_096
    static let flushSeconds = 0.05

    public init(targets: [ScrapeTarget], collector: Collector) {
        self.targets = targets
        self.collector = collector
        sources = targets.map { collector.registerSource(SourceInfo(name: $0.url.absoluteString, kind: .scrape, service: $0.service)) }
    }

    /// Registers every target's own node, so a target that never answers still shows (DOWN).
    public func registerTargets() {
        _ = collector.register(targets.map { Self.placement($0, node: $0.node) })
    }

    static func placement(_ t: ScrapeTarget, node: String, site: String? = nil, region: String? = nil) -> NodePlacement {
        NodePlacement(regionID: region ?? t.region, siteID: site ?? t.site, nodeID: node, tierMs: t.tierMs)
    }

    /// Starts scraping every target, spread over its interval.
    public func start() {
        registerTargets()
        states = targets.enumerated().map { TargetState(target: $1, source: sources[$0], classes: collector.config.classes) }
        let now = Date().timeIntervalSince1970
        for i in targets.indices { schedule(i, at: now + Self.offset(of: targets[i])) }
    }

    /// Where in its interval a target is scraped: a stable hash of its URL (FNV-1a), as
    /// Prometheus spreads targets, so 1,000 targets make a steady stream, not a burst.
    static func offset(of t: ScrapeTarget) -> Double {
        Double(StableHash.fnv1a(t.url.absoluteString.utf8) % 10_000) / 10_000 * t.interval
    }

    private func schedule(_ i: Int, at time: Double) {
        let t = targets[i]
        let request = HTTPClientRequest(url: t.url, headers: [("Accept", ExpositionFormat.acceptHeader)], timeout: t.timeout)
        client.get(request, notBefore: time) { [self] result in
            // On the client's loop thread.
            guard !isStopping else { return }  // stopped mid-scrape: nothing to report
            handle(i, result, began: time)
            // Fixed rate: the next scrape is one interval after this one began.
            let now = Date().timeIntervalSince1970
            var next = time + t.interval
            if next < now { next = now + min(t.interval, 0.05) }  // fell behind: skip, never burst
            schedule(i, at: next)
        }
    }

    /// Stops now: requests in flight are cancelled (their connections closed, mid-body or not)
    /// and record nothing; samples already read are handed over.
    public func stop() {
        lock.lock()
        let already = stopping
        stopping = true
        lock.unlock()
        guard !already else { return }
        client.shutdown()
        flush()
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
        init(target: ScrapeTarget, source: SourceID = 0, classes: ClassCatalog = .standard) {
            self.source = source
            mapper = ScrapeMapper(defaultNode: target.node, nodeLabels: target.nodeLabels)
            mapper.siteLabel = target.siteLabel
            mapper.classLabel = target.classLabel
            mapper.classes = classes
            mapper.regionLabel = target.regionLabel
        }
    }

    /// One answer (or failure) of target `i`; on the client's loop thread.
    private func handle(_ i: Int, _ result: Result<HTTPClientResponse, HTTPClientError>, began: Double) {
        var out: [Sample] = []
        let t = targets[i]
        let now = Date().timeIntervalSince1970
        do {
            let page = try Self.page(result)
            let exposition = try Self.parse(page.body, contentType: page.contentType)
            let mapped = states[i].mapper.map(exposition)
            let source = states[i].source
            var nodes = Set(mapped.map(\.node))
            nodes.insert(t.node)
            var dropped = 0
            var where_: [String: (site: String?, region: String?)] = [:]
            for m in mapped where where_[m.node] == nil { where_[m.node] = (m.site, m.region) }
            for n in nodes where states[i].refs[n] == nil {
                if states[i].refs.count >= Self.maxNodesPerTarget { dropped += 1; continue }
                states[i].refs[n] = collector.register(Self.placement(t, node: n, site: where_[n]?.site, region: where_[n]?.region))
            }
            out.reserveCapacity(mapped.count + nodes.count)
            for n in nodes { if let r = states[i].refs[n] { out.append(Sample(node: r, time: now, metric: .up, value: 1, source: source)) } }
            for m in mapped {
                guard let r = states[i].refs[m.node] else { continue }
                out.append(Sample(node: r, time: now, metric: m.metric, value: m.value, gpu: m.gpu, weight: m.weight, source: source))
            }
            let added = out.count
            record(t) {
                $0.reads += 1
                $0.samples += UInt64(added)
                $0.dropped += UInt64(dropped)
                if dropped > 0 { $0.lastError = "\(dropped) nodes over the per-target cap" }
                $0.up = true
            }
        } catch {
            let failure = failure(error)
            if failure.invalidPage { collector.countInvalid(1) }
            let reason = failure.reason
            if states[i].refs.isEmpty { states[i].refs[t.node] = collector.register(Self.placement(t, node: t.node)) }
            for r in states[i].refs.values {
                out.append(Sample(node: r, time: now, metric: .up, value: 0, source: states[i].source))
                collector.setError(reason, node: r)
            }
            record(t) {
                $0.failures += 1
                if failure.invalidPage { $0.invalid += 1 }
                $0.lastError = reason
                $0.up = false
            }
        }
        guard !out.isEmpty else { return }
        pendingLock.lock()
        pending.append(contentsOf: out)
        let full = pending.count >= Self.flushSamples
        let arm = !full && !flushScheduled
        if arm { flushScheduled = true }
        pendingLock.unlock()
        if full {
            flush()
        } else if arm {
            flusher.asyncAfter(deadline: .now() + Self.flushSeconds) { [self] in flush() }
        }
    }

    private func failure(_ error: any Error) -> ScrapeFailure {
        (error as? ScrapeFailure) ?? ScrapeFailure(reason: "unreachable: \(error)")
    }

    /// Hands the pending samples to the collector.
    private func flush() {
        pendingLock.lock()
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        flushScheduled = false
        pendingLock.unlock()
        if !batch.isEmpty { collector.ingest(batch) }
    }

    /// One answer of a target.
    struct Page { var body: [UInt8]; var contentType: String? }

    /// The page of an answer, or why the scrape failed.
    static func page(_ result: Result<HTTPClientResponse, HTTPClientError>) throws(ScrapeFailure) -> Page {
        switch result {
        case .failure(.protocolError(let why)): throw ScrapeFailure(reason: "scrape failed: \(why)", invalidPage: true)
        case .failure(let e): throw ScrapeFailure(reason: "unreachable: \(e)")
        case .success(let response):
            guard (200..<300).contains(response.status) else { throw ScrapeFailure(reason: "scrape failed: HTTP \(response.status)") }
            return Page(body: response.body, contentType: response.header("Content-Type"))
        }
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
}

/// Why a scrape failed, as the operator reads it on the node.
public struct ScrapeFailure: Error, CustomStringConvertible {
    public var reason: String
    /// The target answered, but with a page that is not a valid exposition.
    public var invalidPage = false
    public var description: String { reason }
}

