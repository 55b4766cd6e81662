import ArgumentParser
import Dispatch
import EdgeCollector
import EdgeSources
import EdgeViews
import Foundation

/// `edgetop memory-probe`: one figure in a fresh process, so `edgetop bench` can compare what
/// the operator runs (the live view) with `snapshot` without one run inflating the other, and
/// time a replay as `snapshot --replay` meets it (a cold heap: a second replay in the same
/// process reuses the pages the first one faulted in, and ran 1.5× faster).
struct MemoryProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory-probe", abstract: "Print the RSS of the live view or of a snapshot, or time a replay (for edgetop bench).",
        shouldDisplay: false)

    @Option(help: "view, snapshot or replay") var mode = "view"
    @Option(help: "The file --mode replay reads.") var file = ""
    @Option(help: "Wall-clock seconds the view runs after its window is full.") var seconds: Double = 20
    @Option(help: "Nodes per site, times the default fleet's.") var scale: Double = 1
    @Option(help: "History: on (standard depth; rings fill as time passes), off, full (full depth), or filled (standard, every slot written as after 24 h).") var history = "on"

    func run() throws {
        let depth: HistoryConfig = history == "off" ? .off : history == "full" ? .full : .standard
        if mode == "replay" {
            // As `edgetop bench` has always read its replay files: a 10 s interval.
            let collector = Collector(config: CollectorConfig(intervalSeconds: 10, history: depth))
            var source = ReplaySource(collector: collector)
            func threadCPU() -> Double {
                var cpu = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu)
                return Double(cpu.tv_sec) + Double(cpu.tv_nsec) / 1e9
            }
            let cpu0 = threadCPU(), t = DispatchTime.now()
            let outcome = try source.replay(path: file)
            // The reader's own CPU beside the wall time: the regions apply on other threads.
            print("replay_seconds \(elapsed(since: t)) samples \(outcome.samples) errors \(outcome.errorCount) reader_cpu_seconds \(threadCPU() - cpu0)")
            return
        }
        let collector = Collector(config: CollectorConfig(history: depth))
        let window = collector.config.windowSeconds
        let now = Date().timeIntervalSince1970
        // A full window of fleet time, simulated as fast as the machine allows.
        let verbose = ProcessInfo.processInfo.environment["EDGETOP_PROBE_VERBOSE"] != nil
        func stage(_ name: String) { if verbose { print("  \(name): rss \(Memory.residentBytes() / 1_000_000) MB, heap in use \(Memory.heapInUseBytes() / 1_000_000) MB") } }
        stage("start")
        let topology = scale > 1 ? try Topology.embedded().scaled(by: scale) : try Topology.embedded()
        stage("topology")
        let sim = FleetSimulator(topology: topology, collector: collector, start: now - window)
        stage("registered")
        sim.advance(to: now - window + 1)
        collector.drain()
        stage("1s simulated")
        sim.advance(to: now)
        collector.drain()
        stage("window simulated (state \(collector.stateBytes() / 1_000_000) MB)")
        if history == "filled" {
            collector.fillHistoryRings()
            stage("history rings filled")
        }
        if mode == "snapshot" {
            let snap = collector.snapshot(at: now)
            stage("snapshot")
            _ = SnapshotDocument(snapshot: snap, kind: .regions).text(width: 160)
            print("rss_bytes \(Memory.residentBytes()) peak_bytes \(Memory.peakBytes())")
            return
        }
        // The live view: the simulator on the wall clock, the real session loop and snapshot
        // pump, a terminal that keeps the grid in memory.
        let driver = SimulatorDriver(simulator: sim)
        driver.start()
        defer { driver.stop() }
        let pump = SnapshotPump { collector.snapshot(at: Date().timeIntervalSince1970) }
        pump.historyProvider = collector
        pump.prime()
        let terminal = MemoryTerminal(width: 160, height: 45, until: Date().timeIntervalSince1970 + seconds)
        let session = InteractiveSession(terminal: terminal, state: UIState(landing: .triage), pump: pump)
        session.run()
        stage("live view after \(Int(seconds)) s")
        print("rss_bytes \(Memory.residentBytes()) peak_bytes \(Memory.peakBytes()) frames \(terminal.frames)")
    }
}

/// A terminal that keeps the last grid and presses `q` when its time is up.
final class MemoryTerminal: TerminalBackend {
    let size: (width: Int, height: Int)
    let until: Double
    var frames = 0
    private var last: CellGrid?

    init(width: Int, height: Int, until: Double) {
        size = (width, height)
        self.until = until
    }

    func draw(_ grid: CellGrid) { last = grid; frames += 1 }

    func readKey(timeoutMs: Int) -> Key? {
        if Date().timeIntervalSince1970 >= until { return .char("q") }
        usleep(UInt32(timeoutMs) * 1000)
        return nil
    }
}
