import EdgeCollector
import EdgeCore
import Foundation

/// Builds fleet snapshots from a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir)
/// instead of scraping: the scale path for fleets one process cannot scrape.
///
/// Each refresh runs its instant queries concurrently, each with a timeout, and turns the
/// answers into samples for a fresh collector: node health as the regional collector reported
/// it (`edgetop_node_health`), data age, GPU gauges (edgetop's and DCGM's), and request
/// latency from the increase of tier-aligned buckets over the window (bucket-bounded, `≈`).
/// A failed query or a `warnings` answer leaves a visible problem; the rest of the view stands.
public final class PrometheusQuerySource: @unchecked Sendable {
    public let client: PrometheusClient
    public var regionLabel = "region"
    public var siteLabel = "site"
    public var nodeLabel = "node"
    public let window: Double
    private let config: CollectorConfig
    private let http = HTTPClient()
    var httpClient: HTTPClient { http }

    deinit { http.shutdown() }
    private let lock = NSLock()
    private var stats: SourceStats
    /// What the last refresh cost: queries sent and series read back.
    public var lastRefresh: (queries: Int, series: Int) { lock.withLock { refreshCost } }
    private var refreshCost = (queries: 0, series: 0)

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

    enum Query: CaseIterable {
        case health, age, util, temp, memUsed, memTotal, power, dcgmUtil, dcgmTemp, latency, vllmLatency, tiers
        case collectors, collectorTimes, up
    }

    /// How far back a silent collector and its nodes are remembered.
    static let collectorMemory = "10m"

    func promql(_ q: Query) -> String {
        let by = "\(regionLabel), \(siteLabel), \(nodeLabel)"
        let w = "\(Int(window.rounded()))s"
        switch q {
        case .health: return "edgetop_node_health == 1"
        case .age: return "edgetop_node_data_age_seconds"
        case .util: return "edgetop_gpu_utilization_ratio"
        case .temp: return "edgetop_gpu_temperature_celsius"
        case .memUsed: return "edgetop_gpu_memory_used_bytes"
        case .memTotal: return "edgetop_gpu_memory_total_bytes"
        case .power: return "edgetop_gpu_power_watts"
        case .dcgmUtil: return "DCGM_FI_DEV_GPU_UTIL"
        case .dcgmTemp: return "DCGM_FI_DEV_GPU_TEMP"
        case .latency: return "sum by (le, \(by)) (increase(edgetop_request_latency_seconds_bucket[\(w)]))"
        case .tiers: return "sum by (le, \(by)) (edgetop_request_latency_seconds_bucket)"
        case .vllmLatency: return "sum by (le, \(by)) (increase({__name__=~\"vllm[:_]e2e_request_latency_seconds_bucket\"}[\(w)]))"
        case .collectors: return "last_over_time(edgetop_collector_info[\(Self.collectorMemory)])"
        case .collectorTimes: return "last_over_time(edgetop_collector_snapshot_timestamp_seconds[\(Self.collectorMemory)])"
        case .up: return "up"
        }
    }

