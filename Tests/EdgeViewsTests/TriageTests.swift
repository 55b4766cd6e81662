import EdgeCollector
import EdgeCore
import EdgeSources
import EdgeTestSupport
import EdgeViews
import Foundation
import Testing

/// A crafted fleet through the real collector: six minutes of traffic, then a snapshot.
/// - r1 / a1: code_completion with 30 % of requests over its 200 ms tier (fast burn)
/// - r2 / b1: customer_service with 8 % over 500 ms (slow burn only)
/// - r3 / c1: healthy, one GPU at 95 °C (throttling)
/// - r3 / c2: three nodes silent for a minute (one dead site, not three rows)
/// - r3 / c3: healthy
func triageFleet(healthy: Bool = false) -> FleetSnapshot {
    let t0 = 1_764_230_400.0
    let c = Collector(config: CollectorConfig(windowSeconds: 60, intervalSeconds: 1))
    let layout: [(String, String, String, Int)] = [
        ("r1", "a1", "a1-n1", 8), ("r2", "b1", "b1-n1", 8), ("r3", "c1", "c1-n1", 2),
        ("r3", "c2", "c2-n1", 2), ("r3", "c2", "c2-n2", 2), ("r3", "c2", "c2-n3", 2), ("r3", "c3", "c3-n1", 8),
    ]
    let refs = c.register(layout.map {
        NodePlacement(regionID: $0.0, regionName: "Region \($0.0.dropFirst())", siteID: $0.1, siteName: "Site \($0.1)",
                      nodeID: $0.2, tierMs: 500, gpuCount: $0.3)
    })
    let end = 360
    for second in stride(from: 0, to: end, by: 1) {
        var batch: [Sample] = []
        let t = t0 + Double(second)
        for (i, (_, site, node, gpus)) in layout.enumerated() {
            if !healthy && site == "c2" && second >= end - 60 { continue }  // the dead site went silent a minute ago
            batch.append(Sample(node: refs[i], time: t, metric: .up, value: 1))
            for g in 0..<gpus {
                let hot = !healthy && node == "c1-n1" && g == 1
                batch.append(Sample(node: refs[i], time: t, metric: .gpuTempC, value: hot ? 95 : 60, gpu: UInt8(g)))
                batch.append(Sample(node: refs[i], time: t, metric: .gpuUtil, value: 50, gpu: UInt8(g)))
            }
            // 10 requests a second; a share of them over the class's tier.
            let (workload, slow, fast, slowShare): (WorkloadClass, Double, Double, Int) = switch node {
            case "a1-n1": (.codeCompletion, 300, 90, healthy ? 0 : 3)
            case "b1-n1": (.customerService, 700, 200, healthy ? 0 : (second % 5 < 4 ? 1 : 0))  // 8 in 100
            default: (.videoInspection, 150, 40, 0)
            }
            for k in 0..<10 {
                let v = k < slowShare ? slow : fast
                batch.append(Sample(node: refs[i], time: t + Double(k) * 0.09, metric: .latencyMs, value: v, workload: workload))
            }
        }
        c.ingest(batch)
    }
    return c.snapshot(at: t0 + Double(end))
}

/// Four sites with coordinates: Berlin near capacity (code_completion and resident
/// industrial_control), Słubice across the Polish border (nearest), Leipzig (farther, in
/// Germany) and Madrid (too far for a 50 ms tier), each with room to spare.
func capacityFleet() -> FleetSnapshot {
    let t0 = 1_764_230_400.0
    let c = Collector(config: CollectorConfig(windowSeconds: 60, intervalSeconds: 1))
    let sites: [(String, String, Double, Double)] = [("ber1", "DE", 52.52, 13.40), ("slu1", "PL", 52.35, 14.56),
                                                     ("lei1", "DE", 51.34, 12.37), ("mad1", "ES", 40.42, -3.70)]
    var placements: [NodePlacement] = []
    for (id, country, lat, lon) in sites {
        placements.append(NodePlacement(regionID: "EU", siteID: id, country: country, latitude: lat, longitude: lon,
                                        nodeID: "\(id)-a", tierMs: 200, gpuCount: id == "ber1" ? 2 : 8, workload: .codeCompletion))
        placements.append(NodePlacement(regionID: "EU", siteID: id, country: country, latitude: lat, longitude: lon,
                                        nodeID: "\(id)-b", tierMs: 50, gpuCount: id == "ber1" ? 4 : 8, workload: .industrialControl))
    }
    let refs = c.register(placements)
    for second in 0..<60 {
        var batch: [Sample] = []
        let t = t0 + Double(second)
        for (i, p) in placements.enumerated() {
            batch.append(Sample(node: refs[i], time: t, metric: .up, value: 1))
            // Berlin: 11 code + 46 control requests a second on 12 + 48 of capacity; others 5.
            let n = p.siteID == "ber1" ? (p.workload == .codeCompletion ? 11 : 46) : 5
            for k in 0..<n {
                let v = p.workload == .codeCompletion ? 120.0 : 20
                batch.append(Sample(node: refs[i], time: t + Double(k) / Double(n), metric: .latencyMs, value: v, workload: p.workload))
            }
        }
        c.ingest(batch)
    }
    return c.snapshot(at: t0 + 60)
}

