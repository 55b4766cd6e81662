import ArgumentParser
import Dispatch
import EdgeCollector
import EdgeSources
import EdgeTerminal
import EdgeViews
import Foundation

/// `edgetop` / `edgetop top`: the interactive live view.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Interactive live view of the fleet (the default command).",
        discussion: """
        Keys: arrows or j/k move, Enter drills down (fleet, region, site, node, GPUs), Esc goes \
        back, / filters, s/S sort, space pauses, +/- refresh rate, ? help, q quits.
        Needs a terminal of at least 80x24; for pipes and scripts use `edgetop snapshot`.
        """
    )

    @OptionGroup var source: SourceOptions

    @Option(help: "Seconds between refreshes (0.25 to 10; +/- change it live).")
    var refresh: Double = 1

    @Option(help: "Key map file (see Assets/keymaps/default.keymap for the format).")
    var keymap: String?

    @Flag(help: "No colour (also when NO_COLOR is set); bold and reverse still mark state.")
    var noColor = false

    @Flag(help: "Draw with ASCII only (the default when the locale is not UTF-8).")
    var ascii = false

    @Option(help: .hidden)
    var firstFrameReport: String?

    /// Soak runs (scripts/soak.sh): every 10 s, overwrite FILE with the UI loop's longest busy
    /// stretch and the live sources' counters, as `key value` lines.
    @Option(help: .hidden)
    var loopReport: String?

    /// Seconds of fleet history simulated before the first frame: one simulator tick, so the
    /// first frame shows every node's GPUs and the fleet's latency (10k requests) within the
    /// first-frame budget; the next refreshes fill the window in.
    static let prewarmSeconds = 0.1

    func validate() throws {
        guard refresh.isFinite, refresh >= 0.25, refresh <= 10 else { throw ValidationError("--refresh must be between 0.25 and 10 seconds") }
    }

    func run() throws {
        let keyMap = try loadKeyMap()
        _ = try source.fleetConfig()  // before the screen changes: FILE:LINE: reason, exit 2
        let env = ProcessInfo.processInfo.environment
        let noColor = noColor || !(env["NO_COLOR"] ?? "").isEmpty
        // The terminal is checked before any heavy work, so a pipe fails at once.
        let terminal: CursesTerminal
        do { terminal = try CursesTerminal(noColor: noColor) } catch { throw UserError(description: "\(error)") }
        defer { terminal.close() }
        let stop = StopFlag(signals: [SIGINT, SIGTERM, SIGHUP])
        defer { stop.cancel() }

        let collector = Collector(config: source.collectorConfig())
        let recorder = try source.startRecording(collector, start: Date().timeIntervalSince1970)
        defer { recorder?.close() }
        var driver: SimulatorDriver?
        var live: LiveSources?
        let pump: SnapshotPump
        var query: PrometheusQuerySource?
        var player: ReplayPlayer?
        var load: ReplayLoad?
        if let q = try source.querySource() {
            query = q
            // Per-node series only for the level on screen; groups from aggregates.
            pump = SnapshotPump(scoped: { level in
                SourceOptions.blockingSnapshot(q, at: Date().timeIntervalSince1970, scope: QueryScope(level)).0
            })
        } else if source.hasLiveSources {
            live = try LiveSources(options: source, collector: collector)
            try live?.start()
            if source.withSim { driver = try source.runningSimulator(into: collector, history: Top.prewarmSeconds) }
            pump = SnapshotPump { collector.snapshot(at: Date().timeIntervalSince1970) }
        } else if let path = source.replay, source.speed > 0 {
            // Played at a pace: the clock is data time, and the keys pause, step and seek it.
            guard let start = ReplaySource.startTime(of: path) else {
                terminal.close()
                throw UserError(description: "\(path): no sample with a time to start from")
            }
            let config = source.collectorConfig()
            let p = ReplayPlayer(path: path, speed: source.speed, start: start) { Collector(config: config) }
            p.start()
            player = p
            pump = SnapshotPump { p.collector.snapshot(at: p.time) }
        } else if let path = source.replay {
            // Read on a thread: the first frame shows what is read so far, and it fills in.
            do { load = try ReplayLoad(options: source, collector: collector, path: path) } catch {
                terminal.close()
                throw error
            }
            pump = SnapshotPump { [load] in collector.snapshot(at: load!.time) }
        } else {
            driver = try source.runningSimulator(into: collector, history: Top.prewarmSeconds)
            pump = SnapshotPump { collector.snapshot(at: Date().timeIntervalSince1970) }
        }
        defer { driver?.stop(); live?.stop(); player?.stop() }
        pump.historyProvider = query ?? player.map { PlayerHistory(player: $0) } ?? collector
        pump.prime()

        var state = UIState(landing: .triage)
        state.keyMap = keyMap
        state.refreshSeconds = refresh
        state.ascii = ascii || !terminal.unicode
        state.status.source = source.replay != nil || source.hasLiveSources || query != nil ? source.sourceLabel : "simulator"
        if source.speed > 0 { state.status.source += " ×\(Formatting.fixed(source.speed, source.speed < 10 ? 1 : 0))" }
        let meter = CPUMeter()
        let session = InteractiveSession(terminal: terminal, state: state, pump: pump,
                                         cpu: { meter.percent() }, shouldStop: { stop.isSet })
        if let live { session.problems = { live.problems } }
        if let player {
            session.replay = player
            session.problems = { [player] in (player.problem.map { [$0] } ?? []) + (player.atEnd ? ["replay: end of the recording"] : []) }
        }
        if let query { session.problems = { query.sourceStats().lastError.map { [$0] } ?? [] } }
        if let load {
            session.problems = { load.problems }
            load.onMilestone = { [pump] in pump.request() }
        }
        if let report = firstFrameReport {
            var reported = false
            session.onFrame = { _ in
                guard !reported else { return }
                reported = true
                let ms = (ProcessClock.secondsSinceLaunch() ?? .nan) * 1000
                try? "\(Int(ms.rounded()))\n".write(toFile: report, atomically: true, encoding: .utf8)
            }
        }
        if let path = loopReport {
            var worst = 0.0, worstRecent = 0.0, iterations = 0, next = Date().timeIntervalSince1970 + 10
            session.onIteration = { [live] busyMs in
                iterations += 1
                worst = max(worst, busyMs)
                worstRecent = max(worstRecent, busyMs)
                let now = Date().timeIntervalSince1970
                guard now >= next else { return }
                next = now + 10
                var text = "time \(now)\niterations \(iterations)\nbusy_max_ms \(worst)\nbusy_max_10s_ms \(worstRecent)\n"
                for s in live?.stats ?? [] {
                    let name = s.name.map { $0.isLetter || $0.isNumber ? $0 : "_" }
                    text += "source_\(String(name))_samples \(s.samples)\nsource_\(String(name))_invalid \(s.invalid)\nsource_\(String(name))_failures \(s.failures)\n"
                }
                try? text.write(toFile: path, atomically: true, encoding: .utf8)
                worstRecent = 0
            }
        }
        session.run()
    }

    private func loadKeyMap() throws -> KeyMap {
        guard let keymap else { return .standard }
        guard let text = try? String(contentsOfFile: keymap, encoding: .utf8) else {
            throw UserError(description: "cannot read key map \(keymap)")
        }
        do { return try KeyMap(text: text) } catch { throw UserError(description: "\(keymap): \(error)") }
    }
}

