import EdgeCollector
import EdgeCore
import Foundation

/// Builds fleet snapshots from a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir)
/// instead of scraping: the scale path for fleets one process cannot scrape.
///
/// A refresh is sized by what is on screen (`QueryScope`): rows of the fleet, regions and sites
/// come from aggregates (or the recording rules of `deploy/rules.yml`, when Prometheus has
/// them), and per-node series are read only for the nodes in scope and the exceptions. Per-node
/// series are turned into samples for a fresh collector: node health as the regional collector
/// reported it (`edgetop_node_health`), data age, GPU gauges (edgetop's and DCGM's), and request
/// latency from the increase of tier-aligned buckets over the window (bucket-bounded, `≈`).
/// Each query runs concurrently with a timeout; a failed query or a `warnings` answer leaves a
/// visible problem, and the rest of the view stands.
public final class PrometheusQuerySource: @unchecked Sendable {
    public let client: PrometheusClient
    public var regionLabel = "region"
    public var siteLabel = "site"
    public var nodeLabel = "node"
    public let window: Double
    let config: CollectorConfig
    private let http = HTTPClient()
    var httpClient: HTTPClient { http }

    deinit { http.shutdown() }
    let lock = NSLock()
    private var stats: SourceStats
    /// What the last refresh cost: queries sent and series read back.
    public var lastRefresh: (queries: Int, series: Int) { lock.withLock { (refreshCost.queries, refreshCost.series) } }
    /// The last refresh's cost with its scope.
    public var lastCost: QueryCost { lock.withLock { refreshCost } }
    private var refreshCost = QueryCost(scope: .everything)
    /// Whether Prometheus has the recording rules, and when that was last asked (nil: never).
    var rulesChecked: (at: Double, present: Bool)?
    /// The site each node was last seen in (a node's scope also reads its site's row).
    var siteOfNode: [String: String] = [:]
    /// The last history read per (entities, span), and when.
    var historyCache: [HistoryKey: (at: Double, value: [HistoryEntity: HistorySeries])] = [:]
    struct HistoryKey: Hashable {
        var entities: [HistoryEntity]
        var span: HistorySpan
    }
    /// Read the recording rules when Prometheus has them (the bench turns this off to compare).
    public var useRecordingRules: Bool {
        get { lock.withLock { rulesWanted } }
        set { lock.withLock { rulesWanted = newValue } }
    }
    private var rulesWanted = true

    /// Asks Prometheus again, on the next refresh, whether it has the rules.
    public func forgetRules() { lock.withLock { rulesChecked = nil } }

    public init(client: PrometheusClient, window: Double, config: CollectorConfig) {
        self.client = client
        self.window = window
        self.config = config
        stats = SourceStats(name: "prometheus \(client.base.absoluteString)")
    }

    /// `URL[,region_label=L,site_label=L,node_label=L,timeout=S]`.
    public convenience init(argument: String, window: Double, config: CollectorConfig, authorization: String? = nil) throws {
        let parts = argument.split(separator: ",").map(String.init)
        guard let first = parts.first, let url = URL(string: first), ["http", "https"].contains(url.scheme?.lowercased() ?? "") else {
            throw ScrapeTarget.ParseError(description: "--prometheus \"\(argument.prefix(60))\": expected an http(s) URL")
        }
        var timeout = 5.0
        var labels: [String: String] = [:]
        for option in parts.dropFirst() {
            let kv = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[1].isEmpty else { throw ScrapeTarget.ParseError(description: "--prometheus option \"\(option)\": expected key=value") }
            switch kv[0] {
            case "region_label", "site_label", "node_label": labels[kv[0]] = kv[1]
            case "timeout":
                guard let t = Double(kv[1]), t > 0 else { throw ScrapeTarget.ParseError(description: "--prometheus timeout must be seconds") }
                timeout = t
            default: throw ScrapeTarget.ParseError(description: "--prometheus option \"\(kv[0])\" is unknown (region_label, site_label, node_label, timeout)")
            }
        }
        self.init(client: PrometheusClient(base: url, timeout: timeout, authorization: authorization), window: window, config: config)
        regionLabel = labels["region_label"] ?? regionLabel
        siteLabel = labels["site_label"] ?? siteLabel
        nodeLabel = labels["node_label"] ?? nodeLabel
    }

