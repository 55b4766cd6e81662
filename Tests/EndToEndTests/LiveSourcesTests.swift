import EdgeTestSupport
import Foundation
import Testing

/// edgetop against real software: exporters served over HTTP, the real Python StatsD clients,
/// Debian's node_exporter. Each test needs its tool and is skipped without it; CI installs all.
@Suite("Live sources against real software", .serialized)
struct LiveSourcesTests {
    static let python = which("python3")
    static func pythonHas(_ modules: String) -> Bool {
        guard let python else { return false }
        return spawn(python, ["-c", "import \(modules)"]).status == 0
    }
    static let fixtures = repositoryRoot().appendingPathComponent("Tests/EdgeSourcesTests/Fixtures/prometheus-text")
    static let scripts = repositoryRoot().appendingPathComponent("Tests/EndToEndTests/Scripts")

    func json(_ r: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
    }

    func nodes(_ o: [String: Any]) -> [String: [String: Any]] {
        Dictionary(((o["nodes"] as? [[String: Any]]) ?? []).map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("scraping captured dcgm-exporter output over HTTP; a dead target is DOWN with its error", .enabled(if: python != nil))
    func scrapeFixtures() throws {
        let port = freePort()
        let server = try #require(BackgroundProcess(Self.python!, ["-m", "http.server", "\(port)", "--bind", "127.0.0.1",
                                                                   "--directory", Self.fixtures.path]))
        defer { server.stop() }
        #expect(waitForPort(port))
        let dead = freePort() + 1
        let r = spawn(edgetopBinary(), [
            "snapshot", "--format", "json", "--view", "nodes", "--duration", "2.5",
            "--scrape", "http://127.0.0.1:\(port)/dcgm-exporter/dcgm-exporter-2.x_a100_mig_nvidia-docs.prom,region=WEU,site=fra1",
            "--scrape", "http://127.0.0.1:\(dead)/metrics,region=WEU,site=fra1,node=fra1-dead",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r)
        let n = nodes(o)
        let a100 = try #require(n["ub20-a100-k8s"])
        #expect(a100["health"] as? String == "HEALTHY")
        let gpus = try #require(a100["gpus"] as? [[String: Any]])
        #expect(gpus.first?["temp_c"] as? Double == 61)
        #expect(gpus.first?["mem_total_mib"] as? Double == 40535)
        let down = try #require(n["fra1-dead"])
        #expect(down["health"] as? String == "DOWN")
        #expect((down["reason"] as? String)?.contains("unreachable") == true)
        let sources = try #require(o["sources"] as? [[String: Any]])
        #expect(sources.contains { ($0["last_error"] as? String)?.contains("refused") == true || ($0["up"] as? Bool) == false })
    }

