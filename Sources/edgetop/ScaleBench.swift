import Dispatch
import EdgeCollector
import EdgeSources
import EdgeViews
import Foundation

/// `edgetop bench --only scale`: the same 4,400 sites with 44,000 nodes, next to the default
/// fleet measured the same way in the same run (the ratio shows whether cost grows with nodes
/// or faster).
enum ScaleBench {
    static let factor = 44_000.0 / 9_625

    struct Figures {
        var nodes = 0
        var snapshotMs = 0.0, triageMs = 0.0, sitesFrameMs = 0.0, nodeFrameMs = 0.0
        var sitesJSONMs = 0.0, sitesJSONBytes = 0, nodesJSONMs = 0.0, nodesJSONBytes = 0
    }

    static func measure(scale: Double, seconds: Double) throws -> Figures {
        var f = Figures()
        let start = 1_764_230_400.0
        let topology = scale > 1 ? try Topology.embedded().scaled(by: scale) : try Topology.embedded()
        let collector = Collector()
        let sim = FleetSimulator(topology: topology, collector: collector, start: start)
        sim.advance(to: start + seconds)
        collector.drain()
        var snap = collector.snapshot(at: start + seconds)  // warm
        // A snapshot at the same time is cached: each one a millisecond later is built anew.
        var t = DispatchTime.now()
        for i in 1...3 { snap = collector.snapshot(at: start + seconds + Double(i) / 1000) }
        f.snapshotMs = elapsed(since: t) * 1000 / 3
        f.nodes = snap.nodes.count
        t = DispatchTime.now()
        for _ in 0..<3 { _ = Triage.items(snap) }
        f.triageMs = elapsed(since: t) * 1000 / 3
        // A frame on a new snapshot (filter and sort every site) in the all-sites view, and the
        // node view of the site with the most nodes.
        var state = UIState(snapshot: snap).handle(.char("a"))
        _ = Screen.render(&state, width: 160, height: 45)
        t = DispatchTime.now()
        for i in 0..<10 {
            var fresh = snap
            fresh.id = UInt64(10_000 + i)
            state.snapshot = fresh
            _ = Screen.render(&state, width: 160, height: 45)
        }
        f.sitesFrameMs = elapsed(since: t) * 1000 / 10
        let biggest = snap.sites.max { $0.nodeCount < $1.nodeCount }?.id ?? ""
        var site = UIState(snapshot: snap)
        site.stack = [.fleet, .region(snap.sites.first { $0.id == biggest }?.region ?? ""), .site(biggest)]
        _ = Screen.render(&site, width: 160, height: 45)
        t = DispatchTime.now()
        for i in 0..<10 {
            site = site.handle(i % 2 == 0 ? .down : .up)
            _ = Screen.render(&site, width: 160, height: 45)
        }
        f.nodeFrameMs = elapsed(since: t) * 1000 / 10
        t = DispatchTime.now()
        let sites = SnapshotDocument(snapshot: snap, kind: .sites).json()
        f.sitesJSONMs = elapsed(since: t) * 1000
        f.sitesJSONBytes = sites.utf8.count
        t = DispatchTime.now()
        let nodes = SnapshotDocument(snapshot: snap, kind: .nodes).json()
        f.nodesJSONMs = elapsed(since: t) * 1000
        f.nodesJSONBytes = nodes.utf8.count
        return f
    }

    static func run(quick: Bool) throws {
        let seconds = quick ? 3.0 : 10.0
        let base = try measure(scale: 1, seconds: seconds)
        let big = try measure(scale: factor, seconds: seconds)
        let n = "\(big.nodes / 1000)k"
        print("  scale: \(big.nodes) nodes on the same sites vs the default fleet's \(base.nodes) (\(Formatting.fixed(Double(big.nodes) / Double(base.nodes), 1))× the nodes)")
        line("snapshot of \(n) nodes vs the default fleet (ms)", big.snapshotMs, base.snapshotMs, unit: "ms", goal: "≤1 s")
        line("triage list, \(n) nodes (ms)", big.triageMs, base.triageMs, unit: "ms", goal: "report")
        line("all-sites frame on a new snapshot, \(n) nodes (ms)", big.sitesFrameMs, base.sitesFrameMs, unit: "ms", goal: "≤2 ms a key")
        line("node view frame, \(n) nodes (ms)", big.nodeFrameMs, base.nodeFrameMs, unit: "ms", goal: "≤2 ms")
        line("JSON --view sites, \(n) nodes (ms)", big.sitesJSONMs, base.sitesJSONMs, unit: "ms", goal: "report")
        line("  its size (MB)", Double(big.sitesJSONBytes) / 1e6, Double(base.sitesJSONBytes) / 1e6, unit: "MB", goal: "")
        line("JSON --view nodes, \(n) nodes (ms)", big.nodesJSONMs, base.nodesJSONMs, unit: "ms", goal: "report")
        line("  its size (MB)", Double(big.nodesJSONBytes) / 1e6, Double(base.nodesJSONBytes) / 1e6, unit: "MB", goal: "")
        if let view = Bench.probe("view", seconds: quick ? 5 : 20, scale: factor), let small = Bench.probe("view", seconds: quick ? 5 : 20) {
            line("RSS, live view, \(n) nodes, full window (MB)", view.rss / 1e6, small.rss / 1e6, unit: "MB", goal: "≤600 MB")
        } else {
            print("  (memory probe could not run)")
        }
    }
}
