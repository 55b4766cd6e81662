import EdgeCollector
import EdgeCore
@testable import EdgeSources
import Foundation
import Testing

/// The query backend's scoped refreshes against a fake Prometheus that answers canned
/// aggregates: what is asked at each level, and how the answers become rows. (The same path
/// against a real Prometheus is in EndToEndTests.)
@Suite("Query backend: scoped refreshes", .serialized)
struct QueryScopeTests {
    /// Answers by query text; records every query asked.
    final class FakePrometheus: @unchecked Sendable {
        let lock = NSLock()
        var queries: [String] = []
        var answers: [(match: String, body: String)] = []
        var server: HTTPServer!

        init() throws {
            server = HTTPServer(host: "127.0.0.1", port: 0) { [unowned self] r in
                let q = r.query["query"] ?? ""
                let body = lock.withLock {
                    queries.append(q)
                    return answers.first { q.contains($0.match) }?.body
                }
                return .json(200, #"{"status":"success","data":{"resultType":"vector","result":[\#(body ?? "")]}}"#)
            }
            try server.start()
        }

        func answer(_ match: String, _ series: [([String: String], Double)]) {
            let body = series.map { labels, v in
                let l = labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
                return #"{"metric":{\#(l)},"value":[1764230400,"\#(v)"]}"#
            }.joined(separator: ",")
            lock.withLock { answers.append((match, body)) }
        }

        var asked: [String] { lock.withLock { queries } }
        func clear() { lock.withLock { queries = [] } }
        deinit { server.stop() }
    }

    /// Two regions: R1 with sites s1 (2 healthy, 1 down: s1-n3, unreachable) and s2 (3 healthy,
    /// 1 degraded: s2-n9, its GPU 2 throttling), R2 with s3 (2 stale). R1 served 100 requests
    /// in the window, 5 failed.
    static func fleet() throws -> FakePrometheus {
        let p = try FakePrometheus()
        p.answer("count by (region, site, state) (edgetop_node_health == 1)", [
            (["region": "R1", "site": "s1", "state": "healthy"], 2), (["region": "R1", "site": "s1", "state": "down"], 1),
            (["region": "R1", "site": "s1", "state": "stale"], 0), (["region": "R1", "site": "s2", "state": "healthy"], 3),
            (["region": "R1", "site": "s2", "state": "degraded"], 1),
            (["region": "R2", "site": "s3", "state": "stale"], 2),
        ])
        let buckets: [(String, Double)] = [("0.025", 40), ("0.05", 90), ("0.1", 99), ("+Inf", 100)]
        p.answer("sum by (region, le) (increase(edgetop_request_latency_seconds_bucket[60s]))",
                 buckets.map { (["region": "R1", "le": $0.0], $0.1) } + [(["region": "R2", "le": "+Inf"], 0)])
        p.answer("sum by (region, site, le) (increase(edgetop_request_latency_seconds_bucket",
                 buckets.map { (["region": "R1", "site": "s1", "le": $0.0], $0.1) })
        p.answer("sum by (region) (increase(edgetop_node_request_errors_total[60s]))", [(["region": "R1"], 5)])
        p.answer("avg by (region) (edgetop_gpu_utilization_ratio)", [(["region": "R1"], 0.5)])
        p.answer("count by (region) (edgetop_gpu_utilization_ratio)", [(["region": "R1"], 8)])
        p.answer("max by (region) (edgetop_gpu_temperature_celsius)", [(["region": "R1"], 71)])
        let one = ["region": "R1", "site": "s1", "node": "s1-n3"], hot = ["region": "R1", "site": "s2", "node": "s2-n9"]
        p.answer("edgetop_node_data_age_seconds and on (region, site, node)", [(one, 2), (hot, 1)])
        p.answer("edgetop_node_cause", [(one.merging(["state": "down", "cause": "unreachable", "edgetop_collector": "c-R1"]) { a, _ in a }, 1),
                                        (hot.merging(["state": "degraded", "cause": "gpu_throttling", "gpu": "2"]) { a, _ in a }, 1)])
        p.answer("edgetop_gpu_temperature_celsius{site=\"s1\"}", [(one.merging(["gpu": "0"]) { a, _ in a }, 64)])
        return p
    }

    func source(_ p: FakePrometheus) -> PrometheusQuerySource {
        PrometheusQuerySource(client: PrometheusClient(base: URL(string: "http://127.0.0.1:\(p.server.port)")!), window: 60,
                              config: CollectorConfig(intervalSeconds: 10, history: .off))
    }