    /// Queries everything and returns the fleet as a snapshot at `now`, plus the problems.
    public func snapshot(at now: Double) async -> (FleetSnapshot, [String]) {
        var answers: [Query: PrometheusAPI.Answer] = [:]
        var problems: [String] = []
        await withTaskGroup(of: (Query, Result<PrometheusAPI.Answer, any Error>).self) { group in
            for q in Query.allCases {
                group.addTask { [self] in
                    do { return (q, .success(try await client.query(promql(q), at: now, client: http))) } catch {
                        return (q, .failure(error))
                    }
                }
            }
            for await (q, r) in group {
                switch r {
                case .success(let a):
                    answers[q] = a
                    for w in a.warnings { problems.append("warning: \(w)") }
                case .failure(let e):
                    let text = (e as? PrometheusAPI.Failure)?.description ?? "\(e)"
                    problems.append("query \(q) failed: \(text)")
                }
            }
        }
        var cost = (queries: Query.allCases.count, series: answers.values.reduce(0) { $0 + $1.samples.count })
        let collector = Collector(config: config)
        collector.nameDefaultSource("prometheus")
        var refs: [String: NodeRef] = [:]
        var batch: [Sample] = []
        func ref(_ labels: [String: String]) -> NodeRef? {
            let node = labels[nodeLabel] ?? labels["Hostname"] ?? labels["hostname"] ?? labels["instance"]
            guard let node, !node.isEmpty else { return nil }
            if let r = refs[node] { return r }
            let r = collector.register(NodePlacement(regionID: labels[regionLabel] ?? "unknown",
                                                     siteID: labels[siteLabel] ?? "unknown", nodeID: node))
            refs[node] = r
            return r
        }
        for s in answers[.health]?.samples ?? [] {
            guard let r = ref(s.labels), let state = HealthState(label: s.labels["state"] ?? "") else { continue }
            batch.append(Sample(node: r, time: now, metric: .reportedHealth, value: Double(state.rawValue)))
        }
        for s in answers[.age]?.samples ?? [] where s.value.isFinite {
            guard let r = ref(s.labels) else { continue }
            batch.append(Sample(node: r, time: now - max(0, s.value), metric: .up, value: 1))
        }
        let gauges: [(Query, Metric, Double)] = [(.util, .gpuUtil, 100), (.temp, .gpuTempC, 1), (.memUsed, .gpuMemUsedMiB, 1 / 1_048_576),
                                                 (.memTotal, .gpuMemTotalMiB, 1 / 1_048_576), (.power, .gpuPowerW, 1),
                                                 (.dcgmUtil, .gpuUtil, 1), (.dcgmTemp, .gpuTempC, 1)]
        for (q, metric, scale) in gauges {
            for s in answers[q]?.samples ?? [] where s.value.isFinite {
                guard let r = ref(s.labels), let g = s.labels["gpu"].flatMap({ UInt8($0) }), g < 64 else { continue }
                batch.append(Sample(node: r, time: now, metric: metric, value: s.value * scale, gpu: g))
            }
        }
        for q in [Query.latency, .vllmLatency] {
            var series: [String: (NodeRef, [(Double, Double)])] = [:]
            for s in answers[q]?.samples ?? [] {
                guard let r = ref(s.labels), let leText = s.labels["le"],
                      let le = Double(leText.replacingOccurrences(of: "Inf", with: "inf")), s.value.isFinite else { continue }
                let key = "\(r.region)/\(r.slot)"
                series[key, default: (r, [])].1.append((le, s.value))
            }
            for (_, (r, buckets)) in series {
                var below = 0.0, lastFinite = 0.0
                for (le, cumulative) in buckets.sorted(by: { $0.0 < $1.0 }) {
                    let n = (cumulative - below).rounded()
                    below = max(below, cumulative)
                    if le.isFinite { lastFinite = le }
                    guard n >= 1, n < Double(UInt32.max) else { continue }
                    batch.append(Sample(node: r, time: now, metric: .latencyBucketMs, value: (le.isFinite ? le : lastFinite) * 1000,
                                        weight: UInt32(n)))
                }
            }
        }
        // A collector Prometheus can no longer scrape: its series went stale, so its regions
        // would simply vanish. Its nodes as last seen come back STALE, naming it.
        let silent = silentCollectors(answers, now: now)
        for c in silent {
            problems.append(c.message)
            let nodes: PrometheusAPI.Answer
            cost.queries += 1
            do {
                nodes = try await client.query("last_over_time(edgetop_node_health{edgetop_collector=\"\(ExpositionText.escapeLabelValue(c.name))\"}[\(Self.collectorMemory)]) == 1",
                                               at: now, client: http)
            } catch {
                problems.append("query nodes of collector \(c.name) failed: \((error as? PrometheusAPI.Failure)?.description ?? "\(error)")")
                continue
            }
            cost.series += nodes.samples.count
            for s in nodes.samples {
                guard let r = ref(s.labels) else { continue }
                batch.append(Sample(node: r, time: now, metric: .reportedHealth, value: Double(HealthState.stale.rawValue)))
                collector.setError(c.message, node: r)
            }
        }
        collector.ingest(batch)
        collector.drain()
        var snap = collector.snapshot(at: now)
        // Tier fractions come straight from the collectors' cumulative tier buckets, exact.
        var tiers: [String: [UInt64]] = [:]
        for s in answers[.tiers]?.samples ?? [] {
            guard let node = s.labels[nodeLabel], let leText = s.labels["le"],
                  let le = Double(leText.replacingOccurrences(of: "Inf", with: "inf")), s.value.isFinite, s.value >= 0 else { continue }
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
        record(samples: batch.count, problems: problems)
        lock.withLock { refreshCost = cost }
        return (snap, problems)
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

    func silentCollectors(_ answers: [Query: PrometheusAPI.Answer], now: Double) -> [SilentCollector] {
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
