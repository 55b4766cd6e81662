import EdgeCollector
import EdgeCore
import EdgeTestSupport
import Testing

@Suite("History rings")
struct HistoryTests {
    let t0 = 1_764_230_400.0  // a whole minute

    /// The p99 (and p50) a ring must hold for `values`: our histogram's quantile, as packed.
    func expected(_ values: [Double]) -> (p50: Double, p99: Double) {
        var h = RollupHistogram()
        for v in values { h.record(v) }
        let s = h.summary()
        return (HistoryCodec.round(s.p50), HistoryCodec.round(s.p99))
    }

    @Test("each 1 s step holds the p99 of that step's samples at node, site, region and fleet (merged, not averaged)")
    func stepQuantilesAreTheStepsOwn() throws {
        let c = Collector(config: CollectorConfig(history: HistoryConfig(shortSteps: 30, longSteps: 10)))
        let layout = [("r1", "s1", "a"), ("r1", "s1", "b"), ("r2", "s2", "c")]
        let refs = c.register(layout.map { placement($0.2, site: $0.1, region: $0.0) })
        var rng = SeededGenerator(seed: 3)
        var byStep: [String: [Int: [Double]]] = [:]
        var batch: [Sample] = []
        for second in 0..<5 {
            for (i, ref) in refs.enumerated() {
                // Nodes differ tenfold in speed and volume, so a mean of p99s would be far off.
                let scale = [4.0, 40, 400][i] * Double(second + 1)
                for k in 0..<(50 * (i + 1)) {
                    let v = scale * Double.random(in: 0.5...2, using: &rng)
                    batch.append(Sample(node: ref, time: t0 + Double(second) + Double(k) / 1000, metric: .latencyMs, value: v))
                    for key in [layout[i].2, layout[i].1, layout[i].0, "fleet"] { byStep[key, default: [:]][second, default: []].append(v) }
                }
            }
        }
        c.ingest(batch)
        c.drain()
        let entities: [(String, HistoryEntity)] = [("a", .node("a")), ("b", .node("b")), ("c", .node("c")),
                                                   ("s1", .site("s1")), ("r1", .region("r1")), ("r2", .region("r2")), ("fleet", .fleet)]
        let got = c.history(of: entities.map(\.1), span: .m15, at: t0 + 6)
        for (key, entity) in entities {
            let series = try #require(got[entity], "\(key) has a history")
            #expect(series.stepSeconds == 1)
            #expect(series.t0 + Double(series.steps.count) == t0 + 6, "\(key): the last closed step ends at the read time")
            let last5 = Array(series.steps.suffix(6))
            for second in 0..<5 {
                let values = byStep[key]![second]!
                let step = last5[second]
                let want = expected(values)
                #expect(step.count == UInt64(values.count), "\(key) step \(second) count")
                #expect(step.p99 == want.p99, "\(key) step \(second) p99")
                #expect(step.p50 == want.p50, "\(key) step \(second) p50")
                let exact = exactQuantile(values.sorted(), 0.99)
                #expect(relativeError(step.p99, exact) <= 0.01, "\(key) step \(second) p99 within 1 % of exact")
            }
            #expect(last5[5].hasData && last5[5].count == 0 && last5[5].p99.isNaN, "\(key): a quiet step is zero requests, not a gap")
            #expect(!series.steps[0].hasData, "\(key): before the first sample there is no data")
        }
        // Each step judges its nodes at its own end; all three are counted in every step.
        let fleet = try #require(got[.fleet])
        #expect(fleet.steps.suffix(6).prefix(5).allSatisfy { $0.health.total == 3 })
    }