    @Test("fleet level: groups from aggregates, per-node series only for the exceptions")
    func fleetLevel() async throws {
        let p = try Self.fleet()
        let (snap, problems) = await source(p).snapshot(at: 1_764_230_400, scope: .fleet)
        #expect(problems.isEmpty, "\(problems)")
        #expect(snap.regions.map(\.id) == ["R1", "R2"])
        let r1 = try #require(snap.regions.first)
        #expect(r1.health == HealthCounts(healthy: 5, degraded: 1, down: 1))
        #expect(snap.regions[1].health == HealthCounts(stale: 2) && snap.regions[1].health.isDark)
        #expect(snap.fleet.health.total == 9)
        // Quantiles of the merged buckets, bucket-bounded: the 50th request is under 50 ms, the 99th under 100.
        // (Within the histogram's 1 % resolution.)
        #expect(r1.latency.count == 100 && abs(r1.latency.p50 - 50) < 0.5 && abs(r1.latency.p99 - 100) < 1 && r1.latency.bucketBounded,
                "\(r1.latency)")
        #expect(snap.fleet.latency.count == 100 && abs(snap.fleet.latency.p99 - 100) < 1)
        #expect(abs(r1.rps - 100.0 / 60) < 1e-9 && abs(r1.errorRatio - 5.0 / 105) < 1e-9)
        #expect(r1.gpuUtilPct == 50 && r1.gpuCount == 8 && r1.gpuTempMaxC == 71)
        // Sites: health for every one, figures only where read.
        #expect(snap.sites.map(\.id) == ["s1", "s2", "s3"])
        #expect(snap.sites[0].health == HealthCounts(healthy: 2, down: 1) && snap.sites[0].rps.isNaN)
        // The exceptions, with what triage needs (state, why, the GPU behind it); the healthy
        // nodes' series were never read, nor the exceptions' latency.
        #expect(snap.nodes.map(\.id) == ["s1-n3", "s2-n9"])
        let down = snap.nodes[0], hotNode = snap.nodes[1]
        #expect(down.health == .down && down.reason == "unreachable, per collector c-R1" && down.cause == "reported", "\(down.reason)")
        #expect(hotNode.health == .degraded && hotNode.gpus.count == 3 && hotNode.gpus[2].throttled, "\(hotNode.gpus)")
        #expect(snap.nodeCoverage == .partial(site: nil, node: nil))
        let asked = p.asked
        #expect(!asked.contains("edgetop_gpu_utilization_ratio") && !asked.contains("edgetop_node_health == 1"), "\(asked)")
        #expect(!asked.contains { $0.contains("sum by (le, region, site, node)") }, "\(asked)")
        #expect(!asked.contains { $0.contains("node=~") || $0.contains("edgetop_gpu_last_xid") }, "\(asked)")
    }

    @Test("all sites and a region read site figures; a site reads its nodes")
    func deeperLevels() async throws {
        let p = try Self.fleet()
        let q = source(p)
        let (all, _) = await q.snapshot(at: 1_764_230_400, scope: .allSites)
        #expect(all.sites[0].latency.count == 100 && abs(all.sites[0].rps - 100.0 / 60) < 1e-9)
        #expect(p.asked.contains { $0.hasPrefix("sum by (region, site, le) (increase(edgetop_request_latency_seconds_bucket[60s]))") })
        p.clear()
        _ = await q.snapshot(at: 1_764_230_400, scope: .region("R1"))
        #expect(p.asked.contains { $0.contains("edgetop_request_latency_seconds_bucket{region=\"R1\"}") }, "\(p.asked)")
        p.clear()
        let (site, _) = await q.snapshot(at: 1_764_230_400, scope: .site("s1"))
        #expect(p.asked.contains { $0.contains("edgetop_node_health{site=\"s1\"}") }, "\(p.asked)")
        // The site's nodes in full (latency, every gauge).
        #expect(site.nodes.first { $0.id == "s1-n3" }?.gpus.first?.tempC == 64)
        #expect(site.nodeCoverage == .partial(site: "s1", node: nil) && site.nodeCoverage.lists(site: "s1"))
        #expect(q.lastCost.scope == .site("s1") && q.lastCost.queries == p.asked.count && !q.lastCost.rules)
    }

    @Test("with the recording rules present, group rows read them instead of raw series")
    func rules() async throws {
        let p = try Self.fleet()
        p.answer("count by (__name__)", PrometheusQuerySource.ruleNames.map { (["__name__": $0], 1) })
        p.answer("site:edgetop_nodes:count_by_state", [(["region": "R1", "site": "s1", "state": "healthy"], 4)])
        let q = source(p)
        let (snap, _) = await q.snapshot(at: 1_764_230_400, scope: .fleet)
        #expect(q.lastCost.rules)
        #expect(snap.fleet.health == HealthCounts(healthy: 4))
        let asked = p.asked
        #expect(asked.contains("avg_over_time(region:edgetop_request_latency_seconds_bucket:rate1m[60s]) * 60"))
        #expect(!asked.contains { $0.contains("increase(edgetop_request_latency_seconds_bucket[") })
        // Asked once a minute, not on every refresh.
        p.clear()
        _ = await q.snapshot(at: 1_764_230_401, scope: .fleet)
        #expect(!p.asked.contains { $0.hasPrefix("count by (__name__)") })
    }

    @Test("a Prometheus without edgetop collectors: every node's series, as before")
    func fallback() async throws {
        let p = try FakePrometheus()
        p.answer("DCGM_FI_DEV_GPU_TEMP", [(["Hostname": "gpu-a", "gpu": "0"], 55)])
        let q = source(p)
        let (snap, _) = await q.snapshot(at: 1_764_230_400, scope: .fleet)
        #expect(snap.nodes.map(\.id) == ["gpu-a"] && snap.nodeCoverage == .all)
        #expect(q.lastCost.scope == .everything)
    }
}
