import EdgeCollector
import EdgeCore
import EdgeTestSupport
import Foundation
import Testing

@Suite("Workload classes and SLO burn rates")
struct SLOTests {
    /// A minute boundary, so "minute m" of the test is minute m of the SLO ring.
    let t0 = 1_764_230_400.0

    @Test("burn rates over 5m/30m/1h/6h match a hand-computed case at node, site, region and fleet")
    func burnRatesHandComputed() throws {
        let c = Collector(config: CollectorConfig(windowSeconds: 60, intervalSeconds: 1))
        let refs = c.register([placement("a", site: "s1", region: "r1", tierMs: 500, gpus: 2)])
        // Minute m (0…9): 100 code_completion requests (tier 200 ms), m of them slow (300 ms);
        // minute 9 also has 5 failed requests. Errors count as misses.
        for m in 0..<10 {
            var batch: [Sample] = []
            for k in 0..<100 {
                let t = t0 + Double(m * 60) + Double(k) * 0.5
                batch.append(Sample(node: refs[0], time: t, metric: .latencyMs, value: k < m ? 300 : 100, workload: .codeCompletion))
            }
            if m == 9 { batch.append(Sample(node: refs[0], time: t0 + 9 * 60 + 40, metric: .errors, value: 5, workload: .codeCompletion)) }
            batch.append(Sample(node: refs[0], time: t0 + Double(m * 60), metric: .up, value: 1))
            c.ingest(batch)
        }
        let snap = c.snapshot(at: t0 + 9 * 60 + 55)
        // 5m = minutes 5…9: 505 requests, 5+6+7+8+9 slow + 5 failed = 40 misses.
        // 30m, 1h, 6h = all ten minutes: 1,005 requests, 45 slow + 5 failed = 50 misses.
        let expected = [(40.0 / 505) / 0.01, (50.0 / 1005) / 0.01, (50.0 / 1005) / 0.01, (50.0 / 1005) / 0.01]
        let levels: [(String, [ClassStatus])] = [
            ("node", snap.nodes[0].classes), ("site", snap.sites[0].classes),
            ("region", snap.regions[0].classes), ("fleet", snap.fleet.classes),
        ]
        for (level, classes) in levels {
            let code = try #require(classes.first { $0.workload == .codeCompletion }, "\(level) has code_completion")
            for i in 0..<4 {
                #expect(abs(code.burnRate(i, target: 0.99) - expected[i]) < 1e-9,
                        "\(level) \(SLOWindows.names[i]) burn \(code.burnRate(i, target: 0.99)) ≠ \(expected[i])")
            }
            #expect(abs(code.budgetRemaining(target: 0.99) - (1 - expected[3])) < 1e-9, "\(level) budget")
            #expect(classes.count == 1, "\(level): only the class that had traffic")
        }
        // The sliding window (60 s) holds minute 9's requests only: 105, 9 slow + 5 failed.
        let code = snap.nodes[0].classes[0]
        #expect(code.requests == 105)
        #expect(code.good == 91)
        #expect(snap.nodes[0].workload == .codeCompletion)
        #expect(snap.nodes[0].capacityRps == 12, "2 GPUs × 6 code_completion requests/s each")
    }

    @Test("within-tier counts are exact at the tier boundary, per class, and classes never mix")
    func withinTierExact() throws {
        let c = Collector(config: CollectorConfig(windowSeconds: 60, intervalSeconds: 1))
        let refs = c.register([placement("a", tierMs: 100), placement("b", tierMs: 100)])
        var batch: [Sample] = []
        // Values straddle each tier by a hair: a histogram bucket holds both sides, the
        // counters must not. 200.0 is within the 200 ms tier; 200.0001 is not.
        let control = [49.9, 50.0, 50.0001, 50.1, 10, 20]       // tier 50: 4 good (≤ 50)
        let code = [199.99, 200.0, 200.0001, 150, 250, 400, 10]  // tier 200: 4 good
        for (k, v) in control.enumerated() {
            batch.append(Sample(node: refs[0], time: t0 + Double(k), metric: .latencyMs, value: v, workload: .industrialControl))
        }
        for (k, v) in code.enumerated() {
            batch.append(Sample(node: refs[1], time: t0 + Double(k), metric: .latencyMs, value: v, workload: .codeCompletion))
            batch.append(Sample(node: refs[0], time: t0 + Double(k), metric: .latencyMs, value: v, workload: .codeCompletion))
        }
        c.ingest(batch)
        let snap = c.snapshot(at: t0 + 10)
        let a = snap.nodes.first { $0.id == "a" }!
        let ctl = try #require(a.classes.first { $0.workload == .industrialControl })
        #expect(ctl.requests == 6 && ctl.good == 4)
        #expect(ctl.latency.max == 50.1)
        let aCode = try #require(a.classes.first { $0.workload == .codeCompletion })
        #expect(aCode.requests == 7 && aCode.good == 4)
        let fleetCode = try #require(snap.fleet.classes.first { $0.workload == .codeCompletion })
        #expect(fleetCode.requests == 14 && fleetCode.good == 8, "merged across nodes: 7 + 7, 4 + 4 good")
        #expect(fleetCode.withinTierFraction == 8.0 / 14)
        #expect(snap.fleet.classes.first { $0.workload == .industrialControl }?.requests == 6)
    }
}