    @Test("1 min steps merge the minute's samples (not the 1 s p99s); rings wrap and memory stays fixed once full")
    func minuteStepsAndFixedMemory() throws {
        let c = Collector(config: CollectorConfig(history: HistoryConfig(shortSteps: 20, longSteps: 3)))
        let ref = c.register(placement("a"))
        var rng = SeededGenerator(seed: 9)
        var minuteValues: [Int: [Double]] = [:]
        var bytesAfterFill = 0
        for second in 0..<(6 * 60) {
            // One slow burst per minute: a mean of per-second p99s would smear it.
            let slow = second % 60 == 30
            var batch: [Sample] = []
            for k in 0..<(slow ? 200 : 20) {
                let v = (slow ? 900.0 : 10) * Double.random(in: 0.8...1.2, using: &rng)
                batch.append(Sample(node: ref, time: t0 + Double(second) + Double(k) / 1000, metric: .latencyMs, value: v))
                minuteValues[second / 60, default: []].append(v)
            }
            c.ingest(batch)
            if second == 4 * 60 { c.drain(); bytesAfterFill = c.stateBytes() }
        }
        c.drain()
        let now = t0 + 6 * 60
        let long = try #require(c.history(of: [.node("a")], span: .h24, at: now)[.node("a")])
        #expect(long.stepSeconds == 60)
        #expect(long.steps.count == 3, "the ring holds its capacity, no more")
        #expect(long.t0 == t0 + 3 * 60)
        for (i, step) in long.steps.enumerated() {
            let values = minuteValues[3 + i]!
            let want = expected(values)
            #expect(step.count == UInt64(values.count))
            #expect(step.p99 == want.p99, "minute \(3 + i) p99 is the minute's own")
        }
        let short = try #require(c.history(of: [.node("a")], span: .m15, at: now)[.node("a")])
        #expect(short.steps.count == 20)
        #expect(short.steps.allSatisfy { $0.hasData })
        // The rings no longer grow; the window's finished sub-windows keep 4 bytes per bucket
        // their values fell in, which moves a little with the values (≤ 6 sub-windows × 16).
        #expect(abs(c.stateBytes() - bytesAfterFill) <= 6 * 16 * 4, "no growth after the rings filled")
    }

    @Test("a node that goes silent is recorded STALE step by step; old requests leave the ring")
    func silenceIsRecorded() throws {
        let c = Collector(config: CollectorConfig(intervalSeconds: 1, history: HistoryConfig(shortSteps: 30, longSteps: 5)))
        let ref = c.register(placement("a"))
        c.ingest((0..<3).map { Sample(node: ref, time: t0 + Double($0), metric: .latencyMs, value: 20) })
        // Snapshots once a second, as the live view takes them, close the silent steps.
        for s in 3...10 { _ = c.snapshot(at: t0 + Double(s)) }
        let h = c.history(of: [.node("a"), .site("s1")], span: .m15, at: t0 + 10)
        let node = Array(h[.node("a")]!.steps.suffix(10))
        #expect(node[0].worst == .healthy && node[0].count == 1)
        #expect(node[3].count == 0 && node[3].worst == .healthy, "silent for 1 s: still healthy")
        #expect(node[9].worst == .stale, "silent past three intervals: STALE")
        #expect(h[.site("s1")]!.steps.last!.health.stale == 1)
        // A much later read: the requests have left the 1 s ring; the node is STALE throughout.
        let later = try #require(c.history(of: [.node("a")], span: .m15, at: t0 + 4000)[.node("a")])
        #expect(later.steps.suffix(30).allSatisfy { $0.worst == .stale && $0.count == 0 })
    }

    @Test("the fleet's step merges every region's, even when one region's queue runs far behind another's")
    func laggingRegion() throws {
        let c = Collector(config: CollectorConfig(history: HistoryConfig(shortSteps: 60, longSteps: 5)))
        let a = c.register(placement("a", site: "s1", region: "r1")), b = c.register(placement("b", site: "s2", region: "r2"))
        // Region r1's whole minute arrives before any of r2's (a replay feeds queues unevenly).
        c.ingest((0..<40).flatMap { s in (0..<3).map { k in Sample(node: a, time: t0 + Double(s) + Double(k) / 10, metric: .latencyMs, value: 10) } })
        c.drain()
        c.ingest((0..<40).flatMap { s in (0..<5).map { k in Sample(node: b, time: t0 + Double(s) + Double(k) / 10, metric: .latencyMs, value: 90) } })
        c.drain()
        let fleet = try #require(c.history(of: [.fleet], span: .m15, at: t0 + 40)[.fleet])
        let steps = Array(fleet.steps.suffix(40))
        #expect(steps.allSatisfy { $0.count == 8 }, "3 + 5 requests in every step: \(steps.map(\.count))")
        #expect(steps.allSatisfy { $0.health.total == 2 })
    }

