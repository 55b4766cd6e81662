import EdgeCollector
import EdgeCore
import Foundation

/// Plays a recording into a collector at `speed` × real time on its own thread, with pause,
/// step and seek, so an incident can be walked through in the live view. The replay clock is
/// data time: snapshots are taken at `clock`, so the screen shows the fleet as it was then.
/// Seeking back replays the file from its start into a fresh collector (as fast as it reads),
/// then carries on at speed; `collector` changes then, and views read it anew each frame.
public final class ReplayPlayer: @unchecked Sendable {
    public let path: String
    public let speed: Double
    private let makeCollector: @Sendable () -> Collector
    private let lock = NSLock()
    private var _collector: Collector
    // The clock: data time `base` at wall time `wallBase`, advancing at `speed` unless paused.
    private var base: Double
    private var wallBase: Double
    private var paused = false
    /// Data time of the newest sample read (the clock stops there at the end of the file).
    private var newest = -Double.infinity
    private var finished = false
    /// The reader is waiting for the clock: everything before it is in the collector.
    private var waiting = false
    private var generation = 0
    private var thread: Thread?
    /// First and last sample times, once known (the first when the file starts playing).
    public private(set) var firstTime: Double?
    /// Bad lines met (the first is kept for the status bar).
    public private(set) var problem: String?

    /// `start`: where the clock begins (the recording's first sample time).
    public init(path: String, speed: Double, start: Double, makeCollector: @escaping @Sendable () -> Collector) {
        self.path = path
        self.speed = speed
        self.makeCollector = makeCollector
        _collector = makeCollector()
        base = start
        wallBase = Date().timeIntervalSince1970
        firstTime = start
    }

    /// The collector the replay is feeding now.
    public var collector: Collector { lock.withLock { _collector } }

    /// The replay clock (data time): where the fleet is shown.
    public var clock: Double {
        lock.withLock { clockLocked() }
    }

    private func clockLocked() -> Double {
        let t = paused ? base : base + (Date().timeIntervalSince1970 - wallBase) * speed
        return finished ? min(t, newest) : t
    }

    /// Where the screen shows the fleet: the clock, or, while the reader is still getting
    /// there (a seek, a slow disk), how far it has read — never ahead of the data.
    public var time: Double {
        lock.withLock { min(clockLocked(), finished ? newest : position) }
    }
    /// Everything before this data time has been handed to the collector.
    private var position = -Double.infinity

    /// Whether the whole file has been read (the clock stops at its last sample).
    public var atEnd: Bool { lock.withLock { finished } }

    public func start() { play(from: nil) }

    public func stop() {
        lock.withLock { generation += 1 }
        while thread?.isFinished == false { usleep(1_000) }
    }

    public func setPaused(_ p: Bool) {
        lock.withLock {
            guard p != paused else { return }
            base = clockLocked()
            wallBase = Date().timeIntervalSince1970
            paused = p
        }
    }

    /// Moves the clock by `seconds` of data time (pausing to step is the caller's choice).
    /// Back in time, the file is read again from its start into a fresh collector.
    public func seek(by seconds: Double) {
        let target = lock.withLock { () -> Double in
            let t = max(firstTime ?? -Double.infinity, clockLocked() + seconds)
            base = t
            wallBase = Date().timeIntervalSince1970
            waiting = false
            return t
        }
        if seconds < 0 { play(from: target) }
    }

    /// Reading towards the clock (after a seek, or while the clock runs ahead of the file).
    public var isCatchingUp: Bool { lock.withLock { !(waiting || finished) } }

    /// Waits (up to `timeout` seconds) until everything up to the clock has been read and
    /// handed to the collector: after a step or seek, the next snapshot shows where it landed.
    public func waitUntilCaughtUp(timeout: Double = 0.3) {
        let deadline = Date().timeIntervalSince1970 + timeout
        while Date().timeIntervalSince1970 < deadline {
            if lock.withLock({ waiting || finished }) { return }
            usleep(2_000)
        }
    }

    private func play(from rewindTarget: Double?) {
        let gen: Int = lock.withLock {
            generation += 1
            if rewindTarget != nil { _collector = makeCollector(); finished = false; newest = -.infinity; position = -.infinity }
            return generation
        }
        while let t = thread, !t.isFinished, t !== Thread.current { usleep(1_000) }
        let t = Thread { [self] in run(generation: gen) }
        t.name = "edgetop.replay"
        thread = t
        t.start()
    }

    private func run(generation gen: Int) {
        let target = collector
        var source = ReplaySource(collector: target)
        source.onError = { [self] e in lock.withLock { if problem == nil { problem = "\(path): \(e)" } } }
        source.pace = { [self] t in
            while true {
                let (clock, current) = lock.withLock { () -> (Double, Bool) in
                    if generation == gen { position = max(position, t) }
                    return (clockLocked(), generation == gen)
                }
                guard current else { return nil }
                if t <= clock { lock.withLock { waiting = false }; return clock }
                lock.withLock { waiting = true }
                usleep(UInt32(min(50_000, max(2_000, (t - clock) / max(speed, 1e-3) * 1e6))))
            }
        }
        let outcome = try? source.replay(path: path)
        lock.withLock {
            guard generation == gen else { return }
            if let o = outcome { newest = max(newest, o.lastTime) }
            finished = true
        }
    }
}

