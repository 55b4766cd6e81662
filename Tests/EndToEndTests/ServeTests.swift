import EdgeSources
import EdgeTestSupport
import Foundation
import Testing

/// `edgetop serve` as Prometheus sees it.
@Suite("edgetop serve", .serialized)
struct ServeTests {
    static let curlPath = which("curl")

    func get(_ url: String, accept: String? = nil, method: String = "GET") -> (status: Int, type: String, body: String) {
        EdgeTestSupport.curl(["-X", method, url] + (accept.map { ["-H", "Accept: \($0)"] } ?? []))
    }

    @Test("serves /metrics (text and OpenMetrics), /api/v1/snapshot, /healthz; stops on SIGTERM", .enabled(if: curlPath != nil))
    func endpoints() throws {
        let port = freePort()
        let server = try #require(BackgroundProcess(edgetopBinary(), ["serve", "--sim-regions", "OC", "--rate", "3000",
                                                                       "--listen", "127.0.0.1:\(port)"]))
        #expect(waitForPort(port), "\(server.log)")
        usleep(1_500_000)
        #expect(get("http://127.0.0.1:\(port)/healthz").status == 200)

        let text = get("http://127.0.0.1:\(port)/metrics")
        #expect(text.status == 200 && text.type.hasPrefix("text/plain; version=0.0.4"))
        let parsed = ExpositionParser(format: .prometheusText).parse(text.body)
        #expect(parsed.errors.isEmpty)
        // Asked for gzip (as Prometheus asks), the page comes compressed and reads the same.
        let headers = NSTemporaryDirectory() + "edgetop-headers-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: headers) }
        let packed = EdgeTestSupport.curl(["--compressed", "-D", headers, "http://127.0.0.1:\(port)/metrics"])
        let head = (try? String(contentsOfFile: headers, encoding: .utf8))?.lowercased() ?? ""
        #expect(head.contains("content-encoding: gzip"), "\(head)")
        let unpacked = ExpositionParser(format: .prometheusText).parse(packed.body)
        #expect(unpacked.errors.isEmpty && unpacked.families.map(\.name) == parsed.families.map(\.name))
        // Tier-aligned cumulative buckets, consistent with the count, for every node.
        let hist = try #require(parsed.families.first { $0.name == "edgetop_request_latency_seconds" })
        #expect(hist.type == .histogram)
        var byNode: [String: [(Double, Double)]] = [:]
        var counts: [String: Double] = [:]
        for s in hist.samples {
            let node = s.label("node") ?? ""
            if s.name.hasSuffix("_bucket") { byNode[node, default: []].append((Double(s.label("le")!.replacingOccurrences(of: "Inf", with: "inf"))!, s.value)) }
            if s.name.hasSuffix("_count") { counts[node] = s.value }
        }
        #expect(byNode.count == 113, "every OC node")
        for (node, buckets) in byNode {
            #expect(buckets.map(\.0) == [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, .infinity], "\(node)")
            #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.1 <= $1.1 }, "\(node) buckets are cumulative")
            #expect(buckets.last?.1 == counts[node], "\(node) +Inf bucket equals the count")
        }
        #expect((parsed.families.first { $0.name == "edgetop_gpu_utilization_ratio" }?.samples.count ?? 0) > 200)

        let om = get("http://127.0.0.1:\(port)/metrics", accept: "application/openmetrics-text;version=1.0.0")
        #expect(om.type.hasPrefix("application/openmetrics-text"))
        let strict = ExpositionParser(format: .openMetrics, strict: true).parse(om.body)
        #expect(strict.errors.isEmpty, "\(strict.errors.prefix(3))")

        if let promtool = which("promtool") {
            let file = temporaryFile(text.body, suffix: ".prom")
            defer { try? FileManager.default.removeItem(atPath: file) }
            let check = spawn("/bin/sh", ["-c", "\(promtool) check metrics < \(file)"])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }

        let api = get("http://127.0.0.1:\(port)/api/v1/snapshot?view=nodes&region=OC&limit=5")
        #expect(api.status == 200)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])
        #expect(o["schema"] as? String == "edgetop.snapshot/v1")
        #expect((o["nodes"] as? [Any])?.count == 5)
        #expect(get("http://127.0.0.1:\(port)/api/v1/snapshot?view=planets").status == 400)
        #expect(get("http://127.0.0.1:\(port)/api/v1/snapshot?region=MARS").status == 404)
        #expect(get("http://127.0.0.1:\(port)/api/v1/snapshot?colour=blue").status == 400)
        #expect(get("http://127.0.0.1:\(port)/nowhere").status == 404)
        #expect(get("http://127.0.0.1:\(port)/metrics", method: "POST").status == 405)

        kill(server.pid, SIGTERM)
        #expect(server.wait(timeout: 10) == 0, "\(server.log)")
    }

    @Test("a client that connects and says nothing does not stall /metrics", .enabled(if: curlPath != nil))
    func slowClient() throws {
        let port = freePort()
        let server = try #require(BackgroundProcess(edgetopBinary(), ["serve", "--sim-regions", "OC", "--rate", "1000",
                                                                       "--listen", "127.0.0.1:\(port)"]))
        defer { server.stop() }
        #expect(waitForPort(port))
        // Ten silent connections held open.
        var silent: [Int32] = []
        for _ in 0..<10 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            silent.append(fd)
        }
        defer { silent.forEach { close($0) } }
        let start = Date()
        #expect(get("http://127.0.0.1:\(port)/metrics").status == 200)
        #expect(Date().timeIntervalSince(start) < 3)
    }
}

