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
        let rules = FileManager.default.currentDirectoryPath + "/deploy/rules.yml"
        let haveRules = FileManager.default.fileExists(atPath: rules)
        try """
        global: { scrape_interval: 10s, scrape_timeout: 10s, evaluation_interval: 15s }
        \(haveRules ? "rule_files: ['\(rules)']" : "")
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
        // Until the rules have been evaluated over data (their first points lag a scrape).
        if haveRules {
            let until = Date().addingTimeInterval(40)
            while Date() < until {
                _ = SourceOptions.blockingSnapshot(source, at: Date().timeIntervalSince1970, scope: .fleet)
                if source.lastCost.rules && source.lastRefresh.series > 0 { break }
                source.forgetRules()
                Thread.sleep(forTimeInterval: 3)
            }
        }
        // What `edgetop --prometheus` does first: a new source's first refresh of triage.
        let fresh = try PrometheusQuerySource(argument: "http://127.0.0.1:\(promPort)", window: 60,
                                              config: CollectorConfig(intervalSeconds: 10, history: .off))
        let t0 = DispatchTime.now()
        _ = SourceOptions.blockingSnapshot(fresh, at: Date().timeIntervalSince1970, scope: .fleet)
        let firstMs = elapsed(since: t0) * 1000
        let (sample, _) = SourceOptions.blockingSnapshot(source, at: Date().timeIntervalSince1970, scope: .everything)
        let site = sample.sites.max { $0.nodeCount < $1.nodeCount }?.id ?? ""
        let region = sample.sites.first { $0.id == site }?.region ?? ""
        let node = sample.nodes.first { $0.site == site }?.id ?? ""
        func measure(_ scope: QueryScope, rules: Bool) -> (ms: Double, cost: QueryCost, promMs: Double) {
            source.useRecordingRules = rules
            var times: [Double] = [], promCPU: [Double] = []
            var cost = QueryCost(scope: scope)
            for _ in 0..<3 {
                let c0 = cpuSeconds(prom.processIdentifier)
                let t = DispatchTime.now()
                _ = SourceOptions.blockingSnapshot(source, at: Date().timeIntervalSince1970, scope: scope)
                times.append(elapsed(since: t))
                promCPU.append(cpuSeconds(prom.processIdentifier) - c0)
                cost = source.lastCost
            }
            times.sort(); promCPU.sort()
            return (times[1] * 1000, cost, promCPU[1] * 1000)
        }
        // The old path, every node's series at every level: the baseline of this run.
        let all = measure(.everything, rules: false)
        print("--prometheus refresh, default fleet (\(nodes) nodes), median of 3; Prometheus \(haveRules ? "with" : "without") deploy/rules.yml")
        line("  every node's series (before: all levels)", all.ms, nil, unit: "ms", goal: "")
        print("      \(all.cost.queries) queries, \(all.cost.series) series, Prometheus CPU \(Int(all.promMs.rounded())) ms")
        line("  first refresh of a new view (triage\(fresh.lastCost.rules ? ", recording rules" : ""))", firstMs, all.ms, unit: "ms", goal: "≤1000 ms")
        let scopes: [QueryScope] = [.fleet, .allSites, .region(region), .site(site), .node(node)]
        for rules in haveRules ? [false, true] : [false] {
            for scope in scopes {
                let m = measure(scope, rules: rules)
                let goal = scope == .fleet ? "≤1000 ms" : ""
                line("  \(scope.level) (\(rules && m.cost.rules ? "recording rules" : "raw aggregates"))", m.ms, all.ms, unit: "ms", goal: goal)
                print("      \(m.cost.queries) queries, \(m.cost.series) series, Prometheus CPU \(Int(m.promMs.rounded())) ms")
            }
        }
    }
}
