import Dispatch
import EdgeCollector
import EdgeCore
import Foundation

/// Produces snapshots off the UI thread, so a slow collector shows as growing AGE, never as a
/// frozen screen: the UI asks, carries on, and picks the result up when it is ready.
public final class SnapshotPump: @unchecked Sendable {
    private let queue = DispatchQueue(label: "edgetop.snapshots")
    private let lock = NSLock()
    private let make: @Sendable (Level) -> FleetSnapshot
    private var latest: FleetSnapshot?
    private var sequence = 0
    private var inFlight = false
    /// Asked for while one was being made: make another when it is done.
    private var again = false
    /// Whether what a snapshot holds depends on the level on screen (the query backend reads
    /// per-node series only for the scope shown), and that level.
    private let scoped: Bool
    private var focusLevel: Level = .triage
    private var inFlightLevel: Level = .triage
    /// Where histories come from (nil: none), what the screen wants of them, and the last read.
    public var historyProvider: (any HistoryProvider)?
    private var wanted: (entities: [HistoryEntity], span: HistorySpan) = ([], .m15)
    private var histories: (short: [HistoryEntity: HistorySeries], chart: [HistoryEntity: HistorySeries]) = ([:], [:])

    public init(make: @escaping @Sendable () -> FleetSnapshot) {
        self.make = { _ in make() }
        scoped = false
    }

    /// A pump whose snapshots hold what the level on screen needs (`focus(_:)` says which).
    public init(scoped make: @escaping @Sendable (Level) -> FleetSnapshot) {
        self.make = make
        scoped = true
    }

    /// Says which level is on screen. Returns true when a scoped pump must read anew for it.
    @discardableResult
    public func focus(_ level: Level) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard scoped, level != focusLevel else { return false }
        focusLevel = level
        return true
    }

    /// Says which entities' histories the next snapshot should bring (what is on screen).
    /// Returns true when that changed.
    @discardableResult
    public func want(_ entities: [HistoryEntity], span: HistorySpan) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if wanted.entities == entities && wanted.span == span { return false }
        wanted = (entities, span)
        return true
    }

    /// The histories read with the newest snapshot: 15 min for everything wanted, and the
    /// chart span's when it is longer.
    public func currentHistory() -> (short: [HistoryEntity: HistorySeries], chart: [HistoryEntity: HistorySeries]) {
        lock.lock(); defer { lock.unlock() }
        return histories
    }

    private func readHistory(at time: Double) {
        lock.lock()
        let (entities, span) = wanted
        let provider = historyProvider
        lock.unlock()
        guard let provider, !entities.isEmpty else { return }
        let short = provider.history(of: entities, span: .m15, at: time)
        let chart = span == .m15 ? [:] : provider.history(of: entities, span: span, at: time)
        lock.lock(); histories = (short, chart); lock.unlock()
    }

    /// A scoped source's histories come from range queries that can take longer than the
    /// snapshot: they are read on their own queue (one at a time, newest time wins) and shown
    /// when they arrive, so a drill is never held up by the charts of the level it left.
    private let historyQueue = DispatchQueue(label: "edgetop.histories")
    private var historyInFlight = false
    private var historyTime: Double?

    private func readHistoryAside(at time: Double) {
        lock.lock()
        historyTime = time
        if historyInFlight { lock.unlock(); return }
        historyInFlight = true
        lock.unlock()
        historyQueue.async { [self] in
            while true {
                lock.lock()
                guard let t = historyTime else { historyInFlight = false; lock.unlock(); return }
                historyTime = nil
                lock.unlock()
                readHistory(at: t)
                lock.lock(); sequence += 1; lock.unlock()  // the same snapshot, with its histories
            }
        }
    }

    /// Starts a snapshot unless one is already being made.
    public func request() {
        lock.lock()
        if inFlight { again = again || inFlightLevel != focusLevel; lock.unlock(); return }
        inFlight = true
        let level = focusLevel
        inFlightLevel = level
        lock.unlock()
        queue.async { [self] in
            let s = make(level)
            if scoped { readHistoryAside(at: s.time) } else { readHistory(at: s.time) }
            lock.lock()
            latest = s
            sequence += 1
            inFlight = false
            // A drill while this one was read: read again for the new level at once.
            let next = again
            again = false
            lock.unlock()
            if next { request() }
        }
    }

    /// Says the screen let go of its previous snapshot: its pages go back to the system (see
    /// `Heap`) on the pump's queue, off the UI thread, between two snapshots being made.
    public func released() {
        queue.async { Heap.trim() }
    }

    /// The newest snapshot and its sequence number (0: none yet).
    public func current() -> (snapshot: FleetSnapshot?, sequence: Int) {
        lock.lock(); defer { lock.unlock() }
        return (latest, sequence)
    }

    /// Makes one snapshot now, on the caller's thread (the first frame).
    public func prime() {
        let s = make(lock.withLock { focusLevel })
        lock.lock(); latest = s; sequence += 1; lock.unlock()
    }
}

/// A replay the live view can pause, step and seek (`--replay F --speed X`).
public protocol ReplayControl: AnyObject {
    func setPaused(_ paused: Bool)
    func perform(_ command: ReplayCommand)
    /// Still reading towards the clock after a step or seek (the paused view keeps refreshing).
    var isCatchingUp: Bool { get }
}

