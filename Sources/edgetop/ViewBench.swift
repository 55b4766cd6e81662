import Dispatch
import EdgeCollector
import EdgeSources
import EdgeViews
import Foundation

/// Rendering figures of the interactive view, measured without a terminal.
enum ViewBench {
    static func firstFrame() throws {
        let start = 1_764_230_400.0
        // First frame, as `edgetop` does it: topology, simulator with one second of history,
        // a snapshot, a render.
        let t0 = DispatchTime.now()
        let topology = try Topology.embedded()
        let tTopology = elapsed(since: t0)
        let collector = Collector()
        let sim = FleetSimulator(topology: topology, collector: collector, start: start)
        let tRegister = elapsed(since: t0)
        sim.advance(to: start + Top.prewarmSeconds)
        collector.drain()
        let tSimulate = elapsed(since: t0)
        var first = UIState(snapshot: collector.snapshot(at: start + Top.prewarmSeconds), landing: .triage)
        let tSnapshot = elapsed(since: t0)
        _ = Screen.render(&first, width: 160, height: 45)
        line("first frame in-process (ms)", elapsed(since: t0) * 1000, nil, unit: "ms", goal: "≤150 ms")
        print("  topology \(Int(tTopology * 1000)) ms, register \(Int((tRegister - tTopology) * 1000)) ms, "
            + "simulate \(Top.prewarmSeconds)s \(Int((tSimulate - tRegister) * 1000)) ms, snapshot \(Int((tSnapshot - tSimulate) * 1000)) ms")
        launchToScreen()
    }

