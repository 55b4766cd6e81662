import Dispatch
import EdgeCollector
import EdgeSources
import Foundation

/// The query backend against a real Prometheus (Debian's, when installed) holding the default
/// fleet from one `edgetop serve` at a 10 s scrape: time to a first snapshot through
/// `--prometheus`, the queries and series one refresh reads, and Prometheus' own CPU for it.
/// Skipped without a `prometheus` binary; the full run only (it takes about a minute).
enum QueryBench {
    static func run() throws {
        guard let prometheus = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first(where: FileManager.default.isExecutableFile) else {
            print("query backend vs a real Prometheus: skipped (no prometheus binary)")
            return
        }
        let servePort = 19_870 + Int(getpid() % 50) * 2, promPort = servePort + 1
        let dir = NSTemporaryDirectory() + "edgetop-bench-prom-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        global: { scrape_interval: 10s, scrape_timeout: 10s }
        scrape_configs:
          - job_name: edgetop
            honor_labels: true
            static_configs: [{ targets: ['127.0.0.1:\(servePort)'] }]
        """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        func start(_ path: String, _ args: [String]) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: path)
            p.arguments = args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        let serve = try start("/proc/self/exe", ["serve", "--listen", "127.0.0.1:\(servePort)", "--collector", "bench"])
        let prom = try start(prometheus, ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                          "--web.listen-address=127.0.0.1:\(promPort)", "--log.level=error"])
        defer { serve.terminate(); prom.terminate(); serve.waitUntilExit(); prom.waitUntilExit() }
        let source = try PrometheusQuerySource(argument: "http://127.0.0.1:\(promPort)", window: 60,
                                               config: CollectorConfig(intervalSeconds: 10, history: .off))
        // Until two scrapes of the whole fleet are in (increase() needs two points).
        let deadline = Date().addingTimeInterval(90)
        var nodes = 0
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 2)
            let (snap, _) = SourceOptions.blockingSnapshot(source, at: Date().timeIntervalSince1970)
            nodes = snap.nodes.count
            if nodes >= 9_000 && snap.fleet.latency.count > 0 { break }
        }
        guard nodes >= 9_000 else {
            print("query backend vs a real Prometheus: skipped (Prometheus held \(nodes) nodes after 90 s)")
            return
        }
        func cpuSeconds(_ pid: Int32) -> Double {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return .nan }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return .nan }
            return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        var times: [Double] = [], promCPU: [Double] = []
        for _ in 0..<5 {
            let c0 = cpuSeconds(prom.processIdentifier)
            let t = DispatchTime.now()
            _ = SourceOptions.blockingSnapshot(source, at: Date().timeIntervalSince1970)
            times.append(elapsed(since: t))
            promCPU.append(cpuSeconds(prom.processIdentifier) - c0)
        }
        times.sort(); promCPU.sort()
        let cost = source.lastRefresh
        line("--prometheus refresh, default fleet (\(nodes) nodes), median of 5", times[2] * 1000, nil, unit: "ms", goal: "≤1000 ms")
        line("  queries per refresh (the same at every level)", Double(cost.queries), nil, unit: "", goal: "")
        line("  series read per refresh", Double(cost.series), nil, unit: "", goal: "")
        line("  Prometheus CPU per refresh, median", promCPU[2] * 1000, nil, unit: "ms", goal: "")
    }
}
