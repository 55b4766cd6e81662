import EdgeTestSupport
import Foundation
import Testing

/// The real binary, as a script or CI job runs it.
@Suite("edgetop snapshot (real binary)", .serialized)
struct SnapshotCommandTests {
    let bin = edgetopBinary()
    let pinned = ["--seed", "7", "--start", "1764230400", "--duration", "6", "--rate", "20000"]

    @Test("JSON on the simulator: ~4,400 sites in 13 regions, every node with GPUs and plausible figures")
    func simulatorJSON() throws {
        let r = spawn(bin, ["snapshot", "--format", "json", "--view", "nodes"] + pinned)
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(o["schema"] as? String == "edgetop.snapshot/v1")
        let regions = try #require(o["regions"] as? [[String: Any]])
        let sites = try #require(o["sites"] as? [[String: Any]])
        let nodes = try #require(o["nodes"] as? [[String: Any]])
        #expect(regions.count == 13)
        #expect(sites.count == 4_400)
        #expect(nodes.count > 8_000)
        let healthy = nodes.filter { $0["health"] as? String == "HEALTHY" }
        #expect(Double(healthy.count) / Double(nodes.count) > 0.85)
        for n in healthy.prefix(200) {
            let gpus = try #require(n["gpus"] as? [[String: Any]])
            #expect(!gpus.isEmpty)
            let util = try #require(n["gpu_util_pct"] as? Double)
            #expect((0...100).contains(util))
        }
        let fleet = try #require(o["fleet"] as? [String: Any])
        let latency = try #require(fleet["latency_ms"] as? [String: Any])
        let p50 = try #require(latency["p50"] as? Double), p99 = try #require(latency["p99"] as? Double)
        #expect(p50 > 10 && p50 < 200 && p99 > p50 && p99 < 2_000)
    }