@Suite("Shipped Prometheus rules")
struct RulesTests {
    @Test("deploy/rules.yml passes promtool check rules", .enabled(if: which("promtool") != nil))
    func rules() {
        let path = repositoryRoot().appendingPathComponent("deploy/rules.yml").path
        let r = spawn(which("promtool")!, ["check", "rules", path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("SUCCESS"))
    }
}

/// The scale path end to end: `edgetop serve` scraped by Debian's Prometheus, read back with
/// `edgetop snapshot --prometheus`.
@Suite("Query backend against a real Prometheus", .serialized, .enabled(if: which("prometheus") != nil && which("curl") != nil))
struct QueryBackendTests {
    /// A fixed fleet: 24 nodes in 3 sites with GPUs, one unreachable, one with a fatal Xid.
    static func replayFleet() -> String {
        var lines: [String] = []
        let t = 1_764_230_400.0
        for i in 0..<24 {
            let site = "s\(i / 8)", node = "\(site)-n\(i % 8)"
            func add(_ metric: String, _ value: Double, gpu: Int? = nil, dt: Double = 0) {
                let g = gpu.map { ", \"gpu\": \($0)" } ?? ""
                lines.append(#"{"t": \#(t + dt), "region": "lab", "site": "\#(site)", "node": "\#(node)", "metric": "\#(metric)", "value": \#(value)\#(g)}"#)
            }
            add("up", i == 5 ? 0 : 1)
            for g in 0..<2 {
                add("gpu_util", Double(30 + i + g), gpu: g)
                add("gpu_temp_c", Double(50 + i % 10), gpu: g)
                add("gpu_mem_total_mib", 81_559, gpu: g)
            }
            if i == 9 { add("xid", 79, gpu: 1) }
            for k in 0..<40 { add("latency_ms", Double(20 + (k * 7 + i) % 150), dt: Double(k) * 0.1) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A fixed region: `count` nodes in 2 sites, with GPUs and traffic; every fifth node down.
    static func regionFleet(_ region: String, count: Int) -> String {
        var lines: [String] = []
        let t = 1_764_230_400.0
        for i in 0..<count {
            let site = "\(region.lowercased())\(i % 2)", node = "\(site)-n\(i)"
            func add(_ metric: String, _ value: Double, gpu: Int? = nil, dt: Double = 0) {
                let g = gpu.map { ", \"gpu\": \($0)" } ?? ""
                lines.append(#"{"t": \#(t + dt), "region": "\#(region)", "site": "\#(site)", "node": "\#(node)", "metric": "\#(metric)", "value": \#(value)\#(g)}"#)
            }
            add("up", i % 5 == 4 ? 0 : 1)
            add("gpu_util", Double(40 + i), gpu: 0)
            for k in 0..<30 { add("latency_ms", Double(8 + (k * 11 + i * 3) % 240), dt: Double(k) * 0.1) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("three regional collectors behind one Prometheus: the union fleet matches their own snapshots; a killed collector's region turns STALE, named")
    func regionalCollectors() throws {
        let regions = [("AAA", 12), ("BBB", 9), ("CCC", 15)]
        let base = freePort()
        var collectors: [BackgroundProcess] = []
        var files: [String] = []
        defer { for c in collectors { c.stop() }; for f in files { try? FileManager.default.removeItem(atPath: f) } }
        for (i, (region, count)) in regions.enumerated() {
            let file = temporaryFile(Self.regionFleet(region, count: count))
            files.append(file)
            // CCC exports latency per site only (--metrics-detail site): the global view's rows
            // come from `sum by`, so they read the same either way.
            let detail = region == "CCC" ? ["--metrics-detail", "site"] : []
            collectors.append(try #require(BackgroundProcess(edgetopBinary(), ["serve", "--replay", file, "--collector", "col-\(region)",
                                                                              "--listen", "127.0.0.1:\(base + i)"] + detail)))
        }
        let promPort = base + 3
        let (prom, dir) = try Self.prometheus(scraping: [base, base + 1, base + 2], port: promPort)
        defer { prom.stop(); try? FileManager.default.removeItem(atPath: dir) }
        #expect((0..<3).allSatisfy { waitForPort(base + $0) } && waitForPort(promPort), "\(prom.log)")

        func global() throws -> [String: Any] {
            let r = spawn(edgetopBinary(), ["snapshot", "--prometheus", "http://127.0.0.1:\(promPort)", "--format", "json", "--view", "nodes"])
            #expect(r.status == 0, "\(r.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout.prefix(300))")
        }
        // Until Prometheus has scraped all three (its first scrapes are spread over an interval).
        var union: [String: Any] = [:]
        for _ in 0..<30 {
            union = try global()
            if Set(((union["nodes"] as? [[String: Any]]) ?? []).compactMap { $0["region"] as? String }).count == 3 { break }
            usleep(500_000)
        }
        let unionNodes = (union["nodes"] as? [[String: Any]]) ?? []
        var own: [[String: Any]] = []
        for i in 0..<3 { own += (try json("http://127.0.0.1:\(base + i)/api/v1/snapshot?view=nodes")["nodes"] as? [[String: Any]]) ?? [] }
        #expect(unionNodes.count == own.count && own.count == 36,
                "union \(Dictionary(grouping: unionNodes, by: { $0["region"] as? String ?? "?" }).mapValues(\.count)) own \(Dictionary(grouping: own, by: { $0["region"] as? String ?? "?" }).mapValues(\.count))")
        for state in ["HEALTHY", "DEGRADED", "DOWN", "STALE"] {
            #expect(unionNodes.filter { $0["health"] as? String == state }.count == own.filter { $0["health"] as? String == state }.count, "\(state)")
        }
        // Why, as each collector judged it (every fifth node of a region is unreachable).
        let aaaDown = unionNodes.filter { $0["region"] as? String == "AAA" && $0["health"] as? String == "DOWN" }
        #expect(!aaaDown.isEmpty && aaaDown.allSatisfy { $0["reason"] as? String == "unreachable, per collector col-AAA" },
                "\(aaaDown.map { $0["reason"] ?? "?" })")
        let ownFractions = Dictionary(own.map { ($0["id"] as! String, $0["tier_fractions"] as? [String: Double]) }, uniquingKeysWith: { a, _ in a })
        for n in unionNodes where n["region"] as? String != "CCC" {
            #expect(n["tier_fractions"] as? [String: Double] == ownFractions[n["id"] as! String] ?? nil, "\(n["id"] ?? "?") tier fractions")
        }

        // The fleet level reads aggregates, not every node: the same counts per region and state,
        // and each region's requests are its collector's, whatever its --metrics-detail.
        func regionRows(_ stderr: UnsafeMutablePointer<String>? = nil) throws -> [String: [String: Any]] {
            let r = spawn(edgetopBinary(), ["snapshot", "--prometheus", "http://127.0.0.1:\(promPort)", "--format", "json", "--view", "regions"])
            #expect(r.status == 0, "\(r.stderr)")
            stderr?.pointee = r.stderr
            let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout.prefix(300))")
            return Dictionary(((o["regions"] as? [[String: Any]]) ?? []).map { ($0["id"] as! String, $0) }, uniquingKeysWith: { a, _ in a })
        }
        let rows = try regionRows()
        #expect(Set(rows.keys) == ["AAA", "BBB", "CCC"])
        for (region, _) in regions {
            let mine = own.filter { $0["region"] as? String == region }
            let health = rows[region]?["health"] as? [String: Any]
            for state in ["healthy", "degraded", "down", "stale"] {
                #expect(health?[state] as? Int == mine.filter { ($0["health"] as? String)?.lowercased() == state }.count, "\(region) \(state)")
            }
        }
        // CCC's latency reached Prometheus per site: 2 sites × 13 buckets, no node label.
        let ccc = curl(["-G", "--data-urlencode", "query=count by (site) (edgetop_request_latency_seconds_bucket{region=\"CCC\"})",
                        "http://127.0.0.1:\(promPort)/api/v1/query"])
        let cccSeries = ((try JSONSerialization.jsonObject(with: Data(ccc.body.utf8)) as? [String: Any])?["data"] as? [String: Any])?["result"] as? [[String: Any]]
        #expect(cccSeries?.compactMap { (($0["value"] as? [Any])?.last as? String) } == ["13", "13"], "\(ccc.body.prefix(300))")

        // Kill BBB's collector: within 3 scrape intervals its region is STALE, and says whose.
        collectors[1].stop()
        usleep(3_500_000)
        let after = try global()
        let bbb = ((after["nodes"] as? [[String: Any]]) ?? []).filter { $0["region"] as? String == "BBB" }
        #expect(bbb.count == 9, "BBB's nodes are still listed")
        #expect(bbb.allSatisfy { $0["health"] as? String == "STALE" }, "\(bbb.map { $0["health"] ?? "?" })")
        #expect(bbb.allSatisfy { ($0["reason"] as? String ?? "").hasPrefix("collector col-BBB (BBB): scrape failed") }, "\(bbb.first?["reason"] ?? "none")")
        let others = ((after["nodes"] as? [[String: Any]]) ?? []).filter { $0["region"] as? String != "BBB" }
        #expect(others.count == 27 && others.filter { $0["health"] as? String == "STALE" }.isEmpty)
        // At the fleet level too: one dark region, named once, not nine node problems.
        var stderr = ""
        let dark = try regionRows(&stderr)
        let bbbHealth = dark["BBB"]?["health"] as? [String: Any]
        #expect(bbbHealth?["stale"] as? Int == 9 && bbbHealth?["healthy"] as? Int == 0, "\(dark["BBB"] ?? [:])")
        #expect(stderr.contains("collector col-BBB (BBB): scrape failed"), "\(stderr)")
        #expect((dark["AAA"]?["health"] as? [String: Any])?["stale"] as? Int == 0)
    }

    /// A real Prometheus on `port` scraping edgetop on `targets` every second (`honor_labels`,
    /// as a deployment would); the caller stops it and removes its directory.
    static func prometheus(scraping targets: [Int], port: Int) throws -> (BackgroundProcess, String) {
        let dir = NSTemporaryDirectory() + "edgetop-prom-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
        global: { scrape_interval: 1s, evaluation_interval: 1s }
        scrape_configs:
          - job_name: edgetop
            honor_labels: true
            static_configs: [{ targets: [\(targets.map { "'127.0.0.1:\($0)'" }.joined(separator: ", "))] }]
        """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prom = try #require(BackgroundProcess(which("prometheus")!, [
            "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ]))
        return (prom, dir)
    }

    func json(_ url: String) throws -> [String: Any] {
        let r = curl([url])
        return try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any], "\(r.body.prefix(200))")
    }

    @Test("same nodes, health counts and GPU values as the serving edgetop; latency bucket-bounded")
    func roundTrip() throws {
        let fleet = temporaryFile(Self.replayFleet())
        defer { try? FileManager.default.removeItem(atPath: fleet) }
        let servePort = freePort(), simPort = servePort + 1, promPort = servePort + 2
        let served = try #require(BackgroundProcess(edgetopBinary(), ["serve", "--replay", fleet, "--listen", "127.0.0.1:\(servePort)"]))
        defer { served.stop() }
        let sim = try #require(BackgroundProcess(edgetopBinary(), ["serve", "--sim-regions", "OC", "--rate", "3000", "--listen", "127.0.0.1:\(simPort)"]))
        defer { sim.stop() }
        let (prom, dir) = try Self.prometheus(scraping: [servePort, simPort], port: promPort)
        defer { prom.stop(); try? FileManager.default.removeItem(atPath: dir) }
        #expect(waitForPort(servePort) && waitForPort(simPort) && waitForPort(promPort), "\(prom.log)")
        usleep(9_000_000)  // several 1 s scrapes, so increase() has two points

        let r = spawn(edgetopBinary(), ["snapshot", "--prometheus", "http://127.0.0.1:\(promPort)", "--format", "json",
                                        "--view", "nodes", "--window", "30"])
        #expect(r.status == 0, "\(r.stderr)")
        let got = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let want = try json("http://127.0.0.1:\(servePort)/api/v1/snapshot?view=nodes")
        func nodes(_ o: [String: Any], region: String) -> [String: [String: Any]] {
            Dictionary(((o["nodes"] as? [[String: Any]]) ?? []).filter { $0["region"] as? String == region }.map { ($0["id"] as! String, $0) },
                       uniquingKeysWith: { a, _ in a })
        }
        let g = nodes(got, region: "lab"), w = nodes(want, region: "lab")
        #expect(Set(g.keys) == Set(w.keys) && w.count == 24)
        for state in ["HEALTHY", "DEGRADED", "DOWN", "STALE"] {
            #expect(g.values.filter { $0["health"] as? String == state }.count == w.values.filter { $0["health"] as? String == state }.count, "\(state)")
        }
        #expect(g["s0-n5"]?["health"] as? String == "DOWN" && g["s1-n1"]?["health"] as? String == "DOWN")
        for (id, node) in w {
            // Exact tier fractions survive the trip through Prometheus.
            let gt = g[id]?["tier_fractions"] as? [String: Double], wt = node["tier_fractions"] as? [String: Double]
            #expect(gt != nil && gt == wt, "\(id) tier fractions \(String(describing: gt)) vs \(String(describing: wt))")
            let gg = (g[id]?["gpus"] as? [[String: Any]]) ?? [], ww = (node["gpus"] as? [[String: Any]]) ?? []
            #expect(gg.map { $0["util_pct"] as? Double } == ww.map { $0["util_pct"] as? Double }, "\(id) GPU utilisation")
            #expect(gg.map { $0["mem_total_mib"] as? Double } == ww.map { $0["mem_total_mib"] as? Double }, "\(id) GPU memory")
        }
        // Simulated OC nodes have live traffic: latency from increase() over tier buckets.
        let oc = nodes(got, region: "OC")
        #expect(oc.count == 113)
        let latencies = oc.values.compactMap { $0["latency_ms"] as? [String: Any] }.filter { ($0["count"] as? Int ?? 0) > 0 }
        #expect(!latencies.isEmpty)
        #expect(latencies.allSatisfy { $0["bucket_bounded"] as? Bool == true })

        // History through query_range: the same JSON shape, at the backend's coarser step.
        let h = spawn(edgetopBinary(), ["snapshot", "--prometheus", "http://127.0.0.1:\(promPort)", "--format", "json",
                                        "--history", "15m"])
        #expect(h.status == 0, "\(h.stderr)")
        let hist = try #require(try JSONSerialization.jsonObject(with: Data(h.stdout.utf8)) as? [String: Any])
        let fleetHistory = try #require((hist["fleet"] as? [String: Any])?["history"] as? [String: Any])
        #expect(fleetHistory["step_s"] as? Double == 15)
        #expect((fleetHistory["p99_ms"] as? [Any])?.count == 60)
        let ocHistory = ((hist["regions"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == "OC" }?["history"] as? [String: Any]
        let healthyNow = (ocHistory?["rps"] as? [Any])?.last as? Double
        #expect(healthyNow.map { $0 > 0 } == true, "OC's newest step has traffic: \(String(describing: ocHistory))")
        // Health counts per step match the states as exported (lower case): lab's two DOWN nodes.
        let labHistory = ((hist["regions"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == "lab" }?["history"] as? [String: Any]
        let downNow = ((labHistory?["down"] as? [Any]) ?? []).compactMap { ($0 as? NSNumber)?.intValue }.last
        #expect(downNow == 2, "lab's down nodes per step: \(String(describing: labHistory?["down"]))")

        // A dead API is one clear line and exit 2.
        let dead = spawn(edgetopBinary(), ["snapshot", "--prometheus", "http://127.0.0.1:\(promPort + 1)", "--format", "json"])
        #expect(dead.status == 2)
        #expect(dead.stderr.contains("refused"))
    }
}