    /// What the operator sees: `edgetop` launched in a 160x45 tmux window until its first
    /// frame is on screen (median of 5), against launching `edgetop --version` (the process
    /// start alone). Skipped without tmux.
    static func launchToScreen() {
        guard let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("  (launch to screen: no tmux)")
            return
        }
        let exe = "/proc/\(getpid())/exe"
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: exe)) ?? CommandLine.arguments[0]
        // posix_spawn and waitpid: Foundation's Process missed the exit of tmux's client here.
        func run(_ path: String, _ args: [String]) {
            var pid: pid_t = 0
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { return }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        var frames: [Double] = [], bare: [Double] = []
        let socket = "edgetop-bench-\(getpid())"
        for k in 0..<5 {
            let report = NSTemporaryDirectory() + "edgetop-bench-ff-\(getpid())-\(k)"
            run(tmux, ["-L", socket, "new-session", "-d", "-s", "ff", "-x", "160", "-y", "45", "-e", "TERM=xterm-256color",
                       "\(binary) --first-frame-report \(report)"])
            var ms: Double?
            for _ in 0..<100 {
                if let text = try? String(contentsOfFile: report, encoding: .utf8), let v = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) { ms = v; break }
                usleep(50_000)
            }
            run(tmux, ["-L", socket, "kill-server"])
            try? FileManager.default.removeItem(atPath: report)
            if let ms { frames.append(ms) }
            let t = DispatchTime.now()
            run(binary, ["--version"])
            bare.append(elapsed(since: t) * 1000)
        }
        guard !frames.isEmpty else { print("  (launch to screen: no frame reported)"); return }
        line("first frame, launch to screen in tmux (ms) vs bare launch", frames.sorted()[frames.count / 2], bare.sorted()[bare.count / 2],
             unit: "ms", goal: "≤150 ms")
    }

    static func run(quick: Bool) throws {
        let start = 1_764_230_400.0
        let collector = Collector()
        let sim = FleetSimulator(topology: try Topology.embedded(), collector: collector, start: start)

        sim.advance(to: start + 10)
        collector.drain()
        let snap = collector.snapshot(at: start + 10)
        // The 4,400-row view: every site of the fleet, sorted worst first, drawn at 160x45.
        var state = UIState(snapshot: snap).handle(.char("a"))
        let rounds = quick ? 20 : 300
        var grid = Screen.render(&state, width: 160, height: 45)
        // A frame after a key (selection moves; the sorted table is reused)...
        var t = DispatchTime.now()
        for i in 0..<rounds {
            state = state.handle(i % 2 == 0 ? .down : .up)
            grid = Screen.render(&state, width: 160, height: 45)
        }
        let renderMs = elapsed(since: t) * 1000 / Double(rounds)
        line("render 4,400-row view at 160x45 (ms/frame)", renderMs, nil, unit: "ms", goal: "≤2 ms")
        // ...and one after a new snapshot (filter, sort 4,400 rows, format the visible ones).
        t = DispatchTime.now()
        for i in 0..<rounds {
            var fresh = snap
            fresh.id = UInt64(1_000 + i)
            state.snapshot = fresh
            grid = Screen.render(&state, width: 160, height: 45)
        }
        let resortMs = elapsed(since: t) * 1000 / Double(rounds)
        line("  same, on a new snapshot: re-sort (ms/frame)", resortMs, nil, unit: "ms", goal: "once per refresh")
        // The landing screen: triage built from a new snapshot, next to the table it replaces.
        let triageRounds = quick ? 5 : 40
        t = DispatchTime.now()
        var items = 0
        for _ in 0..<triageRounds { items = Triage.items(snap).count }
        let triageMs = elapsed(since: t) * 1000 / Double(triageRounds)
        t = DispatchTime.now()
        for _ in 0..<triageRounds { _ = FleetTables.table(snap, kind: .sites).rows.count }
        let sitesMs = elapsed(since: t) * 1000 / Double(triageRounds)
        // The world map at 160x45 with every site.
        var mapState = UIState(snapshot: snap).handle(.char("M"))
        _ = Screen.render(&mapState, width: 160, height: 45)
        t = DispatchTime.now()
        for i in 0..<rounds {
            mapState = mapState.handle(i % 2 == 0 ? .down : .up)
            grid = Screen.render(&mapState, width: 160, height: 45)
        }
        line("map of 4,400 sites at 160x45 (ms/frame)", elapsed(since: t) * 1000 / Double(rounds), nil, unit: "ms", goal: "≤2 ms")
        line("triage list of the default fleet (\(items) items) vs sorting its 4,400 sites (ms)", triageMs, sitesMs, unit: "ms",
             goal: "≤10 ms a refresh")

        // Bytes for a frame where ~5 % of the cells changed vs a full repaint.
        var changed = grid
        let cells = grid.width * grid.height
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<(cells / 20) {
            let i = Int.random(in: 0..<cells, using: &rng)
            changed.put(String(Int.random(in: 0...9, using: &rng)), x: i % grid.width, y: i / grid.width)
        }
        let diffBytes = changed.ansiUpdate(from: grid).count
        let fullBytes = changed.ansiUpdate(from: nil).count
        line("bytes: 5% of cells changed vs full repaint", Double(diffBytes), Double(fullBytes), unit: "B", goal: "∝ changed cells")
        line("  bytes per changed cell (scattered)", Double(diffBytes) / Double(changed.changedCells(since: grid).count), nil, unit: "B", goal: "")
        t = DispatchTime.now()
        for _ in 0..<rounds { _ = changed.changedCells(since: grid) }
        line("diff of two 160x45 grids (µs)", elapsed(since: t) * 1e6 / Double(rounds), nil, unit: "µs", goal: "")

        try cpu(seconds: quick ? 3 : 10)
    }

    /// CPU of the UI loop and collector at 1 Hz refresh: on the default simulator, and on a
    /// quiet source (a replayed fleet, no new samples).
    static func cpu(seconds: Double) throws {
        for quiet in [false, true] {
            let collector = Collector()
            let now = Date().timeIntervalSince1970
            var driver: SimulatorDriver?
            let sim = FleetSimulator(topology: try Topology.embedded(), collector: collector, start: now - 2)
            sim.advance(to: now)
            collector.drain()
            if !quiet {
                driver = SimulatorDriver(simulator: sim)
                driver?.start()
            }
            let snapshotTime = now
            let pump = SnapshotPump { collector.snapshot(at: quiet ? snapshotTime : Date().timeIntervalSince1970) }
            let terminal = NullTerminal(width: 160, height: 45)
            let deadline = Date().addingTimeInterval(seconds)
            let session = InteractiveSession(terminal: terminal, state: UIState(landing: .triage), pump: pump,
                                             shouldStop: { Date() > deadline })
            let before = cpuSeconds()
            let wall = DispatchTime.now()
            session.run()
            let used = cpuSeconds() - before
            driver?.stop()
            let pct = used / elapsed(since: wall) * 100
            if quiet {
                line("CPU, UI + collector, quiet source, 1 Hz (%)", pct, nil, unit: "%", goal: "≤2 %")
            } else {
                line("CPU, whole process, simulator 100k/s, 1 Hz (%)", pct, nil, unit: "%", goal: "report")
            }
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

/// A terminal that draws nowhere and never has a key: the loop's own cost, measured.
final class NullTerminal: TerminalBackend {
    let size: (width: Int, height: Int)
    private(set) var bytes = 0
    private var previous: CellGrid?
    init(width: Int, height: Int) { size = (width, height) }
    func draw(_ grid: CellGrid) {
        bytes += grid.ansiUpdate(from: previous).count
        previous = grid
    }
    func readKey(timeoutMs: Int) -> Key? {
        usleep(useconds_t(timeoutMs * 1000))
        return nil
    }
}