    @Test("snapshot --format map: the world at the width asked, lines that fit, the legend with counts")
    func mapText() throws {
        let r = spawn(bin, ["snapshot", "--format", "map", "--width", "100"] + pinned)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count > 15 && lines.allSatisfy { $0.count <= 100 })
        #expect(lines.last?.contains("ok") == true && lines.last?.contains("down") == true)
        #expect(r.stdout.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }, "Braille land")
    }

    @Test("--sim-scale puts more nodes on the same sites")
    func simScale() throws {
        let r = spawn(bin, ["snapshot", "--format", "json", "--view", "fleet", "--sim-scale", "2", "--duration", "2", "--rate", "5000"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let fleet = try #require(o["fleet"] as? [String: Any])
        #expect(fleet["nodes"] as? Int == 19_250, "9,625 × 2")
    }

    @Test("route: a city ranks sites as JSON; an unknown place is one line and exit 2")
    func route() throws {
        let r = spawn(bin, ["route", "--from", "lagos", "--format", "json", "--class", "video_inspection"] + pinned)
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((o["from"] as? [String: Any])?["name"] as? String == "Lagos")
        let candidates = try #require(o["candidates"] as? [[String: Any]])
        #expect(candidates.count == 10)
        let totals = candidates.compactMap { $0["total_p99_ms"] as? Double }
        #expect(totals == totals.sorted(), "best first")
        let bad = spawn(bin, ["route", "--from", "Atlantis"] + pinned)
        #expect(bad.status == 2)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("did you mean"), "\(bad.stderr)")
    }

    @Test("the same seed and start print the same numbers")
    func reproducible() {
        let a = spawn(bin, ["snapshot", "--format", "csv", "--view", "sites"] + pinned)
        let b = spawn(bin, ["snapshot", "--format", "csv", "--view", "sites"] + pinned)
        #expect(a.status == 0 && b.status == 0)
        #expect(a.stdout == b.stdout)
        #expect(a.stdout.split(separator: "\n").count == 4_401)
    }

    @Test("the table fits 80 columns in a pipe and carries no escape codes")
    func table() {
        let r = spawn(bin, ["snapshot"] + pinned)
        #expect(r.status == 0)
        #expect(r.stdout.contains("NAME") && r.stdout.contains("P99"))
        #expect(!r.stdout.contains("\u{1B}"))
        #expect(r.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })
    }

    @Test("a failing --check exits 1 with a one-line reason; a passing one exits 0")
    func checks() {
        let fail = spawn(bin, ["snapshot", "--format", "json", "--check", "p99<1ms", "--check", "down<=100000"] + pinned)
        #expect(fail.status == 1)
        #expect(fail.stderr.split(separator: "\n").count == 1)
        #expect(fail.stderr.contains("p99<1ms"))
        let pass = spawn(bin, ["snapshot", "--format", "csv", "--check", "p99<60s", "--check", "nodes>1000"] + pinned)
        #expect(pass.status == 0, "\(pass.stderr)")
    }

    @Test("usage errors exit 2 with one line", arguments: [
        ["snapshot", "--bogus"], ["snapshot", "--format", "xml"], ["snapshot", "--view", "planets"],
        ["snapshot", "--check", "p99"], ["snapshot", "--limit", "0"], ["snapshot", "--region", "MARS", "--duration", "1"],
        ["snapshot", "--replay", "/nonexistent/file.jsonl"], ["snapshot", "--window", "-5"], ["snapshot", "--sim-scale", "0.5"],
        ["snapshot", "--with-sim"], ["snapshot", "--with-sim", "--statsd", "127.0.0.1:18999"],
        ["route", "--from", "Paris", "--with-sim", "--statsd", "127.0.0.1:18999"],
    ])
    func usageErrors(args: [String]) {
        let r = spawn(bin, args)
        #expect(r.status == 2, "\(args): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test("an invalid --config exits 2 with FILE:LINE: reason")
    func badConfig() {
        let path = temporaryFile("scrape:\n  - url: http://127.0.0.1:9/metrics\n    timeout: never\n", suffix: ".yml")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = spawn(bin, ["snapshot", "--config", path, "--duration", "1"])
        #expect(r.status == 2)
        #expect(r.stderr == "edgetop: \(path):3: scrape[0].timeout must be a number of seconds above 0\n")
        let missing = spawn(bin, ["snapshot", "--config", "/nonexistent/edge.yml"])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent/edge.yml:0: cannot read the file"))
    }

    @Test("--help works on every command")
    func help() {
        for args in [["--help"], ["snapshot", "--help"], ["bench", "--help"], ["top", "--help"]] {
            let r = spawn(bin, args)
            #expect(r.status == 0, "\(args)")
            #expect(r.stdout.contains("USAGE"), "\(args)")
        }
    }

    @Test("replay: bad lines are reported with numbers, good lines kept; nothing valid exits 2")
    func replay() throws {
        let lines = [
            #"{"t": 1764230400.1, "region": "weu", "site": "fra1", "node": "fra1-n01", "metric": "latency_ms", "value": 12.5}"#,
            #"{"t": 1764230400.2, "region": "weu", "site": "fra1", "node": "fra1-n01", "metric": "gpu_util", "gpu": 0, "value": 70}"#,
            "garbage",
            #"{"t": 1764230400.3, "region": "weu", "site": "fra1", "node": "fra1-n01", "metric": "latency_ms", "value": 30}"#,
        ]
        let path = temporaryFile(lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = spawn(bin, ["snapshot", "--replay", path, "--format", "json", "--view", "nodes"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("line 3: not a JSON object"))
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let nodes = try #require(o["nodes"] as? [[String: Any]])
        #expect(nodes.count == 1)
        let latency = try #require(nodes[0]["latency_ms"] as? [String: Any])
        #expect(latency["count"] as? Int == 2)
        #expect(o["generated_at"] as? String == "2025-11-27T08:00:00.300Z")

        let bad = temporaryFile("nope\n{}\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let r2 = spawn(bin, ["snapshot", "--replay", bad])
        #expect(r2.status == 2)
        #expect(r2.stderr.contains("no valid sample"))
    }

    @Test("Prometheus output passes promtool check metrics", .enabled(if: which("promtool") != nil))
    func promtool() throws {
        let r = spawn(bin, ["snapshot", "--format", "prometheus", "--view", "nodes", "--region", "OC"] + pinned)
        #expect(r.status == 0)
        let path = temporaryFile(r.stdout, suffix: ".prom")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let check = spawn("/bin/sh", ["-c", "promtool check metrics < \(path)"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
}

@Suite("JSON schema")
struct SchemaTests {
    static let python = which("python3")
    static var hasJSONSchema: Bool {
        guard let python else { return false }
        return spawn(python, ["-c", "import jsonschema"]).status == 0
    }

    @Test("snapshot JSON validates against docs/snapshot.schema.json", .enabled(if: hasJSONSchema))
    func validates() throws {
        let bin = edgetopBinary()
        let schema = repositoryRoot().appendingPathComponent("docs/snapshot.schema.json").path
        for (view, extra) in [("regions", [String]()), ("nodes", []), ("nodes", ["--history", "15m"]), ("sites", ["--history", "24h"]),
                              ("triage", ["--rate", "100000"]), ("capacity", [])] {
            let scope = view == "triage" || view == "capacity" ? [] : ["--region", "OC"]
            let r = spawn(bin, ["snapshot", "--format", "json", "--view", view, "--duration", "4", "--rate", "5000"] + scope + extra)
            #expect(r.status == 0)
            let doc = temporaryFile(r.stdout, suffix: ".json")
            defer { try? FileManager.default.removeItem(atPath: doc) }
            let script = "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))"
            let v = spawn(Self.python!, ["-c", script, schema, doc])
            #expect(v.status == 0, "\(view): \(v.stderr)")
            if view == "triage" { #expect(r.stdout.contains("\"kind\":\"fast_burn\""), "the simulator's incident burns fast") }
            if view == "capacity" { #expect(r.stdout.contains("\"countries\":[{\"country\":")) }
        }
    }
}