@Suite("Triage")
struct TriageTests {
    @Test("ranked worst first: fast burn, then the dead site (one item), slow burn, then a single hot GPU")
    func ordering() throws {
        let items = Triage.items(triageFleet())
        #expect(items.map(\.kind) == [.fastBurn, .siteDown, .slowBurn, .gpuThrottle], "\(items.map { "\($0.kind) \($0.place)" })")
        let fast = items[0]
        #expect(fast.workload == .codeCompletion)
        #expect(fast.target == .site("a1"))
        #expect(fast.howBad == "5m 30× 1h 30×")
        let dead = items[1]
        #expect(dead.place == "c2 Site c2 (r3)" && dead.howBad == "3 nodes: 3 stale")
        #expect(dead.target == .site("c2"))
        let slow = items[2]
        #expect(slow.workload == .customerService && slow.target == .site("b1"))
        #expect(slow.howBad == "30m 8.0× 6h 8.0×")
        #expect(items[3].target == .node("c1-n1") && items[3].howBad == "1 GPU throttling, 95°C")
    }

    @Test("Enter on an item goes to its place; back climbs to the fleet, then to triage; t returns")
    func drill() throws {
        var s = UIState(snapshot: triageFleet(), landing: .triage)
        #expect(s.level == .triage)
        s = s.handle(.down).handle(.enter)  // the dead site
        #expect(s.stack == [.triage, .fleet, .region("r3"), .site("c2")])
        s = s.handle(.escape).handle(.escape)
        #expect(s.level == .fleet)
        s = s.handle(.escape)
        #expect(s.level == .triage)
        #expect(s.triageSelection(in: s.triage()) == 1, "the selection is where it was")
        s = s.handle(.char("t"))
        #expect(s.level == .fleet, "t on triage shows the fleet")
        s = s.handle(.enter).handle(.char("t"))
        #expect(s.stack == [.triage], "t anywhere returns to triage")
        s = s.handle(.char("a"))
        #expect(s.stack == [.triage, .fleet, .allSites], "a from triage lists all sites; back leads home")
        s = s.handle(.char("d")).handle(.char("t"))
        #expect(s.stack == [.triage] && !s.showChanges, "t closes what changed")
    }

    @Test("the simulator's regional incident is a fast-burn item, for the classes it hurts, within one refresh")
    func incident() throws {
        let c = Collector()
        let start = pinnedFleetStart
        let sim = FleetSimulator(topology: try Topology.embedded(), collector: c, start: start)
        sim.advance(to: start + 1.1)  // the live view's prewarm, then one 1 s refresh
        c.drain()
        let snap = c.snapshot(at: start + 1.1)
        let incidentRegion = try #require(sim.incidentRegion(at: start + 1.1))
        let fast = Triage.items(snap).filter { $0.kind == .fastBurn }
        let hurt = Set(fast.filter { $0.key.hasSuffix("/\(incidentRegion)") }.compactMap(\.workload))
        #expect(hurt.isSuperset(of: [.industrialControl, .videoInspection, .codeCompletion]), "\(fast.map(\.key))")
        #expect(!hurt.contains(.batch), "batch has no tier: 160 ms across an ocean is still fine")
        #expect(fast.allSatisfy { $0.key.hasSuffix("/\(incidentRegion)") }, "no other region burns fast: \(fast.map(\.key))")
    }

    @Test("triage screens: items with the class panel; empty: all SLOs met with the budget left", arguments: [(80, 24), (160, 45)])
    func screens(size: (Int, Int)) throws {
        var s = UIState(snapshot: triageFleet(), landing: .triage)
        s.status = StatusInfo(source: "test", samplesPerSecond: 1_000, invalid: 0, cpuPercent: 1)
        try expectGolden("triage-\(size.0)x\(size.1)", s, width: size.0, height: size.1)
        var e = UIState(snapshot: triageFleet(healthy: true), landing: .triage)
        e.status = s.status
        #expect(e.triage().isEmpty)
        try expectGolden("triage-empty-\(size.0)x\(size.1)", e, width: size.0, height: size.1)
    }

    @Test("capacity: a tight site's classes go to the nearest site with room, within tier; resident classes stay in the country")
    func capacityMoves() throws {
        let snap = capacityFleet()
        let ber = try #require(snap.sites.first { $0.id == "ber1" })
        #expect(abs(ber.headroom - (1 - 57.0 / 60)) < 0.01, "57 req/s on 2×6 + 4×12 of capacity")
        let moves = Capacity.moves(snap)
        #expect(moves.map { "\($0.site) \($0.workload.id) → \($0.to)" }.sorted() == [
            "ber1 code_completion → slu1",     // the nearest, across the border
            "ber1 industrial_control → lei1",  // resident: the nearest in Germany
        ])
        let control = try #require(moves.first { $0.workload == .industrialControl })
        #expect(abs(control.distanceKm - 148) < 5)
        #expect(abs(control.addedMs - Capacity.addedRoundTripMs(km: control.distanceKm)) < 1e-9)
        #expect(control.expectedP99Ms == 20 + control.addedMs)
        let countries = Capacity.countries(snap)
        #expect(countries.first?.country == "DE" && countries.first?.tightSites == 1, "least headroom first")
        let item = try #require(Triage.items(snap).first { $0.kind == .headroom })
        #expect(item.target == .site("ber1"))
        #expect(item.action?.hasPrefix("move industrial_control (46 req/s) from ber1 to lei1") == true, "\(item.action ?? "")")
    }

    @Test("fleet table at 120+ columns: per-class SLO compliance and burn; none below 120")
    func classColumns() throws {
        var s = UIState(snapshot: triageFleet())
        s.status = StatusInfo(source: "test", samplesPerSecond: 1_000, invalid: 0, cpuPercent: 1)
        try expectGolden("classes-fleet-160x45", s, width: 160, height: 45)
        let wide = Screen.render(&s, width: 160, height: 45).text
        #expect(wide.contains("WORST SLO") && wide.contains("code 70.0%") && wide.contains("30×"))
        let narrow = Screen.render(&s, width: 100, height: 30).text
        #expect(!narrow.contains("BURN"))
    }
}
