import EdgeCollector
import EdgeCore
import EdgeTestSupport
@testable import EdgeViews
import Testing

/// What the scale-out path changes in the views: `serve --metrics-detail` and a snapshot from a
/// query backend that lists only some nodes.
@Suite("Scale-out views")
struct ScaleOutViewTests {
    let snap = demoSnapshot()

    func lines(_ detail: MetricsDetail, prefix: String) -> [String] {
        MetricsExporter(snapshot: snap, version: "test", collector: "c1", detail: detail).render(openMetrics: false)
            .split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }

    func value(_ line: String) -> Double { Double(line.split(separator: " ").last ?? "") ?? .nan }

    @Test("--metrics-detail site and region: latency, requests and errors summed per group; health stays per node")
    func metricsDetail() throws {
        let perNode = lines(.node, prefix: "edgetop_request_latency_seconds_bucket{")
        #expect(perNode.count == snap.nodes.count * TierBuckets.upperBoundsMs.count)
        for detail in [MetricsDetail.site, .region] {
            let buckets = lines(detail, prefix: "edgetop_request_latency_seconds_bucket{")
            let groups = detail == .site ? Set(snap.nodes.map(\.site)) : Set(snap.nodes.map(\.region))
            #expect(buckets.count == groups.count * TierBuckets.upperBoundsMs.count, "\(detail)")
            #expect(!buckets.contains { $0.contains("node=") })
            #expect(lines(detail, prefix: "edgetop_node_health{").count == snap.nodes.count * HealthState.allCases.count)
            // Every bucket of a group is the sum of its nodes' (so `sum by` over either detail agrees).
            for (b, bound) in TierBuckets.upperBoundsMs.enumerated() {
                let le = bound.isInfinite ? "+Inf" : MetricsExporter.number(bound / 1000)
                let node = perNode.filter { $0.contains("le=\"\(le)\"") }.map(value).reduce(0, +)
                let group = buckets.filter { $0.contains("le=\"\(le)\"") }.map(value).reduce(0, +)
                #expect(node == group, "\(detail) le=\(le) bucket \(b)")
            }
            let requests = lines(detail, prefix: "edgetop_node_requests_total{").map(value).reduce(0, +)
            #expect(requests == Double(snap.nodes.reduce(0) { $0 + $1.requestsTotal }) && requests > 0)
        }
        // Why a node is not HEALTHY, as a stable kind, one series per such node only.
        let causes = lines(.site, prefix: "edgetop_node_cause{")
        #expect(causes.count == snap.nodes.filter { $0.health != .healthy }.count && !causes.isEmpty)
        #expect(causes.contains { $0.contains("node=\"fra1-n02\"") && $0.contains("state=\"down\",cause=\"unreachable\"") && $0.contains("edgetop_collector=\"c1\"") },
                "\(causes)")
        #expect(causes.contains { $0.contains("node=\"tyo1-n01\"") && $0.contains("cause=\"xid\",gpu=\"2\",xid=\"63\"") }, "\(causes)")
        let fra1 = lines(.site, prefix: "edgetop_request_latency_seconds_count{").first { $0.contains("site=\"fra1\"") }
        #expect(fra1.map(value) == Double(snap.nodes.filter { $0.site == "fra1" }.reduce(0) { $0 + $1.requestsTotal }))
    }

    @Test("a site whose nodes a query backend has not read yet says so instead of listing the exceptions")
    func awaitingNodes() {
        var partial = snap
        partial.nodeCoverage = .partial(site: nil, node: nil)
        var s = UIState(snapshot: partial)
        s.stack = [.fleet, .region("WEU"), .site("fra1")]
        let waiting = Screen.render(&s, width: 100, height: 30).text
        #expect(waiting.contains("reading the nodes of fra1…") && !waiting.contains("fra1-n01"))
        // Paused, the data stays frozen: the screen says when the nodes will come.
        s.paused = true
        #expect(Screen.render(&s, width: 100, height: 30).text.contains("paused: the nodes of fra1 are read when you resume (space)"))
        s.paused = false
        partial.nodeCoverage = .partial(site: "fra1", node: nil)
        s.snapshot = partial
        let listed = Screen.render(&s, width: 100, height: 30).text
        #expect(!listed.contains("reading") && listed.contains("fra1-n01"))
    }
}