    public func sourceStats() -> SourceStats {
        lock.lock(); defer { lock.unlock() }
        return stats
    }

    /// The per-node queries.
    enum Query: CaseIterable {
        case health, cause, age, util, temp, memUsed, memTotal, power, xid, throttled, dcgmUtil, dcgmTemp, latency, vllmLatency, tiers
    }

    /// What triage needs of the nodes outside the scope on screen that are not HEALTHY: their
    /// state and why, the GPU behind it, and their data age.
    func exceptionQueries() -> [(q: Query, text: String)] {
        // `edgetop_node_cause` exists only while a node is not HEALTHY and carries its state,
        // the kind of its reason and the GPU (and Xid) behind it: a sparse metric, so reading
        // all of it touches a series per exception, not per node or GPU.
        [(.cause, "edgetop_node_cause"),
         (.age, "edgetop_node_data_age_seconds and on (\(regionLabel), \(siteLabel), \(nodeLabel)) edgetop_node_cause")]
    }

    /// Which collectors Prometheus can no longer scrape (asked once per refresh).
    enum Liveness: CaseIterable { case collectors, collectorTimes, up }

    /// How far back a silent collector and its nodes are remembered.
    static let collectorMemory = "10m"

    /// A selector: `name{matchers}`, with `matcher` (label matchers without braces) and `extra`.
    static func selector(_ name: String, _ matcher: String?, _ extra: String? = nil) -> String {
        let parts = [matcher, extra].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? name : "\(name){\(parts.joined(separator: ","))}"
    }

    /// A per-node query, for every node or for those `matcher` selects.
    func promql(_ q: Query, matcher m: String? = nil) -> String {
        let by = "\(regionLabel), \(siteLabel), \(nodeLabel)"
        let w = "\(Int(window.rounded()))s"
        func sel(_ name: String) -> String { Self.selector(name, m) }
        switch q {
        case .health: return "\(sel("edgetop_node_health")) == 1"
        case .cause: return sel("edgetop_node_cause")
        case .age: return sel("edgetop_node_data_age_seconds")
        case .util: return sel("edgetop_gpu_utilization_ratio")
        case .temp: return sel("edgetop_gpu_temperature_celsius")
        case .memUsed: return sel("edgetop_gpu_memory_used_bytes")
        case .memTotal: return sel("edgetop_gpu_memory_total_bytes")
        case .power: return sel("edgetop_gpu_power_watts")
        case .xid: return "\(sel("edgetop_gpu_last_xid")) > 0"
        case .throttled: return "\(sel("edgetop_gpu_throttled")) == 1"
        case .dcgmUtil: return sel("DCGM_FI_DEV_GPU_UTIL")
        case .dcgmTemp: return sel("DCGM_FI_DEV_GPU_TEMP")
        case .latency: return "sum by (le, \(by)) (increase(\(sel("edgetop_request_latency_seconds_bucket"))[\(w)]))"
        case .tiers: return "sum by (le, \(by)) (\(sel("edgetop_request_latency_seconds_bucket")))"
        case .vllmLatency:
            let v = Self.selector("", "__name__=~\"vllm[:_]e2e_request_latency_seconds_bucket\"", m)
            return "sum by (le, \(by)) (increase(\(v)[\(w)]))"
        }
    }

    func promql(_ q: Liveness) -> String {
        switch q {
        case .collectors: "last_over_time(edgetop_collector_info[\(Self.collectorMemory)])"
        case .collectorTimes: "last_over_time(edgetop_collector_snapshot_timestamp_seconds[\(Self.collectorMemory)])"
        case .up: "up"
        }
    }

    /// Every node's series: what a headless `--view nodes` of the whole fleet needs.
    public func snapshot(at now: Double) async -> (FleetSnapshot, [String]) {
        await snapshot(at: now, scope: .everything)
    }

