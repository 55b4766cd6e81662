import EdgeCollector
import EdgeCore
import EdgeSources
import EdgeTestSupport
import Foundation
import Testing

@Suite("Replay")
struct ReplayTests {
    func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!.path
    }

    @Test("bad lines are reported with their number and reason, good lines around them are kept")
    func mixedFile() throws {
        let c = Collector(config: CollectorConfig(intervalSeconds: 10))
        var source = ReplaySource(collector: c)
        let outcome = try source.replay(path: fixture("replay-mixed.jsonl"))
        #expect(outcome.samples == 5)
        #expect(outcome.errorCount == 9)
        let reasons = Dictionary(uniqueKeysWithValues: outcome.errors.map { ($0.line, $0.reason) })
        #expect(reasons[3] == "missing or non-numeric \"value\"")
        #expect(reasons[4] == "not a JSON object")
        #expect(reasons[5] == "unknown metric \"gpu_utl\"")
        #expect(reasons[6] == "gpu_temp_c needs \"gpu\": an integer 0–63")
        #expect(reasons[8] == "up must be 0 or 1")
        #expect(reasons[9] == "gpu_util must be 0–100")
        #expect(reasons[12] == "latency_ms must be ≥ 0")
        #expect(reasons[13] == "missing or invalid \"region\"")
        #expect(reasons[14] == "missing or non-numeric \"value\"")  // a boolean is not a number
        #expect(reasons[7] == nil)  // blank lines are not errors
        #expect(outcome.lastTime == 1764230401.625)

        let snap = c.snapshot(at: outcome.lastTime)
        #expect(snap.regions.map(\.id).sorted() == ["seas", "weu"])
        #expect(Set(snap.nodes.map(\.id)) == ["fra1-n01", "fra2-n01", "sin1-n01\u{1B}[31mred"])
        let fra1 = try #require(snap.nodes.first { $0.id == "fra1-n01" })
        #expect(fra1.latency.count == 1)
        #expect(fra1.gpus.first?.utilPct == 87)
        let fra2 = try #require(snap.nodes.first { $0.id == "fra2-n01" })
        #expect(fra2.health == .down)
        #expect(fra2.gpus.count == 4)
        #expect(snap.ingest.invalid == 9)
    }

    @Test("a replay with known classes: within-tier fractions exact per class; unknown ids are unclassified; a non-string class is a bad line")
    func classes() throws {
        var lines: [String] = []
        func line(_ t: Double, _ v: Double, _ c: String?, node: String = "n1", metric: String = "latency_ms", extra: String = "") {
            let cls = c.map { ",\"class\":\"\($0)\"" } ?? ""
            lines.append("{\"t\":\(t),\"region\":\"r\",\"site\":\"s\",\"node\":\"\(node)\",\"metric\":\"\(metric)\",\"value\":\(v)\(cls)\(extra)}")
        }
        let t0 = 1_764_230_400.0
        // video_inspection (tier 100): 100.0 is within, 100.5 is not: 3 of 5.
        for (k, v) in [99.0, 100.0, 100.5, 140, 20].enumerated() { line(t0 + Double(k), v, "video_inspection") }
        // customer_service (tier 500): 4 of 4, and 2 failed requests: 4 of 6.
        for (k, v) in [120.0, 499, 500, 30].enumerated() { line(t0 + Double(k), v, "customer_service") }
        line(t0 + 5, 2, "customer_service", metric: "errors")
        // An id edgetop does not know keeps its requests, as unclassified (node tier 500).
        line(t0 + 6, 80, "speech_to_text")
        line(t0 + 6, 700, nil)
        // The class of a GPU gauge means nothing and does not disturb its GPU index.
        line(t0 + 7, 55, "batch", metric: "gpu_util", extra: ",\"gpu\":3")
        lines.append("{\"t\":\(t0 + 8),\"region\":\"r\",\"site\":\"s\",\"node\":\"n1\",\"metric\":\"latency_ms\",\"value\":10,\"class\":7}")
        let path = temporaryFile(lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = Collector(config: CollectorConfig(intervalSeconds: 10))
        var source = ReplaySource(collector: c)
        let outcome = try source.replay(path: path)
        #expect(outcome.errorCount == 1)
        #expect(outcome.errors.first?.reason == "\"class\" must be a workload class id (a string)")
        let node = try #require(c.snapshot(at: t0 + 9).nodes.first)
        let byClass = Dictionary(uniqueKeysWithValues: node.classes.map { ($0.workload, $0) })
        #expect(byClass[.videoInspection]?.requests == 5)
        #expect(byClass[.videoInspection]?.withinTierFraction == 3.0 / 5)
        #expect(byClass[.customerService]?.requests == 6)
        #expect(byClass[.customerService]?.withinTierFraction == 4.0 / 6)
        #expect(byClass[.unclassified]?.requests == 2)
        #expect(byClass[.unclassified]?.good == 1, "held to the node's 500 ms tier")
        #expect(byClass[.batch] == nil)
        #expect(node.gpus.last?.index == 3 && node.gpus.last?.utilPct == 55)
        #expect(node.latency.count == 11, "every request counts once in the node's latency")
    }

    @Test("a recording keeps the class of every latency kind: exact, bucket-bounded and errors")
    func recordedClasses() throws {
        let path = temporaryFile("")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t0 = 1_764_230_400.0
        let c = Collector(config: CollectorConfig(intervalSeconds: 10))
        let ref = c.register(placement("n1"))
        let recorder = try Recorder(path: path, maxMB: nil, collector: c, start: t0)
        recorder.record([
            Sample(node: ref, time: t0 + 1, metric: .latencyMs, value: 40, workload: .videoInspection),
            Sample(node: ref, time: t0 + 1, metric: .latencyBucketMs, value: 250, workload: .codeCompletion, weight: 3),
            Sample(node: ref, time: t0 + 2, metric: .errors, value: 2, workload: .customerService),
        ])
        #expect(recorder.close() == nil)
        let back = Collector(config: CollectorConfig(intervalSeconds: 10))
        var source = ReplaySource(collector: back)
        let outcome = try source.replay(path: path)
        #expect(outcome.errorCount == 0)
        let node = try #require(back.snapshot(at: t0 + 3).nodes.first)
        let byClass = Dictionary(uniqueKeysWithValues: node.classes.map { ($0.workload, $0.requests) })
        #expect(byClass == [.videoInspection: 1, .codeCompletion: 3, .customerService: 2], "\(byClass)")
    }

    @Test("a file with no valid line yields no samples")
    func nothingValid() throws {
        let path = temporaryFile("{}\nnope\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var source = ReplaySource(collector: Collector())
        let outcome = try source.replay(path: path)
        #expect(outcome.samples == 0)
        #expect(outcome.errorCount == 2)
    }

    @Test("an unreadable file is an error, not a crash")
    func missingFile() {
        var source = ReplaySource(collector: Collector())
        #expect(throws: ReplaySource.FileError.self) { try source.replay(path: "/nonexistent/edgetop.jsonl") }
    }

    @Test("non-UTF-8 and truncated lines are rejected; the rest survives")
    func hostileBytes() throws {
        var bytes = Data(#"{"t": 1764230400, "region": "r", "site": "s", "node": "n", "metric": "latency_ms", "value": 5}"#.utf8)
        bytes.append(0x0A)
        bytes.append(contentsOf: [0xFF, 0xFE, 0x7B, 0x0A])
        bytes.append(Data(#"{"t": 1764230400, "region": "r", "site": "s", "node"#.utf8))
        let path = NSTemporaryDirectory() + "edgetop-hostile-\(UUID().uuidString).jsonl"
        #expect(FileManager.default.createFile(atPath: path, contents: bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var source = ReplaySource(collector: Collector())
        let outcome = try source.replay(path: path)
        #expect(outcome.samples == 1)
        #expect(outcome.errorCount == 2)
        #expect(outcome.errors.map(\.line) == [2, 3])
    }

    @Test("replayed quantiles are within 1 % of exact at node, site, region and fleet")
    func replayQuantiles() throws {
        var rng = SeededGenerator(seed: 5)
        var lines: [String] = []
        var byKey: [String: [Double]] = [:]
        let nodes = [("weu", "fra1", "fra1-n01"), ("weu", "fra1", "fra1-n02"), ("weu", "ams1", "ams1-n01"),
                     ("seas", "sin1", "sin1-n01")]
        for k in 0..<20_000 {
            let (r, s, n) = nodes[k % nodes.count]
            let base = r == "seas" ? 180.0 : (s == "ams1" ? 40 : 9)
            let v = (base * exp(0.5 * Double.random(in: -2...2, using: &rng)) * 1000).rounded() / 1000
            lines.append(#"{"t": \#(1764230400 + Double(k) * 0.001), "region": "\#(r)", "site": "\#(s)", "node": "\#(n)", "metric": "latency_ms", "value": \#(v)}"#)
            for key in [n, s, r, "fleet"] { byKey[key, default: []].append(v) }
        }
        let path = temporaryFile(lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = Collector()
        var source = ReplaySource(collector: c)
        let outcome = try source.replay(path: path)
        let snap = c.snapshot(at: outcome.lastTime)
        var levels: [(String, LatencySummary)] = [("fleet", snap.fleet.latency)]
        levels += snap.regions.map { ($0.id, $0.latency) } + snap.sites.map { ($0.id, $0.latency) }
        levels += snap.nodes.map { ($0.id, $0.latency) }
        #expect(levels.count == 1 + 2 + 3 + 4)
        for (key, l) in levels {
            let sorted = byKey[key]!.sorted()
            for (q, got) in [(0.5, l.p50), (0.9, l.p90), (0.99, l.p99)] {
                #expect(relativeError(got, exactQuantile(sorted, q)) <= 0.01, "\(key) q=\(q)")
            }
        }
    }
}