    @Test("history off keeps no rings and answers nothing")
    func historyOff() {
        let c = Collector(config: CollectorConfig(history: .off))
        let ref = c.register(placement("a"))
        c.ingest([Sample(node: ref, time: t0, metric: .latencyMs, value: 5)])
        #expect(c.history(of: [.node("a"), .fleet], span: .m15, at: t0 + 5).isEmpty)
        #expect(c.snapshot(at: t0 + 1).nodes[0].latency.count == 1, "the window still counts")
    }

    @Test("a quiet node's repeated steps equal a full judgement at every step: staleness, Xid expiry, up=0, hot GPUs, slow minutes, every level")
    func quietNodeShortcutIsExact() throws {
        // Sparse traffic on 40 nodes over 12 minutes: most nodes are quiet most seconds, and
        // the age rules (stale, Xid window, gauges going stale) fire while they are.
        var rng = SeededGenerator(seed: 11)
        let layout = (0..<40).map { i in ("r\(i % 2)", "s\(i % 4)", "n\(i)") }
        var samples: [(node: Int, sample: (Double, Metric, Double, UInt8))] = []
        for second in 0..<720 {
            for i in layout.indices where Int.random(in: 0..<25, using: &rng) == 0 && !(i < 8 && second > 200 && second < 500) {
                let t = t0 + Double(second) + Double.random(in: 0..<1, using: &rng)
                // Node 9 is slow in minute 3 (enough requests to judge); others fast.
                let slow = i == 9 && second / 60 == 3
                for _ in 0..<(slow ? 40 : 2) { samples.append((i, (t, .latencyMs, slow ? 900 : Double.random(in: 5...80, using: &rng), 0))) }
                samples.append((i, (t, .gpuUtil, Double.random(in: 10...95, using: &rng), UInt8(i % 2))))
                samples.append((i, (t, .gpuTempC, i == 13 && second > 300 ? 92 : Double.random(in: 40...70, using: &rng), 0)))
                if i == 17 && second == 100 { samples.append((i, (t, .xid, 79, 0))) }
                if i == 21 { samples.append((i, (t, .up, second > 400 && second < 450 ? 0 : 1, 0))) }
                if i == 25 && second % 7 == 0 { samples.append((i, (t, .errors, 3, 0))) }
            }
        }
        func run(walkAll: Bool) -> (Collector, [String: String]) {
            var config = CollectorConfig(intervalSeconds: 5, history: HistoryConfig(shortSteps: 900, longSteps: 60))
            config.historyWalksQuietNodes = walkAll
            let c = Collector(config: config)
            let refs = c.register(layout.map { placement($0.2, site: $0.1, region: $0.0, tierMs: 200, gpus: 2) })
            var out: [String: String] = [:]
            var next = 0
            for readAt in [t0 + 250, t0 + 480, t0 + 730] {
                var batch: [Sample] = []
                while next < samples.count && samples[next].sample.0 < readAt - 1 {
                    let (i, (t, metric, value, gpu)) = samples[next]
                    batch.append(Sample(node: refs[i], time: t, metric: metric, value: value, gpu: gpu))
                    next += 1
                }
                c.ingest(batch)
                c.drain()
                let entities: [HistoryEntity] = [.fleet, .region("r0"), .region("r1")] + (0..<4).map { .site("s\($0)") } + layout.map { .node($0.2) }
                for span in [HistorySpan.m15, .h1] {
                    for (e, series) in c.history(of: entities, span: span, at: readAt) { out["\(readAt) \(span) \(e)"] = "\(series)" }
                }
                out["\(readAt) snapshot"] = c.snapshot(at: readAt).nodes.map { "\($0.id) \($0.health)" }.joined(separator: ",")
            }
            return (c, out)
        }
        let (_, fast) = run(walkAll: false)
        let (_, reference) = run(walkAll: true)
        #expect(fast.count == reference.count && fast.count > 100)
        for (key, value) in reference.sorted(by: { $0.key < $1.key }) {
            #expect(fast[key] == value, "\(key)")
        }
        // The scenario does move states while nodes are quiet (else the test proves little).
        let nodes = reference.filter { $0.key.contains("m15 node") }.values.joined()
        #expect(nodes.contains("stale: 1") && nodes.contains("down: 1"))
    }
}
