import EdgeCollector
import EdgeCore
import EdgeSources
import EdgeTestSupport
import Foundation
import Testing

@Suite("Replay player (--speed, pause, step, seek)", .serialized)
struct ReplayPlayerTests {
    let t0 = 1_764_230_400.0

    /// 100 s of one request per second on one node.
    func file() -> String {
        temporaryFile((0..<100).map { #"{"t": \#(t0 + Double($0) + 0.5), "region": "r", "site": "s", "node": "n", "metric": "latency_ms", "value": 10}"# }
            .joined(separator: "\n") + "\n")
    }

    func requests(_ p: ReplayPlayer) -> UInt64 {
        p.collector.drain()
        return p.collector.snapshot(at: p.time).fleet.latency.count
    }

    @Test("paused, a seek forward reads up to the new clock; back, the file is read again into a fresh collector; play moves the clock")
    func seekAndStep() throws {
        let path = file()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = CollectorConfig(windowSeconds: 3600, intervalSeconds: 10)
        let p = ReplayPlayer(path: path, speed: 1, start: t0) { Collector(config: config) }
        p.setPaused(true)
        p.start()
        p.seek(by: 30)
        p.waitUntilCaughtUp(timeout: 10)
        #expect(abs(p.time - (t0 + 30)) < 0.01)
        #expect(requests(p) == 30, "the requests before the clock, and none after")
        p.seek(by: 1)  // a step
        p.waitUntilCaughtUp(timeout: 10)
        #expect(requests(p) == 31)
        let before = p.collector
        p.seek(by: -21)
        p.waitUntilCaughtUp(timeout: 10)
        #expect(p.collector !== before, "back in time: a fresh collector")
        #expect(abs(p.time - (t0 + 10)) < 0.01)
        #expect(requests(p) == 10)
        // Past the end: the clock stops at the last sample.
        p.seek(by: 500)
        p.waitUntilCaughtUp(timeout: 10)
        #expect(p.atEnd && p.time == t0 + 99.5)
        #expect(requests(p) == 100, "every request, the last at the clock itself")
        p.seek(by: -99.5)
        p.waitUntilCaughtUp(timeout: 10)
        p.setPaused(false)
        usleep(1_500_000)
        #expect(p.time > t0 + 0.5 && p.time < t0 + 10, "playing at 1× moves the clock in real time")
        p.stop()
    }
}
