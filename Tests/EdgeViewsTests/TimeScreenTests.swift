import EdgeCollector
import EdgeCore
import EdgeSources
import EdgeTestSupport
@testable import EdgeViews
import Foundation
import Testing

/// Two regions of the simulated fleet over six minutes at a pinned seed: enough history for
/// sparklines and charts, and for things to change between a mark and now.
let timeFleet: (collector: Collector, mark: FleetSnapshot, now: FleetSnapshot) = {
    let c = Collector()
    let all = try! Topology.embedded()
    let topology = Topology(regionNames: all.regionNames, sites: all.sites.filter { ["OC", "WNAM"].contains($0.region) })
    let start = pinnedFleetStart
    let sim = FleetSimulator(topology: topology, collector: c, config: SimulatorConfig(seed: 5, latencySamplesPerSecond: 3_000), start: start)
    sim.advance(to: start + 120)
    c.drain()
    let mark = c.snapshot(at: start + 120)
    sim.advance(to: start + 360)
    c.drain()
    return (c, mark, c.snapshot(at: start + 360))
}()

/// A UI state on the time fleet after `keys`, with the histories its screen asks for (as the
/// session fetches them after a frame).
func timeState(_ keys: [Key] = [], width: Int, height: Int) -> UIState {
    var s = UIState(snapshot: timeFleet.now)
    s.status = StatusInfo(source: "simulator seed 5", samplesPerSecond: 9_800, invalid: 0, cpuPercent: 2.1)
    s.mark = timeFleet.mark
    for k in keys { s = s.handle(k) }
    _ = Screen.render(&s, width: width, height: height)
    s.history = timeFleet.collector.history(of: s.wantedHistory, span: .m15, at: timeFleet.now.time)
    if s.chartSpan != .m15 { s.chartHistory = timeFleet.collector.history(of: s.wantedHistory, span: s.chartSpan, at: timeFleet.now.time) }
    return s
}

@Suite("Time: sparklines, charts, what changed")
struct TimeScreenTests {
    @Test("fleet at 160x45: sparkline columns on every row, the fleet's history below the regions")
    func fleetHistory() throws {
        try expectGolden("time-fleet-160x45", timeState(width: 160, height: 45), width: 160, height: 45)
    }

    @Test("sites with sparklines at 120 columns; none below 120")
    func sparklineWidths() throws {
        try expectGolden("time-region-120x30", timeState([.enter], width: 120, height: 30), width: 120, height: 30)
        var s = timeState([.enter], width: 119, height: 30)
        let text = Screen.render(&s, width: 119, height: 30).text
        #expect(!text.contains("p99 5m"))
    }

    @Test("site detail: its nodes, then charts of the site", arguments: [(80, 30), (160, 45)])
    func siteCharts(size: (Int, Int)) throws {
        try expectGolden("time-site-\(size.0)x\(size.1)", timeState([.enter, .enter], width: size.0, height: size.1),
                         width: size.0, height: size.1)
    }

    @Test("node detail: charts in place of the distribution; c toggles; w switches to 1 h", arguments: [(80, 24), (160, 45)])
    func nodeCharts(size: (Int, Int)) throws {
        let keys: [Key] = [.enter, .enter, .enter]
        try expectGolden("time-node-\(size.0)x\(size.1)", timeState(keys, width: size.0, height: size.1), width: size.0, height: size.1)
        var dist = timeState(keys + [.char("c")], width: size.0, height: size.1)
        #expect(Screen.render(&dist, width: size.0, height: size.1).text.contains("latency distribution"))
        if size.0 == 160 {
            try expectGolden("time-node-1h-160x45", timeState(keys + [.char("w")], width: 160, height: 45), width: 160, height: 45)
        }
    }

    @Test("what changed: state changes worst first, then GPU events and the largest moves", arguments: [(80, 24), (160, 45)])
    func changes(size: (Int, Int)) throws {
        try expectGolden("time-changes-\(size.0)x\(size.1)", timeState([.char("d")], width: size.0, height: size.1),
                         width: size.0, height: size.1)
    }

    @Test("the mark is kept trimmed, and what changed since it is the same as against the whole snapshot")
    func markKeepsWhatChangesCompares() {
        let whole = Changes.between(mark: timeFleet.mark, now: timeFleet.now)
        #expect(!whole.isEmpty)
        let kept = Changes.kept(timeFleet.mark)
        #expect(Changes.between(mark: kept, now: timeFleet.now) == whole)
        #expect(kept.nodes.allSatisfy { $0.distribution.isEmpty && $0.tierCounts.isEmpty && $0.classes.isEmpty })
        #expect(kept.nodes.map(\.health) == timeFleet.mark.nodes.map(\.health))
        var s = UIState(snapshot: timeFleet.now)
        s.mark = timeFleet.mark
        #expect(s.mark?.nodes.first?.distribution.isEmpty == true && s.mark?.id == timeFleet.mark.id)
    }

    @Test("what changed: Enter jumps to the entity with its path; Esc closes; m moves the mark")
    func changesKeys() throws {
        var s = timeState([.char("d")], width: 80, height: 24)
        let items = s.changes()
        let first = try #require(items.first)
        #expect(first.kind == .state)
        // Items are ordered worst new state first.
        let states = items.filter { $0.kind == .state }.compactMap { item -> HealthState? in
            guard case .node(let id) = item.target else { return nil }
            return timeFleet.now.nodes.first { $0.id == id }?.health
        }
        #expect(states == states.sorted(by: >) || states.isEmpty)
        s = s.handle(.down).handle(.enter)
        #expect(!s.showChanges)
        guard case .node(let id) = items[1].target else { Issue.record("second item is a node"); return }
        #expect(s.level == .node(id))
        let node = try #require(timeFleet.now.nodes.first { $0.id == id })
        #expect(s.stack == [.fleet, .region(node.region), .site(node.site), .node(id)])
        // Esc closes without moving; m makes now the mark, so nothing has changed since.
        var t = timeState([.char("d"), .escape], width: 80, height: 24)
        #expect(!t.showChanges && t.level == .fleet)
        t = t.handle(.char("m")).handle(.char("d"))
        #expect(t.changes().isEmpty)
        // Pausing marks the moment of the pause.
        let p = UIState(snapshot: timeFleet.now).handle(.char(" "))
        #expect(p.mark?.time == timeFleet.now.time)
    }

    @Test("the sparkline and chart values are the collector's history, reduced per cell")
    func sparklineValues() throws {
        let series = try #require(timeFleet.collector.history(of: [.fleet], span: .m15, at: timeFleet.now.time)[.fleet])
        let cells = Sparkline.buckets(Array(series.p99Ms.suffix(300)), cells: 10, worst: true)
        // Each cell is the worst step p99 of its 30 s.
        for c in 0..<10 {
            let slice = series.p99Ms.suffix(300)[(series.p99Ms.count - 300 + c * 30)..<(series.p99Ms.count - 300 + (c + 1) * 30)]
            #expect(cells[c] == slice.filter(\.isFinite).max())
        }
        #expect(Sparkline.buckets([1, .nan, 3, .nan], cells: 4, worst: false).map { $0.isNaN } == [false, true, false, true],
                "a step without data stays a gap")
    }
}
