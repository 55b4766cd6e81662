import ArgumentParser
import Dispatch
import EdgeCollector
import EdgeCore
import EdgeSources
import EdgeViews
import Foundation
import Histogram

/// `edgetop bench`: the speed and memory figures, each against a baseline measured in the same
/// run. Prints figures; asserts nothing (shared machines are noisy).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure histogram, ingest, snapshot, render and memory figures against baselines.",
        discussion: "Build with -c release for meaningful numbers: swift run -c release edgetop bench"
    )

    @Flag(help: "Fewer iterations (a smoke run, figures less stable).")
    var quick = false

    @Option(help: "Run one group only: memory, histogram, merge, ingest, view, sources, replay, history, scale, query.")
    var only: String?

    func validate() throws {
        if let only, !["memory", "histogram", "merge", "ingest", "view", "sources", "replay", "history", "scale", "query"].contains(only) {
            throw ValidationError("--only takes memory, histogram, merge, ingest, view, sources, replay, history, scale or query")
        }
    }

    func run() throws {
        let scale = quick ? 10 : 1
        print("edgetop bench (\(quick ? "quick" : "full") run, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        print(pad("figure", 44) + pad("ours", 14) + pad("baseline", 14) + "ratio   goal")
        // Memory first, before the benchmark arrays inflate the process.
        func wanted(_ name: String) -> Bool { only == nil || only == name }
        // First frame first, while the process is as cold as a fresh launch.
        if wanted("view") { try ViewBench.firstFrame() }
        if wanted("memory") { try memory(seconds: quick ? 12 : 70, quick: quick) }
        if wanted("histogram") { record(count: 10_000_000 / scale) }
        if wanted("merge") { merge(nodes: 4_400, rounds: 20 / min(scale, 4)) }
        if wanted("ingest") { try ingest(samples: 20_000_000 / scale) }
        if wanted("view") { try ViewBench.run(quick: quick) }
        if wanted("sources") { try SourcesBench.run(quick: quick) }
        if wanted("replay") { try ReplayBench.run(quick: quick) }
        if wanted("history") { try HistoryBench.run(quick: quick) }
        if wanted("scale") { try ScaleBench.run(quick: quick) }
        if wanted("query") && !quick { try QueryBench.run() }
    }

    // MARK: figures

    func memory(seconds: Double, quick: Bool) throws {
        let collector = Collector()
        let start = 1_764_230_400.0
        let sim = FleetSimulator(topology: try Topology.embedded(), collector: collector, start: start)
        let t0 = DispatchTime.now()
        sim.advance(to: start + seconds)
        collector.drain()
        let simulated = elapsed(since: t0)
        let t1 = DispatchTime.now()
        let snap = collector.snapshot(at: start + seconds)
        let snapshotMs = elapsed(since: t1) * 1000
        let nodes = snap.nodes.count
        let bytes = collector.stateBytes()
        line("simulator: samples/s generated+ingested", Double(sim.generated) / simulated, nil, unit: "/s", goal: "≥100k/s")
        line("snapshot of \(nodes) nodes (ms)", snapshotMs, nil, unit: "ms", goal: "")
        line("collector state per node (\(Int(seconds))s window)", Double(bytes) / Double(nodes) / 1024, nil, unit: "KiB", goal: "")
        // What the operator runs: the live view (its session loop, snapshot pump and screen)
        // with a full window, in a fresh process, next to `snapshot` of the same fleet.
        let viewSeconds = quick ? 5 : 30
        if let view = Self.probe("view", seconds: viewSeconds), let snapshot = Self.probe("snapshot", seconds: 0) {
            line("RSS, live view, full window (MB) vs snapshot", view.rss / 1e6, snapshot.rss / 1e6, unit: "MB", goal: "≤150 MB")
            line("  peak RSS of the live view over \(viewSeconds)s (MB)", view.peak / 1e6, nil, unit: "MB", goal: "≤150 MB")
        } else {
            print("  (memory probe could not run)")
        }
    }

    /// Runs `edgetop memory-probe` in a fresh process; its RSS and peak RSS in bytes.
    static func probe(_ mode: String, seconds: Int, history: String = "on", scale: Double = 1) -> (rss: Double, peak: Double)? {
        guard let v = runProbe(["--mode", mode, "--seconds", "\(seconds)", "--history", history, "--scale", "\(scale)"]),
              let rss = v["rss_bytes"], let peak = v["peak_bytes"] else { return nil }
        return (rss, peak)
    }

    /// Runs `edgetop memory-probe ARGUMENTS` in a fresh process and reads the `key value` pairs
    /// it prints; nil when it fails.
    static func runProbe(_ arguments: [String]) -> [String: Double]? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        p.arguments = ["memory-probe"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        let words = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        var values: [String: Double] = [:]
        for (key, value) in zip(words, words.dropFirst()) { if let v = Double(value) { values[String(key)] = v } }
        return values
    }

    func record(count: Int) {
        var rng = SystemRandomNumberGenerator()
        var values = [Double](repeating: 0, count: 1 << 20)
        for i in values.indices {
            let z = Double.random(in: -3...3, using: &rng)
            values[i] = 40 * exp(0.9 * z)
        }
        let micros = values.map { UInt64(max(1, $0 * 1000)) }
        let mask = values.count - 1
        var t = DispatchTime.now()
        let ours = recordLoop(values, count)
        let oursNs = elapsed(since: t) * 1e9 / Double(count)
        var hdr = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000, numberOfSignificantValueDigits: .two)
        t = DispatchTime.now()
        micros.withUnsafeBufferPointer { v in
            for i in 0..<count { _ = hdr.record(v[i & mask]) }
        }
        let hdrNs = elapsed(since: t) * 1e9 / Double(count)
        blackHole(ours.totalCount &+ hdr.totalCount)
        line("histogram record (ns/sample) vs HdrHistogram", oursNs, hdrNs, unit: "ns", goal: "≤2.5 ns, ≥2×")
        query(ours, hdr)
    }

    /// The loop under test, kept out of line so what is timed is only recording.
    @inline(never)
    func recordLoop(_ values: [Double], _ count: Int) -> NodeHistogram {
        var h = NodeHistogram()
        let mask = values.count - 1
        values.withUnsafeBufferPointer { v in
            for i in 0..<count { h.record(v[i & mask]) }
        }
        return h
    }

    func query(_ ours: borrowing NodeHistogram, _ hdr: Histogram<UInt64>) {
        let rounds = 200_000
        var sink = 0.0
        var t = DispatchTime.now()
        for _ in 0..<rounds { let s = ours.summary(); sink += s.p50 + s.p99 }
        let oursUs = elapsed(since: t) * 1e6 / Double(rounds)
        t = DispatchTime.now()
        let hdrRounds = rounds / 20
        for _ in 0..<hdrRounds { sink += Double(hdr.valueAtPercentile(50) + hdr.valueAtPercentile(99)) }
        let hdrUs = elapsed(since: t) * 1e6 / Double(hdrRounds)
        blackHole(UInt64(sink.isFinite ? 1 : 0))
        line("p50+p99 query (µs) vs HdrHistogram", oursUs, hdrUs, unit: "µs", goal: "≤2 µs")
    }

    func merge(nodes: Int, rounds: Int) {
        var rng = SystemRandomNumberGenerator()
        let ours = (0..<nodes).map { _ in HistogramBox() }
        var hdrs = [Histogram<UInt64>]()
        for i in 0..<nodes {
            var h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000, numberOfSignificantValueDigits: .two)
            let base = [8.0, 25, 60, 150][i % 4]
            for _ in 0..<600 {
                let v = base * exp(0.5 * Double.random(in: -2.5...3, using: &rng)) + 5
                ours[i].histogram.record(v)
                _ = h.record(UInt64(v * 1000))
            }
            hdrs.append(h)
        }
        var t = DispatchTime.now()
        var total: UInt64 = 0
        for _ in 0..<rounds {
            var fleet = RollupHistogram()
            for box in ours { fleet.merge(box.histogram) }
            total &+= fleet.totalCount
        }
        let oursMs = elapsed(since: t) * 1000 / Double(rounds)
        t = DispatchTime.now()
        for _ in 0..<rounds {
            var fleet = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000, numberOfSignificantValueDigits: .two)
            for h in hdrs { fleet.add(h) }
            total &+= fleet.totalCount
        }
        let hdrMs = elapsed(since: t) * 1000 / Double(rounds)
        blackHole(total)
        line("merge \(nodes) node histograms (ms) vs HdrHistogram", oursMs, hdrMs, unit: "ms", goal: "≤3 ms")
    }

    func ingest(samples: Int) throws {
        let topology = try Topology.embedded()
        let collector = Collector()
        let refs = collector.register(topology.placements())
        let byRegion = Dictionary(grouping: refs, by: \.region)
        var rng = SystemRandomNumberGenerator()
        // Prebuilt batches of 1,024 samples, one region each (as sources send them), reused.
        var batches: [[Sample]] = []
        let regions = byRegion.keys.sorted()
        for b in 0..<2_000 {
            let nodes = byRegion[regions[b % regions.count]]!
            var batch = [Sample]()
            batch.reserveCapacity(1024)
            for k in 0..<1024 {
                let ref = nodes[Int.random(in: 0..<nodes.count, using: &rng)]
                batch.append(Sample(node: ref, time: 1_764_230_400 + Double(k) * 1e-4, metric: .latencyMs,
                                    value: Double.random(in: 5...300, using: &rng)))
            }
            batches.append(batch)
        }
        let rounds = max(1, samples / (batches.count * 1024))
        var t = DispatchTime.now()
        for _ in 0..<rounds { for b in batches { collector.ingest(b) } }
        collector.drain()
        let batched = Double(rounds * batches.count * 1024) / elapsed(since: t)
        // Baseline: the same samples, one queue hop each.
        let single = min(samples / 10, 2_000_000)
        let flat = batches.joined().prefix(single)
        t = DispatchTime.now()
        for s in flat { collector.ingest([s]) }
        collector.drain()
        let perSample = Double(flat.count) / elapsed(since: t)
        line("ingest (M samples/s) batched vs per-sample hop", batched / 1e6, perSample / 1e6, unit: "M/s", goal: "≥20 M/s, ≥10×", higherIsBetter: true)
    }

    // MARK: helpers
}

/// Histograms are non-copyable; arrays hold them through a box.
final class HistogramBox { var histogram = NodeHistogram() }

func elapsed(since t: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e9
}

@inline(never) func blackHole(_ x: UInt64) { if x == 0xDEAD_BEEF_CAFE { print("") } }

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

/// One figure; the ratio says how many times better ours is than the baseline.
func line(_ name: String, _ ours: Double, _ baseline: Double?, unit: String, goal: String, higherIsBetter: Bool = false) {
    func f(_ v: Double) -> String { v >= 100 ? String(Int(v.rounded())) : Formatting.fixed(v, v >= 10 ? 1 : 3) }
    var ratio = ""
    if let baseline, ours > 0, baseline > 0 {
        let r = higherIsBetter ? ours / baseline : baseline / ours
        ratio = Formatting.fixed(r, r < 1 ? 2 : 1) + "×"
    }
    print(pad(name, 44) + pad(f(ours) + " " + unit, 14) + pad(baseline.map { f($0) + " " + unit } ?? "-", 14) + pad(ratio, 8) + goal)
}