    /// The fleet at `now`, reading per-node series only for `scope` (and the exceptions), plus
    /// the problems.
    public func snapshot(at now: Double, scope: QueryScope) async -> (FleetSnapshot, [String]) {
        var run = QueryRun(cost: QueryCost(scope: scope))
        var snap: FleetSnapshot
        if scope != .everything, let scoped = await scopedSnapshot(at: now, scope: scope, run: &run) {
            snap = scoped
        } else {
            // Every node's series (also when Prometheus holds no edgetop collector: then there
            // are no health series to count groups by, and only the nodes can say).
            run = QueryRun(cost: QueryCost(scope: .everything))
            let answers = await runQueries(Liveness.allCases.map { promql($0) } + Query.allCases.map { promql($0) }, at: now, run: &run)
            var live: [Liveness: PrometheusAPI.Answer] = [:], byQuery: [Query: [VectorSample]] = [:]
            for (i, q) in Liveness.allCases.enumerated() { live[q] = answers[i] }
            for (i, q) in Query.allCases.enumerated() { byQuery[q] = answers[Liveness.allCases.count + i]?.samples }
            snap = await assembleNodes(byQuery, at: now, silent: silentCollectors(live, now: now), silentMatcher: nil, run: &run)
        }
        record(samples: run.samples, problems: run.problems)
        lock.withLock { refreshCost = run.cost }
        return (snap, run.problems)
    }

    /// Problems and cost of one refresh, as its queries come back.
    struct QueryRun {
        var cost: QueryCost
        var problems: [String] = []
        var samples = 0
    }

    /// Runs instant queries concurrently; a failed one answers nil and leaves a problem.
    func runQueries(_ queries: [String], at now: Double? = nil, run: inout QueryRun) async -> [PrometheusAPI.Answer?] {
        let time = now ?? Date().timeIntervalSince1970
        // One struct per answer: a (Int, Result<_, any Error>) tuple came back with a garbage
        // index from the task group in release builds (Swift 6.3).
        struct Outcome: Sendable {
            var index: Int
            var answer: PrometheusAPI.Answer?
            var failure: String?
        }
        let outcomes = await withTaskGroup(of: Outcome.self, returning: [Outcome].self) { group in
            for (index, q) in queries.enumerated() {
                group.addTask { [self] in
                    do { return Outcome(index: index, answer: try await client.query(q, at: time, client: http)) } catch {
                        return Outcome(index: index, failure: (error as? PrometheusAPI.Failure)?.description ?? "\(error)")
                    }
                }
            }
            var out: [Outcome] = []
            for await o in group { out.append(o) }
            return out
        }
        var answers = [PrometheusAPI.Answer?](repeating: nil, count: queries.count)
        var failures: [(Int, String)] = []
        for o in outcomes where o.index >= 0 && o.index < queries.count {
            answers[o.index] = o.answer
            if let f = o.failure { failures.append((o.index, f)) }
        }
        run.cost.queries += queries.count
        for a in answers.compactMap({ $0 }) {
            run.cost.series += a.samples.count
            for w in a.warnings where !run.problems.contains("warning: \(w)") { run.problems.append("warning: \(w)") }
        }
        for (i, text) in failures.sorted(by: { $0.0 < $1.0 }) {
            run.problems.append("query \(PrintableText.line(String(queries[i].prefix(80)))) failed: \(text)")
        }
        return answers
    }

