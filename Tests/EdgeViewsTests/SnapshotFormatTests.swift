import EdgeCollector
import EdgeCore
import EdgeTestSupport
import EdgeViews
import Foundation
import Testing

@Suite("Snapshot formats")
struct SnapshotFormatTests {
    let snap = demoSnapshot()
    /// Code burning at 30×, chat at 8×, video clean (see `triageFleet`).
    let classSnap = triageFleet()

    func jsonObject(_ doc: SnapshotDocument) throws -> [String: Any] {
        let data = Data(doc.json().utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("JSON has the versioned top level with fleet and regions always present")
    func jsonTopLevel() throws {
        let o = try jsonObject(SnapshotDocument(snapshot: snap, kind: .regions))
        #expect(o["schema"] as? String == "edgetop.snapshot/v1")
        #expect((o["generated_at"] as? String)?.hasPrefix("2025-11-27T08:01:00") == true)
        #expect(o["window_s"] as? Int == 60)
        let fleet = try #require(o["fleet"] as? [String: Any])
        let health = try #require(fleet["health"] as? [String: Any])
        #expect(health["healthy"] as? Int == 2)
        #expect(health["down"] as? Int == 1)
        #expect(health["degraded"] as? Int == 2)
        #expect(health["stale"] as? Int == 1)
        #expect(health["worst"] as? String == "DOWN")
        let latency = try #require(fleet["latency_ms"] as? [String: Any])
        #expect(latency["count"] as? Int == 500)
        // Exact shares under each tier: the demo fleet's latencies are known.
        let tiers = try #require(fleet["tier_fractions"] as? [String: Double])
        #expect(tiers["50"] == 0.6 && tiers["100"] == 0.6 && tiers["500"] == 1)
        #expect(latency["p99"] is NSNumber)
        #expect((o["regions"] as? [Any])?.count == 2)
        #expect(o["sites"] == nil && o["nodes"] == nil)
    }

    @Test("Each site's and region's tier fractions come from its own nodes' counters, a site id in two regions kept apart")
    func groupTierFractions() throws {
        var s = snap
        // Two regions with a site of the same id: each keeps its own nodes' requests.
        let moved = try #require(s.nodes.firstIndex { $0.tierCounts.reduce(0, +) > 0 })
        let twin = try #require(s.sites.first { $0.region != s.nodes[moved].region })
        var copy = s.nodes[moved]
        copy.id += "-twin"; copy.region = twin.region; copy.site = s.nodes[moved].site
        copy.tierCounts = [UInt64](repeating: 0, count: copy.tierCounts.count)
        copy.tierCounts[copy.tierCounts.count - 1] = 7  // all over 10 s
        s.nodes.append(copy)
        var twinSite = twin
        twinSite.id = copy.site
        s.sites.append(twinSite)
        let o = try jsonObject(SnapshotDocument(snapshot: s, kind: .sites))
        func fractions(_ counts: [UInt64]) -> [String: Double] {
            let total = counts.reduce(0, +)
            var out: [String: Double] = [:]
            for bound in [50.0, 100, 200, 300, 500] where total > 0 {
                out[String(Int(bound))] = Double(counts.prefix(TierBuckets.index(bound) + 1).reduce(0, +)) / Double(total)
            }
            return out
        }
        func summed(_ member: (NodeStatus) -> Bool) -> [UInt64] {
            s.nodes.filter(member).reduce(into: [UInt64](repeating: 0, count: TierBuckets.upperBoundsMs.count)) { sum, n in
                for (i, c) in n.tierCounts.enumerated() { sum[i] += c }
            }
        }
        // The JSON writes four significant digits.
        func close(_ a: [String: Double], _ b: [String: Double]) -> Bool {
            a.keys.sorted() == b.keys.sorted() && a.allSatisfy { abs($0.value - b[$0.key]!) < 0.0006 }
        }
        let sites = try #require(o["sites"] as? [[String: Any]])
        #expect(sites.count == s.sites.count)
        for site in sites {
            let id = site["id"] as! String, region = site["region"] as! String
            let expected = fractions(summed { $0.site == id && $0.region == region })
            let got = (site["tier_fractions"] as? [String: Double]) ?? [:]
            #expect(close(got, expected), "site \(region)/\(id): \(got) against \(expected)")
        }
        let twinJSON = try #require(sites.first { $0["id"] as? String == copy.site && $0["region"] as? String == twin.region })
        #expect((twinJSON["tier_fractions"] as? [String: Double])?["500"] == 0, "the twin site's own request, all over 500 ms")
        for region in try #require(o["regions"] as? [[String: Any]]) {
            let id = region["id"] as! String
            #expect(close((region["tier_fractions"] as? [String: Double]) ?? [:], fractions(summed { $0.region == id })), "region \(id)")
        }
    }

    @Test("JSON nodes carry site, region, age, reason and GPUs; no data is null, never a string")
    func jsonNodes() throws {
        let o = try jsonObject(SnapshotDocument(snapshot: snap, kind: .nodes))
        let nodes = try #require(o["nodes"] as? [[String: Any]])
        #expect(nodes.count == 6)
        #expect((o["sites"] as? [Any])?.count == 4)
        let silent = try #require(nodes.first { $0["id"] as? String == "sel1-n01" })
        #expect(silent["health"] as? String == "STALE")
        #expect(silent["gpu_util_pct"] is NSNull)
        #expect((silent["age_s"] as? NSNumber)?.doubleValue == 20)
        let hot = try #require(nodes.first { $0["id"] as? String == "zrh1-n01" })
        #expect(hot["health"] as? String == "DEGRADED")
        #expect((hot["reason"] as? String)?.contains("thermal") == true)
        let gpus = try #require(hot["gpus"] as? [[String: Any]])
        #expect(gpus.first?["throttled"] as? Bool == true)
        // The hostile node name survives as data, escaped.
        #expect(nodes.contains { $0["id"] as? String == "tyo1-n02\u{1B}[2J\u{7}evil" })
        #expect(!SnapshotDocument(snapshot: snap, kind: .nodes).json().contains("\u{1B}"))
    }

    @Test("scope narrows JSON to one site and its nodes")
    func jsonScope() throws {
        let o = try jsonObject(SnapshotDocument(snapshot: snap, kind: .regions, scope: Scope(site: "fra1")))
        #expect((o["sites"] as? [[String: Any]])?.map { $0["id"] as? String } == ["fra1"])
        #expect((o["nodes"] as? [[String: Any]])?.count == 2)
    }

    @Test("the table fits 80 columns, worst first, with terminal-safe names")
    func table() {
        let text = SnapshotDocument(snapshot: snap, kind: .nodes).text(width: 80)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { TextWidth.width(String($0)) <= 80 })
        #expect(!text.contains("\u{1B}") && !text.contains("\u{7}"))
        let header = lines.first { $0.hasPrefix("NAME") }
        #expect(header?.contains("HEALTH") == true && header?.contains("P99") == true && header?.contains("AGE") == true)
        let rows = lines.drop { !$0.hasPrefix("NAME") }.dropFirst().filter { !$0.isEmpty }
        #expect(rows.first?.hasPrefix("fra1-n02") == true, "DOWN first")
        #expect(rows.last?.hasPrefix("sel1-n01") == false)
    }

