import EdgeCollector
import EdgeCore
import EdgeSources
import EdgeTestSupport
import EdgeViews
import Foundation
import Testing

@Suite("Routing advisor")
struct RouteTests {
    @Test("places: cities without case or accents, a country to choose, coordinates; a miss says what is close")
    func places() throws {
        let snap = goldenFleet
        let sp = try RoutePlace.resolve("sao paulo", in: snap)
        #expect(sp.name == "São Paulo" && sp.country == "BR")
        #expect(try RoutePlace.resolve("FRANKFURT AM MAIN", in: snap).country == "DE")
        let ll = try RoutePlace.resolve("50.1, 8.7", in: snap)
        #expect(ll.latitude == 50.1 && ll.longitude == 8.7)
        #expect(throws: RoutePlace.NotFound.self) { try RoutePlace.resolve("91,0", in: snap) }
        do {
            _ = try RoutePlace.resolve("Frankfrut am Main", in: snap)
            Issue.record("a misspelt city resolved")
        } catch {
            #expect("\(error)".contains("did you mean Frankfurt am Main"), "\(error)")
        }
    }

    @Test("ranked by round trip + the site's p99 (the stated model); dead sites left out; failover costs the difference")
    func ranking() throws {
        let snap = capacityFleet()  // Berlin, Słubice, Leipzig, Madrid
        let berlin = RoutePlace(name: "Berlin", country: "DE", latitude: 52.52, longitude: 13.40)
        let advice = RouteAdvice.advise(snap, from: berlin, workload: .industrialControl)
        #expect(advice.candidates.map { $0.site } == ["ber1", "slu1", "lei1", "mad1"])
        let slu = advice.candidates[1]
        let rtt: Double = 5 + 1.35 * 2 * slu.distanceKm / 204
        #expect(abs(slu.rttMs - rtt) < 1e-9)
        let expectedTotal: Double = slu.rttMs + slu.serviceP99Ms
        #expect(slu.totalP99Ms == expectedTotal)
        #expect(slu.serviceP99Ms == 20)
        let madrid = advice.candidates[3]
        #expect(abs(madrid.distanceKm - 1_870) < 30 && madrid.tierMet[.industrialControl] == (madrid.totalP99Ms <= 50),
                "Madrid, ~1,870 km: \(madrid.totalP99Ms) ms against the 50 ms tier")
        let fromNewYork = RouteAdvice.advise(snap, from: RoutePlace(name: "New York", country: "US", latitude: 40.71, longitude: -74.0),
                                             workload: .industrialControl)
        #expect(fromNewYork.candidates.allSatisfy { $0.tierMet[.industrialControl] == false }, "an ocean away, no tier of 50 ms holds")
        #expect(advice.candidates[0].tierMet[.industrialControl] == true)
        let f = try #require(advice.failover)
        let extra: Double = slu.totalP99Ms - advice.candidates[0].totalP99Ms
        #expect(f.from.site == "ber1" && f.to.site == "slu1")
        #expect(abs(f.extraMs - extra) < 1e-9)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(advice.json().utf8)) as? [String: Any])
        let first = try #require((json["candidates"] as? [[String: Any]])?.first)
        for key in ["site", "region", "country", "distance_km", "rtt_ms", "service_p99_ms", "total_p99_ms", "tier_met", "headroom_pct", "health"] {
            #expect(first[key] != nil, "\(key)")
        }
        #expect((json["failover"] as? [String: Any])?["if_down"] as? String == "ber1")
    }

    @Test("r in a region advises for the selected site's users, over the screen; any key closes it")
    func overlay() throws {
        var s = goldenState([.enter])
        let rows = try #require(s.table()?.rows)
        let site = rows[try #require(s.selection(in: rows))].id
        s = s.handle(.char("r"))
        #expect(s.routeSite == site)
        try expectGolden("route-overlay-160x45", s, width: 160, height: 45)
        var narrow = s
        let text = Screen.render(&narrow, width: 80, height: 24).text
        #expect(text.contains("route: users at") && text.contains("TOTAL"))
        let level = s.level
        s = s.handle(.char("x"))
        #expect(s.routeSite == nil && s.level == level, "closing the advisor does not move the view")
        #expect(goldenState().handle(.char("r")).routeSite == nil, "the fleet has no site selected")
    }

    @Test("in the simulator's regional incident, a city at an affected site sees the cross-ocean detour and is routed around it")
    func incident() throws {
        let c = Collector()
        let start = pinnedFleetStart
        let sim = FleetSimulator(topology: try Topology.embedded(), collector: c, start: start)
        sim.advance(to: start + 30)
        c.drain()
        let snap = c.snapshot(at: start + 30)
        let (hit, extra) = sim.incidentSites(at: start + 30)
        #expect(extra >= 100 && !hit.isEmpty)
        // The affected site with the most requests: its p99 carries the detour.
        let site = try #require(snap.sites.filter { hit.contains($0.id) && $0.health.healthy > 0 }.max { $0.latency.count < $1.latency.count })
        #expect(site.latency.p99 > extra, "\(site.id) p99 \(site.latency.p99) ms: the detour of \(extra) ms shows")
        let place = RoutePlace(name: site.name, country: site.country, latitude: site.latitude, longitude: site.longitude)
        let advice = RouteAdvice.advise(snap, from: place)
        let own = advice.candidates.first { $0.site == site.id }
        #expect(advice.candidates.first?.site != site.id, "a nearby unaffected site wins: \(advice.candidates.prefix(3).map { $0.site })")
        if let own { #expect(own.totalP99Ms > advice.candidates[0].totalP99Ms + 50) }
    }
}