    /// Per-node answers (by what each query reads) as a snapshot of a fresh collector.
    func assembleNodes(_ byQuery: [Query: [VectorSample]], at now: Double, silent: [SilentCollector], silentMatcher: String?,
                       run: inout QueryRun) async -> FleetSnapshot {
        let collector = Collector(config: config)
        collector.nameDefaultSource("prometheus")
        var refs: [String: NodeRef] = [:]
        var batch: [Sample] = []
        var sites: [String: String] = [:]
        func ref(_ labels: [String: String]) -> NodeRef? {
            let node = labels[nodeLabel] ?? labels["Hostname"] ?? labels["hostname"] ?? labels["instance"]
            guard let node, !node.isEmpty else { return nil }
            if let r = refs[node] { return r }
            let site = labels[siteLabel] ?? "unknown"
            sites[node] = site
            let r = collector.register(NodePlacement(regionID: labels[regionLabel] ?? "unknown", siteID: site, nodeID: node))
            refs[node] = r
            return r
        }
        for s in byQuery[.health] ?? [] {
            guard let r = ref(s.labels), let state = HealthState(label: s.labels["state"] ?? "") else { continue }
            batch.append(Sample(node: r, time: now, metric: .reportedHealth, value: Double(state.rawValue)))
        }
        // Why, as the collector judged it: shown when the figures read here do not say more.
        // Set after the batch, whose `up` samples clear a node's error.
        var reasons: [(NodeRef, String)] = []
        for s in byQuery[.cause] ?? [] {
            guard let r = ref(s.labels) else { continue }
            if let state = HealthState(label: s.labels["state"] ?? "") {
                batch.append(Sample(node: r, time: now, metric: .reportedHealth, value: Double(state.rawValue)))
            }
            let cause = s.labels["cause"] ?? ""
            if let g = s.labels["gpu"].flatMap({ UInt8($0) }), g < 64 {
                if let xid = s.labels["xid"].flatMap({ Double($0) }) { batch.append(Sample(node: r, time: now, metric: .xid, value: xid, gpu: g)) }
                if cause == "gpu_throttling" { batch.append(Sample(node: r, time: now, metric: .throttleReasons, value: 0x40, gpu: g)) }
            }
            guard let phrase = NodeStatus.phrase(cause: cause) else { continue }
            let who = s.labels["edgetop_collector"].map { "collector \($0)" } ?? "its collector"
            reasons.append((r, "\(phrase), per \(who)"))
        }
        for s in byQuery[.age] ?? [] where s.value.isFinite {
            guard let r = ref(s.labels) else { continue }
            batch.append(Sample(node: r, time: now - max(0, s.value), metric: .up, value: 1))
        }
        let gauges: [(Query, Metric, Double)] = [(.util, .gpuUtil, 100), (.temp, .gpuTempC, 1), (.memUsed, .gpuMemUsedMiB, 1 / 1_048_576),
                                                 (.memTotal, .gpuMemTotalMiB, 1 / 1_048_576), (.power, .gpuPowerW, 1), (.xid, .xid, 1),
                                                 (.throttled, .throttleReasons, 0x40), (.dcgmUtil, .gpuUtil, 1), (.dcgmTemp, .gpuTempC, 1)]
        for (q, metric, scale) in gauges {
            for s in byQuery[q] ?? [] where s.value.isFinite {
                guard let r = ref(s.labels), let g = s.labels["gpu"].flatMap({ UInt8($0) }), g < 64 else { continue }
                batch.append(Sample(node: r, time: now, metric: metric, value: s.value * scale, gpu: g))
            }
        }
        for q in [Query.latency, .vllmLatency] {
            var series: [String: (NodeRef, [(Double, Double)])] = [:]
            for s in byQuery[q] ?? [] {
                guard let r = ref(s.labels), let le = Self.bound(s.labels["le"]), s.value.isFinite else { continue }
                series["\(r.region)/\(r.slot)", default: (r, [])].1.append((le, s.value))
            }
            for (_, (r, buckets)) in series {
                Self.unpack(buckets) { value, n in
                    batch.append(Sample(node: r, time: now, metric: .latencyBucketMs, value: value, weight: UInt32(n)))
                }
            }
        }
        // A collector Prometheus can no longer scrape: its series went stale, so its nodes
        // would simply vanish. As last seen they come back STALE, naming it.
        for c in silent {
            if !run.problems.contains(c.message) { run.problems.append(c.message) }
            let extra = "edgetop_collector=\"\(ExpositionText.escapeLabelValue(c.name))\""
            let answer = await runQueries(["last_over_time(\(Self.selector("edgetop_node_health", extra, silentMatcher))[\(Self.collectorMemory)]) == 1"],
                                          at: now, run: &run)
            for s in answer[0]?.samples ?? [] {
                guard let r = ref(s.labels) else { continue }
                batch.append(Sample(node: r, time: now, metric: .reportedHealth, value: Double(HealthState.stale.rawValue)))
                reasons.append((r, c.message))
            }
        }
        collector.ingest(batch)
        for (r, message) in reasons { collector.setError(message, node: r) }
        collector.drain()
        run.samples += batch.count
        if !sites.isEmpty { lock.withLock { siteOfNode.merge(sites) { _, new in new } } }
        var snap = collector.snapshot(at: now)
        // Tier fractions come straight from the collectors' cumulative tier buckets, exact.
        var tiers: [String: [UInt64]] = [:]
        for s in byQuery[.tiers] ?? [] {
            guard let node = s.labels[nodeLabel], let le = Self.bound(s.labels["le"]), s.value.isFinite, s.value >= 0 else { continue }
            let ms = (le * 1_000_000).rounded() / 1000  // 0.025 s is 25 ms, not 25.000000000000004
            let i = TierBuckets.index(ms)
            guard i < TierBuckets.upperBoundsMs.count, TierBuckets.upperBoundsMs[i] == ms || le.isInfinite else { continue }
            tiers[node, default: [UInt64](repeating: 0, count: TierBuckets.upperBoundsMs.count)][i] = UInt64(s.value)
        }
        for i in snap.nodes.indices {
            guard let cumulative = tiers[snap.nodes[i].id] else { continue }
            var counts = cumulative
            for b in stride(from: counts.count - 1, to: 0, by: -1) { counts[b] = counts[b] &- min(counts[b], counts[b - 1]) }
            snap.nodes[i].tierCounts = counts
            snap.nodes[i].requestsTotal = cumulative.last ?? 0
        }
        return snap
    }