    @Test("a page that fails to parse is a failed scrape: its node is DOWN with the line and reason", .enabled(if: python != nil))
    func brokenPagesFailTheScrape() throws {
        let dir = NSTemporaryDirectory() + "edgetop-broken-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = try Data(contentsOf: Self.fixtures.appendingPathComponent("dcgm-exporter/dcgm-exporter-2.x_a100_mig_nvidia-docs.prom"))
        let brace = try #require(good.firstIndex(of: UInt8(ascii: "{")))
        try good.prefix(upTo: brace + 5).write(to: URL(fileURLWithPath: dir + "/truncated.prom"))
        try Data("<html><body><h1>404 Not Found</h1></body></html>\n".utf8).write(to: URL(fileURLWithPath: dir + "/html.prom"))
        try good.write(to: URL(fileURLWithPath: dir + "/good.prom"))
        let port = freePort()
        let server = try #require(BackgroundProcess(Self.python!, ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", dir]))
        defer { server.stop() }
        #expect(waitForPort(port))
        let r = spawn(edgetopBinary(), [
            "snapshot", "--format", "json", "--view", "nodes", "--duration", "2.5",
            "--scrape", "http://127.0.0.1:\(port)/truncated.prom,region=WEU,site=fra1,node=fra1-cut",
            "--scrape", "http://127.0.0.1:\(port)/html.prom,region=WEU,site=fra1,node=fra1-html",
            "--scrape", "http://127.0.0.1:\(port)/good.prom,region=WEU,site=fra1",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let n = nodes(try json(r))
        let cut = try #require(n["fra1-cut"])
        #expect(cut["health"] as? String == "DOWN")
        #expect((cut["reason"] as? String)?.hasPrefix("scrape failed: line 1: ") == true, "\(cut["reason"] ?? "")")
        let html = try #require(n["fra1-html"])
        #expect(html["health"] as? String == "DOWN" && (html["reason"] as? String)?.contains("HTML") == true, "\(html["reason"] ?? "")")
        #expect(n["ub20-a100-k8s"]?["health"] as? String == "HEALTHY", "the good target next to them is untouched")
    }

    @Test("a prometheus_client exporter shaped like dcgm-exporter + vLLM: GPU figures, bucket-bounded latency",
          .enabled(if: pythonHas("prometheus_client")))
    func prometheusClientExporter() throws {
        let port = freePort()
        let exporter = try #require(BackgroundProcess(Self.python!, [Self.scripts.appendingPathComponent("inference_exporter.py").path, "\(port)", "infer-n01"]))
        defer { exporter.stop() }
        #expect(waitForPort(port), "\(exporter.log)")
        let r = spawn(edgetopBinary(), [
            "snapshot", "--format", "json", "--view", "nodes", "--duration", "4",
            "--scrape", "http://127.0.0.1:\(port)/metrics,region=WEU,site=fra1,node=infer-n01,interval=0.5,tier=2000",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let n = nodes(try json(r))
        let node = try #require(n["infer-n01"])
        let gpus = try #require(node["gpus"] as? [[String: Any]])
        #expect(gpus.map { $0["util_pct"] as? Double } == [71, 93])
        #expect((node["gpu_temp_max_c"] as? Double) == 88)
        #expect(node["health"] as? String == "DEGRADED", "GPU1 at 88 °C is thermal throttling")
        let latency = try #require(node["latency_ms"] as? [String: Any])
        #expect((latency["count"] as? Int ?? 0) > 100)
        #expect(latency["bucket_bounded"] as? Bool == true)
        // Bucket-bounded quantiles sit on vLLM's bucket bounds (to the histogram's own 1 %).
        let bounds: [Double] = [300, 500, 800, 1000, 1500, 2000, 2500, 5000]
        for key in ["p50", "p99"] {
            let v = latency[key] as? Double ?? -1
            #expect(bounds.contains { abs($0 - v) / $0 <= 0.01 }, "\(key) \(v) is not on a bucket bound")
        }
    }

    @Test("StatsD and DogStatsD timings from the real Python clients: quantiles within 1 % of exact",
          .enabled(if: pythonHas("statsd, datadog")))
    func statsdClients() throws {
        let port = freePort()
        let edgetop = try #require(RunningSnapshot(["--view", "nodes", "--duration", "4", "--statsd", "127.0.0.1:\(port),region=WEU,site=fra1"]))
        usleep(1_000_000)
        let sender = """
        import json, math, random, time, statsd
        from datadog import DogStatsd
        rng = random.Random(3)
        c = statsd.StatsClient('127.0.0.1', \(port))
        d = DogStatsd(host='127.0.0.1', port=\(port))
        plain, tagged = [], []
        for i in range(3000):
            v = round(rng.lognormvariate(3.4, 0.6), 3)
            plain.append(v); c.timing('api.latency', v)
            w = round(rng.lognormvariate(4.2, 0.3), 3)
            tagged.append(w); d.distribution('llm.e2e', w, tags=['region:WEU', 'site:fra1', 'node:fra1-n07', 'model:llama', 'class:video_inspection'])
            if i % 500 == 0: time.sleep(0.01)
        d.gauge('gpu.util', 64, tags=['node:fra1-n07', 'gpu:0'])
        d.flush()
        def q(xs, p):
            xs = sorted(xs); return xs[max(1, math.ceil(p * len(xs))) - 1]
        print(json.dumps({'statsd': [q(plain, .5), q(plain, .99), len(plain)], 'fra1-n07': [q(tagged, .5), q(tagged, .99), len(tagged)],
                          'within_100ms': [sum(1 for w in tagged if w <= 100) / len(tagged)]}))
        """
        let sent = spawn(Self.python!, ["-c", sender])
        #expect(sent.status == 0, "\(sent.stderr)")
        let result = edgetop.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let exact = try #require(try JSONSerialization.jsonObject(with: Data(sent.stdout.utf8)) as? [String: [Double]])
        let n = nodes(try #require(result.json))
        // The class tag: fra1-n07's timings are video_inspection, counted within its 100 ms tier exactly.
        let video = try #require((n["fra1-n07"]?["classes"] as? [String: Any])?["video_inspection"] as? [String: Any], "\(n["fra1-n07"] ?? [:])")
        #expect(video["count"] as? Int == 3000)
        let within = video["within_tier_fraction"] as? Double ?? .nan, want = exact["within_100ms"]?[0] ?? .nan
        #expect(abs(within - want) < 0.0005, "within tier \(within) vs exact \(want) (JSON keeps 3 decimals)")
        #expect((n["statsd"]?["classes"] as? [String: Any])?.keys.sorted() == ["unclassified"], "untagged timings are unclassified")
        for (id, e) in exact where id != "within_100ms" {
            let latency = try #require(n[id]?["latency_ms"] as? [String: Any], "\(id) missing")
            let p50 = latency["p50"] as? Double ?? .nan, p99 = latency["p99"] as? Double ?? .nan
            #expect(latency["count"] as? Int == Int(e[2]), "\(id): every timing arrives over loopback")
            #expect(abs(p50 - e[0]) / e[0] <= 0.01, "\(id) p50 \(p50) vs \(e[0])")
            #expect(abs(p99 - e[1]) / e[1] <= 0.01, "\(id) p99 \(p99) vs \(e[1])")
        }
        #expect(n["fra1-n07"]?["gpu_util_pct"] as? Double == 64)
    }

    @Test("OTLP/HTTP JSON from the real OpenTelemetry SDK: exponential-histogram quantiles within 1 % of exact",
          .enabled(if: pythonHas("opentelemetry.exporter.otlp.json.http")))
    func otlpSDK() throws {
        let port = freePort()
        let edgetop = try #require(RunningSnapshot(["--view", "nodes", "--duration", "6", "--interval", "10", "--otlp", "127.0.0.1:\(port)"]))
        #expect(waitForPort(port))
        let sent = spawn(Self.python!, [Self.scripts.appendingPathComponent("otlp_sender.py").path, "http://127.0.0.1:\(port)/v1/metrics"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let result = edgetop.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let exact = try #require(try JSONSerialization.jsonObject(with: Data(sent.stdout.utf8)) as? [String: Double])
        let o = try #require(result.json)
        let node = try #require(nodes(o)["otel-n01"], "\(o)")
        #expect(node["region"] as? String == "WEU" && node["site"] as? String == "fra1")
        let latency = try #require(node["latency_ms"] as? [String: Any])
        #expect(latency["count"] as? Double == exact["count"])
        #expect(latency["bucket_bounded"] as? Bool == false, "scale ≥ 6: within the sender's precision")
        let chat = try #require((node["classes"] as? [String: Any])?["customer_service"] as? [String: Any], "edgetop.class places the points")
        #expect(chat["count"] as? Double == exact["count"])
        for key in ["p50", "p99"] {
            let got = latency[key] as? Double ?? .nan, want = exact[key] ?? .nan
            #expect(abs(got - want) / want <= 0.01, "\(key): \(got) vs exact \(want)")
        }
    }

    static let nodeExporter = ["/usr/bin/prometheus-node-exporter", "/usr/sbin/prometheus-node-exporter"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("Debian's node_exporter: up while it runs, DOWN once it is killed mid-run", .enabled(if: nodeExporter != nil))
    func nodeExporterKilled() throws {
        let port = freePort()
        let exporter = try #require(BackgroundProcess(Self.nodeExporter!, ["--web.listen-address=127.0.0.1:\(port)"]))
        #expect(waitForPort(port), "\(exporter.log)")
        let edgetop = try #require(RunningSnapshot(["--view", "nodes", "--duration", "5", "--scrape", "http://127.0.0.1:\(port)/metrics,region=WEU,site=lab,node=lab-n01,interval=0.5"]))
        usleep(2_000_000)
        exporter.stop()
        let result = edgetop.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let o = try #require(result.json)
        let node = try #require(nodes(o)["lab-n01"])
        #expect(node["health"] as? String == "DOWN")
        #expect((node["reason"] as? String)?.hasPrefix("unreachable") == true)
        #expect((node["load1"] as? Double ?? -1) >= 0, "load from the scrapes before it died")
        #expect((0...100).contains(node["mem_used_pct"] as? Double ?? -1))
        let sources = try #require(o["sources"] as? [[String: Any]])
        #expect((sources.first?["reads"] as? Int ?? 0) >= 2, "it was scraped while it ran")
        #expect((sources.first?["failures"] as? Int ?? 0) >= 1)
    }
}

/// The OTLP/HTTP receiver's answers, as an OTLP client sees them.
@Suite("OTLP/HTTP receiver answers", .enabled(if: which("curl") != nil && which("gzip") != nil))
struct OTLPReceiverTests {
    func post(_ port: Int, file: String, type: String = "application/json", gzip: Bool = false, path: String = "/v1/metrics") -> (Int, String) {
        var args = ["-X", "POST", "-H", "Content-Type: \(type)"]
        if gzip { args += ["-H", "Content-Encoding: gzip"] }
        let r = curl(args + ["--data-binary", "@\(file)", "http://127.0.0.1:\(port)\(path)"])
        return (r.status, r.body)
    }

    @Test("200 for captured SDK exports (plain and gzip), partialSuccess, 400, 413, 415, 404")
    func answers() throws {
        let port = freePort()
        let edgetop = try #require(RunningSnapshot(["--view", "nodes", "--duration", "6", "--interval", "30", "--otlp", "127.0.0.1:\(port),region=WEU,site=fra1"]))
        #expect(waitForPort(port))
        let fixtures = repositoryRoot().appendingPathComponent("Tests/EdgeSourcesTests/Fixtures/otlp-json")
        let export = fixtures.appendingPathComponent("python-sdk_cumulative_explicit_histogram_export1.json").path
        #expect(post(port, file: export).0 == 200)
        let gz = NSTemporaryDirectory() + "edgetop-\(UUID().uuidString).json.gz"
        defer { try? FileManager.default.removeItem(atPath: gz) }
        _ = spawn("/bin/sh", ["-c", "gzip -c \(export) > \(gz)"])
        #expect(post(port, file: gz, gzip: true).0 == 200)
        // A point without gpu.index cannot be placed on a GPU: refused, the rest kept.
        let partial = temporaryFile(#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"otel-x"}}]},"scopeMetrics":[{"metrics":[{"name":"hw.gpu.utilization","unit":"1","gauge":{"dataPoints":[{"asDouble":0.5,"attributes":[{"key":"gpu.index","value":{"intValue":"0"}}]},{"asDouble":0.7}]}}]}]}]}"#)
        defer { try? FileManager.default.removeItem(atPath: partial) }
        let p = post(port, file: partial)
        #expect(p.0 == 200 && p.1.contains("\"rejectedDataPoints\":\"1\""), "\(p)")
        let bad = temporaryFile("{not json")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect(post(port, file: bad).0 == 400)
        #expect(post(port, file: export, type: "application/x-protobuf").0 == 415)
        #expect(post(port, file: export, path: "/v1/traces").0 == 404)
        let huge = NSTemporaryDirectory() + "edgetop-huge-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: huge) }
        _ = spawn("/bin/sh", ["-c", "head -c 17000000 /dev/zero > \(huge)"])
        #expect(post(port, file: huge).0 == 413)
        let result = edgetop.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let o = try #require(result.json)
        let nodes = (o["nodes"] as? [[String: Any]]) ?? []
        #expect(nodes.contains { $0["id"] as? String == "edge-01" })
        #expect(nodes.first { $0["id"] as? String == "otel-x" }?["gpu_util_pct"] as? Double == 50)
        let source = (o["sources"] as? [[String: Any]])?.first
        #expect((source?["invalid"] as? Int ?? 0) >= 2, "the refused point and the malformed body are counted")
    }
}

/// One request, one count, on a mixed real fleet: vLLM's histogram scraped through the real
/// prometheus_client and the application's per-request DogStatsD timings of the same requests.
@Suite("A mixed real fleet: scrape and DogStatsD of the same requests", .serialized,
       .enabled(if: LiveSourcesTests.pythonHas("prometheus_client, datadog")))
struct MixedFleetTests {
    static let nodes = 3

    /// Runs the fleet and a snapshot over it; returns the snapshot's nodes and what was sent.
    func run(statsd: Bool) throws -> (nodes: [String: [String: Any]], sent: [String: [String: Double]], fleet: [String: Any]) {
        let first = freePort(), statsdPort = freePort() + 100
        let result = NSTemporaryDirectory() + "edgetop-mixed-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: result) }
        var args = ["--view", "nodes", "--duration", "6", "--interval", "2"]
        for i in 0..<Self.nodes {
            args += ["--scrape", "http://127.0.0.1:\(first + i)/metrics,region=WEU,site=mix1,node=mix-n0\(i + 1),interval=0.5,tier=2000"]
        }
        if statsd { args += ["--statsd", "127.0.0.1:\(statsdPort),region=WEU,site=mix1"] }
        let edgetop = try #require(RunningSnapshot(args))
        var fleetArgs = [LiveSourcesTests.scripts.appendingPathComponent("mixed_fleet.py").path, "\(first)", "\(Self.nodes)", "\(statsdPort)", result]
        if !statsd { fleetArgs.append("--no-statsd") }
        let fleet = try #require(BackgroundProcess(LiveSourcesTests.python!, fleetArgs))
        defer { fleet.stop() }
        let finished = edgetop.finish()
        #expect(finished.status == 0, "\(finished.stderr)")
        let data = try #require(FileManager.default.contents(atPath: result), "the fleet did not finish sending: \(fleet.log)")
        let sent = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [String: Double]])
        let o = try #require(finished.json)
        let nodes = Dictionary(((o["nodes"] as? [[String: Any]]) ?? []).map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        return (nodes, sent, o["fleet"] as? [String: Any] ?? [:])
    }

    @Test("every node counts each request once, at the exact quantiles of the timings sent; the scrape is shown beside it")
    func scrapeAndStatsD() throws {
        let (nodes, sent, fleet) = try run(statsd: true)
        #expect(sent.count == Self.nodes)
        var fleetSent = 0
        for (id, exact) in sent {
            let node = try #require(nodes[id], "\(id) missing")
            let latency = try #require(node["latency_ms"] as? [String: Any])
            let count = Int(exact["count"] ?? 0)
            fleetSent += count
            #expect(latency["count"] as? Int == count, "\(id): \(latency["count"] ?? "-") counted, \(count) requests sent")
            #expect(latency["bucket_bounded"] as? Bool == false, "\(id): the exact source counts")
            for key in ["p50", "p90", "p99"] {
                let got = latency[key] as? Double ?? .nan, want = exact[key] ?? .nan
                #expect(abs(got - want) / want <= 0.01, "\(id) \(key): \(got) vs exact \(want)")
            }
            #expect(node["health"] as? String == "HEALTHY", "\(id): \(node["reason"] ?? "")")
            #expect((node["latency_source"] as? String)?.hasPrefix("statsd") == true)
            let sources = try #require(node["latency_sources"] as? [[String: Any]], "\(id): both sources are listed")
            #expect(sources.count == 2)
            let scraped = try #require(sources.first { ($0["source"] as? String)?.hasPrefix("http") == true })
            #expect(scraped["used"] as? Bool == false && scraped["bucket_bounded"] as? Bool == true)
            #expect((scraped["count"] as? Int ?? 0) > 0, "the scrape saw the requests too")
            let gpus = try #require(node["gpus"] as? [[String: Any]])
            #expect(gpus.map { $0["util_pct"] as? Double } == [60, 70], "\(id): GPUs from the scrape")
        }
        #expect(fleetSent > 0)
        #expect((fleet["latency_ms"] as? [String: Any])?["count"] as? Int == fleetSent, "the fleet counts each request once")
    }

    @Test("the same fleet with only the scrape: latency is there, bucket-bounded and marked")
    func scrapeOnly() throws {
        let (nodes, sent, _) = try run(statsd: false)
        for id in sent.keys {
            let node = try #require(nodes[id], "\(id) missing")
            let latency = try #require(node["latency_ms"] as? [String: Any])
            #expect((latency["count"] as? Int ?? 0) > 0)
            #expect((latency["count"] as? Int ?? .max) <= Int(sent[id]?["count"] ?? 0), "never more than was sent")
            #expect(latency["bucket_bounded"] as? Bool == true, "\(id): only buckets are known")
            #expect((node["latency_sources"] as? [Any])?.isEmpty == true)
        }
    }
}
