import Foundation

/// Replay throughput against a Python `json.loads` loop over the same file in the same run
/// (the baseline an operator would otherwise script), on two shapes of recording:
/// - sparse: 44,000 nodes on 4,400 sites, ten lines each over 440 s (the file of issue #14:
///   every node is new once in ten lines, and each second of data holds few of them);
/// - dense: the default fleet's 9,625 nodes at 100k lines/s of data, as a recording of the
///   simulator is (registration is rare, the per-line path is everything).
/// Each is read as `snapshot --replay` reads it (no history unless asked) and as the live view
/// does (history kept); each figure is the best of two or three runs, Python's too.
enum ReplayBench {
    static func run(quick: Bool) throws {
        let lines = quick ? 44_000 : 440_000
        try measure("sparse", lines: lines, nodes: 44_000, linesPerSecond: 1000)
        try measure("dense", lines: lines, nodes: 9_625, linesPerSecond: 100_000)
    }

    static func measure(_ shape: String, lines: Int, nodes: Int, linesPerSecond: Double) throws {
        let path = NSTemporaryDirectory() + "edgetop-bench-replay-\(shape)-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var text = ""
        text.reserveCapacity(lines * 150)
        var rng = SystemRandomNumberGenerator()
        let metrics = ["latency_ms", "latency_ms", "latency_ms", "gpu_util", "gpu_temp_c"]
        for i in 0..<lines {
            let node = i % nodes, site = node / 10
            let metric = metrics[i % metrics.count]
            let value = metric == "latency_ms" ? Double.random(in: 5...400, using: &rng) : Double(Int.random(in: 30...95, using: &rng))
            let gpu = metric == "latency_ms" ? "" : ", \"gpu\": \(i % 4)"
            text += "{\"t\": \(1_764_230_400 + Double(i) / linesPerSecond), \"region\": \"r\(site % 13)\", \"site\": \"s\(site)\", "
                + "\"node\": \"s\(site)-n\(node % 10)\", \"metric\": \"\(metric)\"\(gpu), \"value\": \((value * 1000).rounded() / 1000)}\n"
        }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let megabytes = Double(text.utf8.count) / 1e6
        text = ""

        // Each run in a fresh process, as `snapshot --replay` meets the file (a second replay in
        // one process finds the heap's pages already faulted in); the best of a few on each
        // side, Python's too: a shared 2-core machine swings single runs by a third.
        func best(_ runs: Int, history: String) throws -> (seconds: Double, samples: Int, errors: Int, readerCPU: Double) {
            var out: (seconds: Double, samples: Int, errors: Int, readerCPU: Double)?
            for _ in 0..<runs {
                guard let r = replayProbe(path, history: history) else { throw UserError(description: "replay probe failed on \(path)") }
                if out == nil || r.seconds < out!.seconds { out = r }
            }
            return out!
        }
        let off = try best(3, history: "off")
        let kept = try best(2, history: "on")
        let python = [pythonSeconds(path), pythonSeconds(path)].compactMap { $0 }.min()
        let label = "\(lines / 1000)k lines, \(nodes / 1000)k nodes, \(Int(linesPerSecond / 1000))k lines/s of data"
        line("replay \(shape) (\(label)), snapshot path (MB/s) vs Python json.loads", megabytes / off.seconds,
             python.map { megabytes / $0 }, unit: "MB/s", goal: "≥5×", higherIsBetter: true)
        line("  lines/s (\(off.errors) bad)", Double(off.samples) / off.seconds, python.map { Double(lines) / $0 },
             unit: "/s", goal: "", higherIsBetter: true)
        line("  the reader thread's CPU for it (s; the regions apply on the lanes)", off.readerCPU, nil, unit: "s", goal: "")
        line("  same, history kept as the live view does (MB/s) vs Python", megabytes / kept.seconds, python.map { megabytes / $0 },
             unit: "MB/s", goal: "", higherIsBetter: true)
    }

    /// One replay of `path` in a fresh `edgetop memory-probe --mode replay`: its seconds,
    /// samples, bad lines and the reader thread's CPU seconds.
    static func replayProbe(_ path: String, history: String) -> (seconds: Double, samples: Int, errors: Int, readerCPU: Double)? {
        guard let v = Bench.runProbe(["--mode", "replay", "--file", path, "--history", history]),
              let s = v["replay_seconds"], let n = v["samples"], let e = v["errors"], let cpu = v["reader_cpu_seconds"] else { return nil }
        return (s, Int(n), Int(e), cpu)
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