    @Test("the table is coloured only when asked (a terminal without NO_COLOR)")
    func tableColour() {
        let doc = SnapshotDocument(snapshot: snap, kind: .nodes)
        #expect(doc.text(width: 80, color: true).contains("\u{1B}[1;31mDOWN"))
        #expect(!doc.text(width: 80, color: false).contains("\u{1B}"))
    }

    @Test("regions table: the region with a DOWN node comes first, counts are right")
    func regionTable() {
        let t = FleetTables.table(snap, kind: .regions)
        #expect(t.rows.map(\.id) == ["WEU", "NEAS"])
        #expect(t.rows[0].cells[2].text == "1dn 1deg")
        #expect(t.rows[1].cells[2].text == "1deg 1st")
        #expect(FleetTables.table(snap, kind: .regions, sort: .name).rows.map(\.id) == ["NEAS", "WEU"])
        #expect(FleetTables.table(snap, kind: .regions, sort: .name, reversed: true).rows.map(\.id) == ["WEU", "NEAS"])
        #expect(FleetTables.table(snap, kind: .sites, filter: "zür").rows.map(\.id) == ["zrh1"])
    }

    @Test("sites and nodes sort by each key, highest first, no-data last, ties by id; reversed; scoped and filtered")
    func sortKeys() {
        // A reference order: the key descending with no data (NaN) below every value, then id.
        func expected<T>(_ rows: [T], id: (T) -> String, _ key: (T) -> Double, reversed: Bool = false) -> [String] {
            rows.sorted { a, b in
                let x = key(a).isNaN ? -Double.infinity : key(a), y = key(b).isNaN ? -Double.infinity : key(b)
                if x != y { return reversed ? x < y : x > y }
                return id(a) < id(b)
            }.map(id)
        }
        let siteKeys: [(SortKey, (GroupStatus) -> Double)] = [(.p99, { $0.latency.p99 }), (.p50, { $0.latency.p50 }),
                                                               (.gpu, { $0.gpuUtilPct }), (.temp, { $0.gpuTempMaxC }), (.rps, { $0.rps })]
        for (key, value) in siteKeys {
            for reversed in [false, true] {
                #expect(FleetTables.table(snap, kind: .sites, sort: key, reversed: reversed).rows.map(\.id)
                        == expected(snap.sites, id: \.id, value, reversed: reversed), "sites by \(key), reversed \(reversed)")
            }
        }
        let nodeKeys: [(SortKey, (NodeStatus) -> Double)] = [(.p99, { $0.latency.p99 }), (.temp, { $0.gpuTempMaxC }), (.age, { $0.ageS })]
        for (key, value) in nodeKeys {
            #expect(FleetTables.table(snap, kind: .nodes, sort: key).rows.map(\.id) == expected(snap.nodes, id: \.id, value), "nodes by \(key)")
        }
        // Scope and filter narrow before the sort.
        let weu = snap.nodes.filter { $0.region == "WEU" }
        #expect(FleetTables.table(snap, kind: .nodes, scope: Scope(region: "WEU"), sort: .name).rows.map(\.id) == weu.map(\.id).sorted())
        #expect(FleetTables.table(snap, kind: .nodes, scope: Scope(region: "WEU"), sort: .name, reversed: true).rows.map(\.id)
                == weu.map(\.id).sorted().reversed())
        let site = snap.sites[0]
        #expect(FleetTables.table(snap, kind: .sites, scope: Scope(region: site.region, site: site.id)).rows.map(\.id) == [site.id])
        #expect(FleetTables.table(snap, kind: .nodes, filter: "thermal").rows.map(\.id) == ["zrh1-n01"], "filter on the reason")
    }

    @Test("CSV quotes what needs quoting and keeps raw numbers")
    func csv() {
        let out = SnapshotDocument(snapshot: snap, kind: .sites).csv()
        let lines = out.split(separator: "\n")
        #expect(lines.first?.hasPrefix("kind,id,name,region,nodes,healthy") == true)
        #expect(lines.count == 5)
        #expect(lines.contains { $0.hasPrefix("site,tyo1,東京,NEAS,2,") })
        let nodes = SnapshotDocument(snapshot: snap, kind: .nodes).csv()
        #expect(nodes.contains("tyo1-n02?[2J?evil"))
        let nodeLines = nodes.split(separator: "\n")
        #expect(nodeLines.count == 7)
        #expect(nodeLines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 15 })
    }

    @Test("Prometheus text is well-formed: HELP/TYPE once per family, escaped labels, seconds")
    func prometheus() {
        let out = SnapshotDocument(snapshot: snap, kind: .nodes).prometheus()
        #expect(out.components(separatedBy: "# TYPE edgetop_nodes gauge").count == 2)
        #expect(out.contains(#"edgetop_nodes{scope="fleet",id="fleet",state="down"} 1"#))
        #expect(out.contains(#"edgetop_latency_p99_seconds{scope="region",id="WEU"}"#))
        // Label values are data: only \\, \" and newline are escaped by the format.
        #expect(out.contains("id=\"tyo1-n02\u{1B}[2J\u{7}evil\""))
        for line in out.split(separator: "\n") where !line.hasPrefix("#") {
            let value = line.split(separator: " ").last.map(String.init) ?? ""
            #expect(Double(value) != nil || ["NaN", "+Inf", "-Inf"].contains(value), "\(line)")
        }
    }

    @Test("--check expressions parse with units and fail with a one-line reason", arguments: [
        ("p99<500ms", true), ("p99<0.5s", true), ("p99<100", false), ("down==0", false), ("down<=1", true),
        ("stale<=5", true), ("gpu_util<95", true), ("nodes==6", true), ("age<10s", false),
    ])
    func checks(expr: String, passes: Bool) throws {
        let check = try SnapshotCheck(expr)
        let failure = check.failure(in: snap, scope: Scope())
        #expect((failure == nil) == passes, "\(expr): \(failure ?? "ok")")
        if let failure { #expect(!failure.contains("\n")) }
    }

    @Test("--check reads classes: burn over a window, SLO compliance, budget; a class with no requests fails", arguments: [
        ("burn(code_completion,1h)<14.4", false, "check burn(code_completion,1h)<14.4 failed: fleet burn(code_completion,1h) is 30.00×"),
        ("burn(customer_service,6h)<14.4", true, ""), ("burn(customer_service,30m)<6", false, ""),
        ("slo(video_inspection)>=0.99", true, ""), ("slo(customer_service,1h)>=99%", false, ""),
        ("slo(code_completion)>=0.7", true, ""), ("budget(video_inspection)>0", true, ""),
        ("slo(industrial_control)>=0.99", false, "check slo(industrial_control)>=0.99 failed: fleet has no industrial_control requests"),
    ])
    func classChecks(expr: String, passes: Bool, reason: String) throws {
        let failure = try SnapshotCheck(expr).failure(in: classSnap, scope: Scope())
        #expect((failure == nil) == passes, "\(expr): \(failure ?? "ok")")
        if !reason.isEmpty { #expect(failure == reason) }
    }

    @Test("bad class checks name what is wrong", arguments: [
        ("burn(code,1h)<1", "unknown class \"code\""), ("burn(batch,2h)<1", "unknown window \"2h\""),
        ("burn(batch)<1", "expected burn(CLASS,WINDOW)"), ("slo(batch)>=fine", "is not a number"),
    ])
    func badClassChecks(expr: String, why: String) {
        #expect { try SnapshotCheck(expr) } throws: { "\($0)".contains(why) }
    }

    @Test("bad --check expressions are rejected with the reason", arguments: ["p99", "p42<5", "p99<fast", "<5"])
    func badChecks(expr: String) {
        #expect(throws: SnapshotCheck.ParseError.self) { try SnapshotCheck(expr) }
    }
}
