import Dispatch
import EdgeCollector
import EdgeSources
import Foundation

/// Replay throughput: a JSON Lines recording of 44,000 nodes on 4,400 sites, read by
/// `ReplaySource` into a collector, against a Python `json.loads` loop over the same file in
/// the same run (the baseline an operator would otherwise script).
enum ReplayBench {
    static func run(quick: Bool) throws {
        let lines = quick ? 44_000 : 440_000
        let path = NSTemporaryDirectory() + "edgetop-bench-replay-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var text = ""
        text.reserveCapacity(lines * 150)
        var rng = SystemRandomNumberGenerator()
        let metrics = ["latency_ms", "latency_ms", "latency_ms", "gpu_util", "gpu_temp_c"]
        for i in 0..<lines {
            let node = i % 44_000, site = node / 10
            let metric = metrics[i % metrics.count]
            let value = metric == "latency_ms" ? Double.random(in: 5...400, using: &rng) : Double(Int.random(in: 30...95, using: &rng))
            let gpu = metric == "latency_ms" ? "" : ", \"gpu\": \(i % 4)"
            text += "{\"t\": \(1_764_230_400 + Double(i) / 1000), \"region\": \"r\(site % 13)\", \"site\": \"s\(site)\", "
                + "\"node\": \"s\(site)-n\(node % 10)\", \"metric\": \"\(metric)\"\(gpu), \"value\": \((value * 1000).rounded() / 1000)}\n"
        }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let megabytes = Double(text.utf8.count) / 1e6

        let collector = Collector(config: CollectorConfig(intervalSeconds: 10))
        var source = ReplaySource(collector: collector)
        let t = DispatchTime.now()
        let outcome = try source.replay(path: path)
        let seconds = elapsed(since: t)
        let python = pythonSeconds(path)
        line("replay \(lines / 1000)k lines, 44k nodes (MB/s) vs Python json.loads", megabytes / seconds,
             python.map { megabytes / $0 }, unit: "MB/s", goal: "≥5×", higherIsBetter: true)
        line("  lines/s (\(outcome.errorCount) bad)", Double(outcome.samples) / seconds, python.map { Double(lines) / $0 }, unit: "/s", goal: "", higherIsBetter: true)
        // The same file with --history-depth off: what the per-second history walk costs on a
        // sparse file (440 s of data, each node reporting once in 44 s: 440 walks of 44k nodes).
        var quiet = ReplaySource(collector: Collector(config: CollectorConfig(intervalSeconds: 10, history: .off)))
        let t2 = DispatchTime.now()
        _ = try quiet.replay(path: path)
        line("  same, history off (MB/s) vs history standard", megabytes / elapsed(since: t2), megabytes / seconds,
             unit: "MB/s", goal: "", higherIsBetter: true)
    }

    /// Seconds a Python loop of `json.loads` takes over the file (nil without python3).
    static func pythonSeconds(_ path: String) -> Double? {
        let script = """
        import json, sys, time
        t = time.perf_counter()
        with open(sys.argv[1], 'rb') as f:
            for line in f:
                json.loads(line)
        print(time.perf_counter() - t)
        """
        for python in ["/usr/bin/python3", "/usr/local/bin/python3", "/root/.pyenv/shims/python3"] where FileManager.default.isExecutableFile(atPath: python) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = ["-c", script, path]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { continue }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            if p.terminationStatus == 0, let s = Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) { return s }
        }
        return nil
    }
}
