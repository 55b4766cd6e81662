import Dispatch
import Foundation

/// Runs a `FleetSimulator` against the wall clock on its own serial queue.
public final class SimulatorDriver: @unchecked Sendable {
    private let queue = DispatchQueue(label: "edgetop.simulator")
    private let simulator: FleetSimulator
    private var timer: (any DispatchSourceTimer)?

    public init(simulator: FleetSimulator) { self.simulator = simulator }

    /// Starts ticking every `tick` seconds of wall time, catching up to the clock each time.
    public func start() {
        queue.sync {
            let t = DispatchSource.makeTimerSource(queue: queue)
            t.schedule(deadline: .now(), repeating: simulator.config.tickSeconds, leeway: .milliseconds(10))
            t.setEventHandler { [simulator] in
                let now = Date().timeIntervalSince1970
                // After a long stall (suspended laptop), skip ahead rather than replay hours.
                if now - simulator.time > 5 { simulator.skip(to: now - 1) }
                simulator.advance(to: now)
            }
            t.resume()
            timer = t
        }
    }

    public func stop() {
        queue.sync { timer?.cancel(); timer = nil }
    }

}
