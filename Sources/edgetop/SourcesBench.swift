import Dispatch
import EdgeCollector
import EdgeSources
import EdgeViews
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Figures of the live sources: parsing real exporter pages, StatsD over loopback, and the
/// CPU of scraping 1,000 targets every second from a fake fleet in another process.
enum SourcesBench {
    static func run(quick: Bool) throws {
        try parse(quick: quick)
        try statsd(quick: quick)
        try scrape(targets: quick ? 200 : 1_000, seconds: quick ? 4 : 10)
    }

    /// The captured pages the tests use, read from the repository when run from it.
    static func fixture(_ path: String) -> String? {
        let url = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent("Tests/EdgeSourcesTests/Fixtures/prometheus-text/\(path)")
        return try? String(contentsOf: url, encoding: .utf8)
    }

    static func parse(quick: Bool) throws {
        for (label, path) in [("dcgm-exporter page", "dcgm-exporter/dcgm_t4_a10g_datadog.prom"),
                              ("vLLM page", "vllm/vllm_v0_opt-125m_datadog.prom")] {
            guard let text = fixture(path) else {
                print("  (\(label): run from the repository root to measure parsing of the captured page)")
                return
            }
            let bytes = Array(text.utf8)
            let rounds = quick ? 200 : 2_000
            var samples = 0
            var t = DispatchTime.now()
            for _ in 0..<rounds { samples &+= ExpositionParser(format: .prometheusText).parse(bytes).sampleCount }
            let parse = elapsed(since: t)
            // Baseline: only finding the lines, the least any parser must do.
            var lines = 0
            t = DispatchTime.now()
            for _ in 0..<rounds { lines &+= bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count }
            let split = elapsed(since: t)
            let mb = Double(bytes.count * rounds) / 1e6
            line("parse \(label) (MB/s) vs only splitting lines", mb / parse, mb / split, unit: "MB/s", goal: "report", higherIsBetter: true)
            line("  samples/s", Double(samples) / parse, nil, unit: "/s", goal: "")
            blackHole(UInt64(lines))
        }
    }

    /// Sends timing lines over loopback at a set rate and counts what arrived.
    static func statsd(quick: Bool) throws {
        for rate in quick ? [100_000.0] : [100_000.0, 400_000.0] {
            let collector = Collector()
            let port = UInt16(Int.random(in: 30_000...39_999))
            let receiver = StatsDReceiver(options: try StatsDOptions(argument: "127.0.0.1:\(port),node=bench"), collector: collector)
            try receiver.start()
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let linesPerDatagram = 20
            let payload = Array((0..<linesPerDatagram).map { "api.latency:\(10 + $0).5|ms" }.joined(separator: "\n").utf8)
            let seconds = quick ? 1.0 : 2.0
            let datagrams = Int(rate * seconds) / linesPerDatagram
            let start = DispatchTime.now()
            for i in 0..<datagrams {
                // Pace to the rate: sleep whenever ahead of schedule.
                let due = Double(i * linesPerDatagram) / rate
                let ahead = due - elapsed(since: start)
                if ahead > 0.001 { usleep(useconds_t(ahead * 1e6)) }
                _ = payload.withUnsafeBytes { p in
                    withUnsafePointer(to: &addr) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, p.baseAddress, p.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            }
            usleep(500_000)
            receiver.stop()
            close(fd)
            collector.drain()
            let got = receiver.sourceStats().samples
            let sent = UInt64(datagrams * linesPerDatagram)
            let lossPct = sent > 0 ? Double(sent - min(sent, got)) / Double(sent) * 100 : 0
            line("StatsD lines/s received at \(Int(rate / 1000))k/s sent", Double(got) / seconds, rate, unit: "/s",
                 goal: "loss \(Formatting.fixed(lossPct, 2))%", higherIsBetter: true)
        }
    }

    /// Scrapes `targets` endpoints once a second, served by a fake fleet in a child process,
    /// and reports this process's CPU (the scraper, parser, mapper and collector).
    static func scrape(targets: Int, seconds: Double) throws {
        let port = Int.random(in: 40_000...49_999)
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).path
        var pid: pid_t = 0
        let args: [String] = [exe, "fake-fleet", "--port", "\(port)", "--targets", "\(targets)"]
        let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, exe, nil, nil, argv, environ) == 0 else { print("  (could not start the fake fleet)"); return }
        defer { kill(pid, SIGTERM); var s: Int32 = 0; waitpid(pid, &s, 0) }
        usleep(500_000)
        let collector = Collector()
        let list = try (0..<targets).map {
            try ScrapeTarget(argument: "http://127.0.0.1:\(port)/n\($0)/metrics,region=R\($0 % 13),site=s\($0 / 4),node=n\($0),interval=1,timeout=1")
        }
        let scraper = Scraper(targets: list, collector: collector)
        let before = ViewBench.cpuSeconds()
        let t = DispatchTime.now()
        scraper.start()
        Thread.sleep(forTimeInterval: seconds)
        scraper.stop()
        let cpu = (ViewBench.cpuSeconds() - before) / elapsed(since: t) * 100
        let stats = scraper.sourceStats()
        let ok = stats.reduce(0) { $0 + $1.reads }, failed = stats.reduce(0) { $0 + $1.failures }
        line("CPU scraping \(targets) targets at 1 s (% of a core)", cpu, nil, unit: "%", goal: "report")
        line("  scrapes/s done (failed)", Double(ok) / seconds, Double(failed) / seconds, unit: "/s", goal: "")
        if failed > 0, let e = stats.first(where: { $0.failures > 0 })?.lastError { print("  first failure: \(e)") }
        try httpOnly(port: port, targets: targets, seconds: seconds)
    }

    /// The HTTP client alone on the same fake fleet and schedule (what a client library costs,
    /// without parsing): CPU and request latency.
    static func httpOnly(port: Int, targets: Int, seconds: Double) throws {
        let client = HTTPClient()
        let latencies = LatencyLog()
        let start = Date().timeIntervalSince1970
        let end = start + seconds
        let before = ViewBench.cpuSeconds()
        @Sendable func fire(_ i: Int, at time: Double) {
            let request = HTTPClientRequest(url: URL(string: "http://127.0.0.1:\(port)/n\(i)/metrics")!, timeout: 1)
            client.get(request, notBefore: time) { result in
                let done = Date().timeIntervalSince1970
                latencies.add(done - time, ok: (try? result.get())?.status == 200)
                if time + 1 < end { fire(i, at: time + 1) }
            }
        }
        for i in 0..<targets { fire(i, at: start + Double(i) / Double(targets)) }
        Thread.sleep(forTimeInterval: seconds + 0.2)
        let cpu = (ViewBench.cpuSeconds() - before) / (Date().timeIntervalSince1970 - start) * 100
        client.shutdown()
        let (sorted, failed) = latencies.result()
        line("  HTTP client alone, same schedule (% core)", cpu, nil, unit: "%", goal: "")
        if !sorted.isEmpty {
            line("  request latency p50 / p99 (ms)", sorted[sorted.count / 2] * 1000, sorted[sorted.count * 99 / 100] * 1000, unit: "ms", goal: "")
        }
        if failed > 0 { print("  \(failed) requests failed") }
    }
}

/// Request latencies from many threads.
final class LatencyLog: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Double] = []
    private var failed = 0
    func add(_ v: Double, ok: Bool) { lock.lock(); if ok { values.append(v) } else { failed += 1 }; lock.unlock() }
    func result() -> ([Double], Int) { lock.lock(); defer { lock.unlock() }; return (values.sorted(), failed) }
}
