import EdgeCollector
import EdgeCore
import EdgeSources
import EdgeTestSupport
import EdgeViews
import Foundation
import Testing

/// The simulated fleet at a pinned seed and time: every golden screen is drawn from it.
let goldenFleet: FleetSnapshot = {
    let c = Collector()
    let start = pinnedFleetStart
    let sim = FleetSimulator(topology: try! Topology.embedded(), collector: c,
                             config: SimulatorConfig(seed: 3, latencySamplesPerSecond: 20_000), start: start)
    sim.advance(to: start + 6)
    c.drain()
    return c.snapshot(at: start + 6)
}()

func goldenState(_ keys: [Key] = []) -> UIState {
    var s = UIState(snapshot: goldenFleet)
    s.status = StatusInfo(source: "simulator seed 3", samplesPerSecond: 221_500, invalid: 0, cpuPercent: 3.2)
    for k in keys { s = s.handle(k) }
    return s
}

/// Compares a rendered screen with `Golden/NAME.txt`; EDGETOP_RECORD=1 rewrites the file.
func expectGolden(_ name: String, _ state: UIState, width: Int, height: Int,
                  sourceLocation: SourceLocation = #_sourceLocation) throws {
    var s = state
    let text = Screen.render(&s, width: width, height: height).text
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name).txt")
    if ProcessInfo.processInfo.environment["EDGETOP_RECORD"] == "1" {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    if text != expected {
        let got = text.split(separator: "\n", omittingEmptySubsequences: false)
        let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let firstDiff = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, want.count)
        Issue.record("\(name) differs from its golden file at line \(firstDiff + 1):\n got: \(firstDiff < got.count ? got[firstDiff] : "<none>")\nwant: \(firstDiff < want.count ? want[firstDiff] : "<none>")\n(EDGETOP_RECORD=1 re-records; review the diff)", sourceLocation: sourceLocation)
    }
}

@Suite("Golden screens")
struct GoldenScreenTests {
    static let sizes = [(80, 24), (160, 45)]

    @Test("fleet: regions worst first", arguments: sizes)
    func fleet(size: (Int, Int)) throws {
        try expectGolden("fleet-\(size.0)x\(size.1)", goldenState(), width: size.0, height: size.1)
    }

    @Test("triage of the simulated fleet: the incident's fast burns first, then dead sites", arguments: sizes)
    func triage(size: (Int, Int)) throws {
        var s = goldenState()
        s.stack = [.triage]
        try expectGolden("triage-sim-\(size.0)x\(size.1)", s, width: size.0, height: size.1)
    }

    @Test("region: its sites", arguments: sizes)
    func region(size: (Int, Int)) throws {
        try expectGolden("region-\(size.0)x\(size.1)", goldenState([.enter]), width: size.0, height: size.1)
    }

    @Test("site: its nodes", arguments: sizes)
    func site(size: (Int, Int)) throws {
        try expectGolden("site-\(size.0)x\(size.1)", goldenState([.enter, .enter]), width: size.0, height: size.1)
    }

    @Test("node: its GPUs and latency distribution", arguments: sizes)
    func node(size: (Int, Int)) throws {
        try expectGolden("node-\(size.0)x\(size.1)", goldenState([.enter, .enter, .enter]), width: size.0, height: size.1)
    }

    @Test("all sites, fleet-wide, worst first", arguments: sizes)
    func allSites(size: (Int, Int)) throws {
        try expectGolden("all-sites-\(size.0)x\(size.1)", goldenState([.char("a")]), width: size.0, height: size.1)
    }

    @Test("help overlay", arguments: sizes)
    func help(size: (Int, Int)) throws {
        try expectGolden("help-\(size.0)x\(size.1)", goldenState([.char("?")]), width: size.0, height: size.1)
    }

    @Test("filter being typed, and applied")
    func filter() throws {
        try expectGolden("filter-typing-80x24", goldenState([.enter, .char("/"), .char("k"), .char("a")]), width: 80, height: 24)
        try expectGolden("filter-applied-80x24", goldenState([.enter, .char("/"), .char("k"), .char("a"), .enter]), width: 80, height: 24)
    }

    @Test("Esc after an applied filter shows the unfiltered screen; ? twice shows no help")
    func escapeAndHelpToggle() throws {
        try expectGolden("region-80x24", goldenState([.enter, .char("/"), .char("k"), .char("a"), .enter, .escape]), width: 80, height: 24)
        try expectGolden("fleet-80x24", goldenState([.char("?"), .char("?")]), width: 80, height: 24)
    }

    @Test("node with two sources of the same requests: the exact one counts, the other is shown")
    func nodeTwoSources() throws {
        let c = Collector()
        let statsd = c.registerSource(SourceInfo(name: "statsd 127.0.0.1:8125", kind: .statsd))
        let scrape = c.registerSource(SourceInfo(name: "http://127.0.0.1:8000/metrics", kind: .scrape))
        let ref = c.register(NodePlacement(regionID: "WEU", siteID: "fra1", nodeID: "fra1-n01", tierMs: 500))
        let t0 = 1_764_230_400.0
        var batch: [Sample] = []
        for k in 0..<400 {
            let v = 150 + Double(k % 40) * 9
            batch.append(Sample(node: ref, time: t0 + Double(k) * 0.02, metric: .latencyMs, value: v, source: statsd))
            batch.append(Sample(node: ref, time: t0 + Double(k) * 0.02, metric: .latencyBucketMs, value: v <= 300 ? 300 : 500, source: scrape))
            if k % 100 == 0 { batch.append(Sample(node: ref, time: t0 + Double(k) * 0.02, metric: .gpuUtil, value: 71, gpu: 0, source: scrape)) }
        }
        c.ingest(batch)
        var s = UIState(snapshot: c.snapshot(at: t0 + 8))
        s.status = StatusInfo(source: "2 live sources", samplesPerSecond: 100, invalid: 0, cpuPercent: 1)
        for k: Key in [.enter, .enter, .enter] { s = s.handle(k) }
        try expectGolden("node-two-sources-80x24", s, width: 80, height: 24)
    }

    @Test("paused and sorted by p99, reversed")
    func pausedSorted() throws {
        try expectGolden("paused-sorted-80x24", goldenState([.char(" "), .char("s"), .char("S")]), width: 80, height: 24)
    }

    @Test("too small a terminal says so", arguments: [(79, 24), (80, 23), (20, 5)])
    func tooSmall(size: (Int, Int)) throws {
        try expectGolden("too-small-\(size.0)x\(size.1)", goldenState(), width: size.0, height: size.1)
    }

    @Test("ASCII fallback draws no non-ASCII box or bar characters")
    func ascii() {
        var s = goldenState([.char("?")])
        s.ascii = true
        let text = Screen.render(&s, width: 160, height: 45).text
        let box = Set("┌┐└┘│─█▏▎▍▌▋▊▉▼▲›".unicodeScalars)
        #expect(!text.unicodeScalars.contains { box.contains($0) })
    }
}
