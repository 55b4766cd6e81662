import Dispatch
import EdgeCollector
import EdgeCore
import EdgeSources
import EdgeViews
import Foundation

/// `edgetop bench --only history`: what the history rings cost in memory, in ingest and in a
/// snapshot that carries them.
enum HistoryBench {
    static func run(quick: Bool) throws {
        let topology = try Topology.embedded()
        let start = 1_764_230_400.0
        let seconds = quick ? 8.0 : 30.0
        // Ingest with and without history: the step walk is the difference.
        func simulate(_ history: HistoryConfig) -> (Collector, Double) {
            let c = Collector(config: CollectorConfig(history: history))
            let sim = FleetSimulator(topology: topology, collector: c, start: start)
            let t = DispatchTime.now()
            sim.advance(to: start + seconds)
            c.drain()
            _ = c.snapshot(at: start + seconds)
            return (c, Double(sim.generated) / elapsed(since: t))
        }
        let (off, offRate) = simulate(.off)
        let (on, onRate) = simulate(.standard)
        line("simulate+ingest+steps, history on vs off (/s)", onRate, offRate, unit: "/s", goal: "≥0.8×", higherIsBetter: true)
        // The step walk alone, warm: each read closes one more (quiet) step in every region.
        var t = DispatchTime.now()
        let walks = 20
        for k in 1...walks { _ = on.history(of: [.fleet], span: .m15, at: start + seconds + Double(k)) }
        let walkMs = elapsed(since: t) * 1000 / Double(walks)
        t = DispatchTime.now()
        for k in 1...walks { _ = off.history(of: [.fleet], span: .m15, at: start + seconds + Double(k)) }
        blackHole(UInt64(elapsed(since: t)))
        line("step walk, default fleet, every region (ms/step)", walkMs, nil, unit: "ms", goal: "≤20 ms")
        let snap = on.snapshot(at: start + seconds + Double(walks))
        func fleetBytes(_ c: HistoryConfig) -> Double {
            Double(snap.nodes.count * c.bytesPerNode + snap.sites.count * c.bytesPerSite + (snap.regions.count + 1) * c.bytesPerGroup)
        }
        line("history rings per node, standard vs full (B)", Double(HistoryConfig.standard.bytesPerNode), Double(HistoryConfig.full.bytesPerNode), unit: "B", goal: "")
        line("history rings, default fleet, standard vs full (MB)", fleetBytes(.standard) / 1e6, fleetBytes(.full) / 1e6, unit: "MB", goal: "≤60 MB")
        line("state per node with history vs without (KiB)", Double(on.stateBytes()) / Double(snap.nodes.count) / 1024,
             Double(off.stateBytes()) / Double(snap.nodes.count) / 1024, unit: "KiB", goal: "")
        // Snapshots that carry history.
        func time(_ body: () -> Int) -> (ms: Double, bytes: Int) {
            let t = DispatchTime.now()
            let n = body()
            return (elapsed(since: t) * 1000, n)
        }
        let now = start + seconds + Double(walks)
        let plain = time { SnapshotDocument(snapshot: snap, kind: .regions).json().utf8.count }
        var doc = SnapshotDocument(snapshot: snap, kind: .regions)
        doc.history = (on, .m15)
        let regions = time { doc.json().utf8.count }
        line("JSON regions view, --history 15m vs none (ms)", regions.ms, plain.ms, unit: "ms", goal: "")
        var sites = SnapshotDocument(snapshot: snap, kind: .sites)
        sites.history = (on, .m15)
        let siteJSON = time { sites.json().utf8.count }
        line("JSON sites view, --history 15m (ms; MB)", siteJSON.ms, Double(siteJSON.bytes) / 1e6, unit: "ms", goal: "")
        let ids = snap.nodes.prefix(45).map { HistoryEntity.node($0.id) }
        let frame = time { on.history(of: ids + [.fleet], span: .m15, at: now).count }
        line("history read for a 160x45 screen (ms)", frame.ms, nil, unit: "ms", goal: "≤5 ms")
        blackHole(UInt64(off.stateBytes()))
        // Memory as the operator runs it: the live view, rings empty (a fresh start) and full
        // (every slot written, as after 24 h), next to history off.
        let viewSeconds = quick ? 5 : 20
        if let filled = Bench.probe("view", seconds: viewSeconds, history: "filled"),
           let none = Bench.probe("view", seconds: viewSeconds, history: "off") {
            line("RSS, live view, standard history filled vs off (MB)", filled.rss / 1e6, none.rss / 1e6, unit: "MB", goal: "≤+60 MB")
        } else {
            print("  (memory probe could not run)")
        }
    }
}