    /// A bucket's `le` in seconds (`+Inf` included); nil when it is not a number.
    static func bound(_ text: String?) -> Double? {
        text.flatMap { Double($0.replacingOccurrences(of: "Inf", with: "inf")) }
    }

    /// Cumulative buckets (`le` in seconds, count) as per-bucket counts at each bucket's upper
    /// bound in milliseconds (the `+Inf` bucket at the last finite bound): what a classic
    /// histogram can say, bucket-bounded.
    static func unpack(_ buckets: [(Double, Double)], _ emit: (Double, UInt64) -> Void) {
        var below = 0.0, lastFinite = 0.0
        for (le, cumulative) in buckets.sorted(by: { $0.0 < $1.0 }) {
            let n = (cumulative - below).rounded()
            below = max(below, cumulative)
            if le.isFinite { lastFinite = le }
            guard n >= 1, n < Double(UInt32.max) else { continue }
            emit((le.isFinite ? le : lastFinite) * 1000, UInt64(n))
        }
    }

    /// A collector whose last scrape failed (`up == 0` for the instance that serves its info).
    struct SilentCollector: Equatable {
        var name: String
        var regions: [String]
        var silentFor: Double?
        var message: String {
            let since = silentFor.map { "last data \(Int($0.rounded()))s ago" } ?? "no data"
            return "collector \(name) (\(regions.joined(separator: ", "))): scrape failed, \(since)"
        }
    }

    func silentCollectors(_ answers: [Liveness: PrometheusAPI.Answer], now: Double) -> [SilentCollector] {
        func target(_ l: [String: String]) -> String { "\(l["job"] ?? "")/\(l["instance"] ?? "")" }
        var down = Set<String>()
        for s in answers[.up]?.samples ?? [] where s.value == 0 { down.insert(target(s.labels)) }
        guard !down.isEmpty else { return [] }
        var names: [String: (regions: Set<String>, last: Double?)] = [:]
        for s in answers[.collectors]?.samples ?? [] where down.contains(target(s.labels)) {
            guard let name = s.labels["edgetop_collector"] else { continue }
            names[name, default: ([], nil)].regions.insert(s.labels[regionLabel] ?? s.labels["region"] ?? "?")
        }
        for s in answers[.collectorTimes]?.samples ?? [] where down.contains(target(s.labels)) {
            guard let name = s.labels["edgetop_collector"], names[name] != nil, s.value.isFinite else { continue }
            names[name]!.last = max(names[name]!.last ?? -.infinity, s.value)
        }
        return names.sorted { $0.key < $1.key }.map { SilentCollector(name: $0.key, regions: $0.value.regions.sorted(), silentFor: $0.value.last.map { max(0, now - $0) }) }
    }

    func record(samples: Int, problems: [String]) {
        lock.withLock {
            stats.reads += 1
            stats.samples += UInt64(samples)
            stats.up = problems.isEmpty
            if problems.isEmpty { stats.lastError = nil } else { stats.failures += 1; stats.lastError = problems.first }
        }
    }
}