/// Set when one of `signals` arrives (their default action, ending the process, is replaced),
/// read by a command's main loop so it can stop cleanly and restore what it changed.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    private var sources: [any DispatchSourceSignal] = []

    init(signals: [Int32]) {
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in self?.set() }
            s.resume()
            return s
        }
    }

    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func cancel() { sources.forEach { $0.cancel() } }
}

/// The process's own CPU use, percent of one core, between calls.
final class CPUMeter {
    private var last: (cpu: Double, wall: Double)?

    func percent() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        let wall = Date().timeIntervalSince1970
        defer { last = (cpu, wall) }
        guard let last, wall > last.wall else { return .nan }
        return (cpu - last.cpu) / (wall - last.wall) * 100
    }
}

/// Time since this process started, from /proc (Linux).
enum ProcessClock {
    static func secondsSinceLaunch() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Field 22 (starttime) is the 20th after the command name.
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard let uptimeText = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let uptime = Double(uptimeText.split(separator: " ").first ?? "") else { return nil }
        return uptime - ticks / hz
    }
}

extension ReplayPlayer: ReplayControl {
    public func perform(_ command: ReplayCommand) {
        switch command {
        case .step(let s), .seek(let s): seek(by: s)
        }
        waitUntilCaughtUp()
    }
}

/// Histories from whichever collector the replay is feeding now (a seek back starts a new one).
struct PlayerHistory: HistoryProvider {
    let player: ReplayPlayer
    func history(of entities: [HistoryEntity], span: HistorySpan, at now: Double) -> [HistoryEntity: HistorySeries] {
        player.collector.history(of: entities, span: span, at: now)
    }
}

extension QueryScope {
    /// What the query backend reads for a level of the live view.
    init(_ level: Level) {
        switch level {
        case .triage, .fleet: self = .fleet
        case .allSites: self = .allSites
        case .region(let r): self = .region(r)
        case .site(let s): self = .site(s)
        case .node(let n): self = .node(n)
        }
    }
}