/// The interactive loop: read a key, update the state, redraw what changed, refresh the data
/// on the interval. Owns no terminal or collector specifics.
public final class InteractiveSession {
    public private(set) var state: UIState
    private let terminal: any TerminalBackend
    private let pump: SnapshotPump
    private let cpu: () -> Double
    private let shouldStop: () -> Bool
    /// Problems of the live sources (a failing scrape, rejected lines), polled each second.
    public var problems: () -> [String] = { [] }
    private var shownSequence = 0
    private var lastSamples: (count: UInt64, time: Double)?
    private var lastGrid: CellGrid?
    private var autoMark = false
    private var firstTime: Double?
    /// The replay being played, when the keys may step and seek it.
    public var replay: (any ReplayControl)? {
        didSet { state.replayControls = replay != nil }
    }
    private var adoptWhilePaused = false
    /// Called after each frame is drawn (the first-frame timing uses it).
    public var onFrame: (CellGrid) -> Void = { _ in }
    /// Called after each pass of the loop with the milliseconds it worked (the wait for a key
    /// left out): how long the operator could not be answered.
    public var onIteration: ((Double) -> Void)?

    public init(terminal: any TerminalBackend, state: UIState, pump: SnapshotPump,
                cpu: @escaping () -> Double = { .nan }, shouldStop: @escaping () -> Bool = { false }) {
        self.terminal = terminal
        self.state = state
        self.pump = pump
        self.cpu = cpu
        self.shouldStop = shouldStop
    }

    /// Runs until the operator quits or `shouldStop` says so; `maxIterations` bounds tests.
    public func run(maxIterations: Int = .max) {
        var nextRefresh = 0.0
        var nextCPU = 0.0
        var dirty = true
        var iterations = 0
        while !state.quit && !shouldStop() && iterations < maxIterations {
            iterations += 1
            let now = Date().timeIntervalSince1970
            // A paused replay still refreshes while it reads towards a step or seek.
            let catchingUp = replay?.isCatchingUp == true
            if catchingUp { adoptWhilePaused = true }
            if (!state.paused || catchingUp) && now >= nextRefresh {
                pump.request()
                nextRefresh = now + state.refreshSeconds
            }
            if now >= nextCPU {
                let c = cpu()
                if c != state.status.cpuPercent { state.status.cpuPercent = c; dirty = true }
                let p = problems()
                if p != state.status.problems { state.status.problems = p; dirty = true }
                nextCPU = now + 1
            }
            let (snap, seq) = pump.current()
            if seq != shownSequence, let snap, !state.paused || adoptWhilePaused {
                adoptWhilePaused = false
                shownSequence = seq
                adopt(snap)
                let h = pump.currentHistory()
                state.history = h.short
                state.chartHistory = h.chart
                dirty = true
            }
            if dirty {
                let (w, h) = terminal.size
                let grid = Screen.render(&state, width: w, height: h)
                terminal.draw(grid)
                lastGrid = grid
                // A new screen (a drill, another span) fetches its histories at once.
                if pump.want(state.wantedHistory, span: state.chartSpan) && !state.paused { pump.request() }
                onFrame(grid)
                dirty = false
            }
            let beforeKey = Date().timeIntervalSince1970
            let key = terminal.readKey(timeoutMs: 100)
            let afterKey = Date().timeIntervalSince1970
            defer { onIteration?(((beforeKey - now) + (Date().timeIntervalSince1970 - afterKey)) * 1000) }
            if let key {
                let wasPaused = state.paused
                let markBefore = state.mark?.id
                state = state.handle(key)
                if state.mark?.id != markBefore { autoMark = false }
                // A scoped source reads the new level's nodes now, not at the next refresh.
                if pump.focus(state.level) && !state.paused { pump.request() }
                dirty = true
                if wasPaused && !state.paused { nextRefresh = 0 }  // resume shows fresh data at once
                if let replay {
                    if wasPaused != state.paused {
                        replay.setPaused(state.paused)
                        if state.paused { adoptWhilePaused = true; pump.request() }  // show the moment it stopped at
                    }
                    if let command = state.replayCommand {
                        state.replayCommand = nil
                        replay.perform(command)
                        // Show where the step or seek landed, paused or not.
                        adoptWhilePaused = true
                        pump.request()
                    }
                }
            }
        }
    }

    private func adopt(_ snap: FleetSnapshot) {
        if let last = lastSamples, snap.time > last.time {
            state.status.samplesPerSecond = Double(snap.ingest.samples &- last.count) / (snap.time - last.time)
        }
        lastSamples = (snap.ingest.samples, snap.time)
        state.status.invalid = snap.ingest.invalid
        // A history arriving re-offers the snapshot on screen: nothing is let go then.
        let replaced = state.snapshot.map { $0.id != snap.id || $0.time != snap.time } ?? false
        state.snapshot = snap
        if replaced { pump.released() }
        // "What changed" since the start: the automatic mark follows the first seconds, while
        // the window fills and every node reports for the first time, so startup is not news.
        if state.mark == nil || (autoMark && snap.time - (firstTime ?? snap.time) <= UIState.settleSeconds) {
            state.mark = snap
            autoMark = true
        }
        if firstTime == nil { firstTime = snap.time }
    }
}
