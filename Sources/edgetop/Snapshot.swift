import ArgumentParser
import EdgeCollector
import EdgeSources
import EdgeViews
import Foundation

extension RowKind: ExpressibleByArgument {}
extension SortKey: ExpressibleByArgument {}
extension HistorySpan: ExpressibleByArgument {}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json, csv, prometheus, map }

/// `edgetop snapshot`: collect, print one view, exit. For scripts and CI.
struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the fleet once as a table, JSON, CSV or Prometheus text, then exit.",
        discussion: """
        On the simulator, --duration seconds of fleet time are simulated as fast as the machine \
        allows, so the output is immediate and reproducible for a given --seed and --start. With \
        live sources (--scrape), --duration is wall-clock time spent collecting.
        Exit status: 0 ok, 1 a --check failed, 2 usage or input error.
        """
    )

    @OptionGroup var source: SourceOptions

    @Option(help: "Output format: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: OutputFormat = .table

    @Option(help: "What to list: \(RowKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var view: RowKind = .regions

    @Option(help: "Only this region (id, e.g. WEU).")
    var region: String?

    @Option(help: "Only this site (id, e.g. fra1).")
    var site: String?

    @Option(help: "Only this node (id, e.g. fra1-n01).")
    var node: String?

    @Option(help: "Sort key: \(SortKey.allCases.map(\.rawValue).joined(separator: ", ")) (health = worst first).")
    var sort: SortKey = .health

    @Flag(help: "Reverse the sort order.")
    var reverse = false

    @Option(help: "Print at most N rows.")
    var limit: Int?

    @Option(help: "Seconds to collect before printing (simulated time for the simulator).")
    var duration: Double = 15

    @Option(help: "Table width in columns (default: the terminal's, or 80 in a pipe).")
    var width: Int?

    @Option(help: "Add each entity's history to the JSON: 15m (1 s steps), 1h or 24h (1 min steps).")
    var history: HistorySpan?

    @Option(name: .customLong("check"), help: "Fail (exit 1) unless this holds, e.g. 'p99<500ms', 'down==0', 'stale<=5'. Repeatable.")
    var checks: [String] = []

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard duration.isFinite, duration >= 0, duration <= 86_400 else { throw ValidationError("--duration must be between 0 and 86400 seconds") }
        if let width, width < 40 || width > 1000 { throw ValidationError("--width must be between 40 and 1000") }
        if source.withSim { throw ValidationError("--with-sim runs the simulator beside live sources in the live view and serve, not in snapshot") }
    }

    func run() throws {
        _ = try source.fleetConfig()  // an invalid file stops here: FILE:LINE: reason, exit 2
        let parsedChecks: [SnapshotCheck]
        do { parsedChecks = try checks.map(SnapshotCheck.init) } catch { throw UserError(description: "\(error)") }
        // History costs a walk over every node each second of data: only when it is printed.
        let collected = try source.collectOnce(duration: duration, keepHistory: history != nil, queryScope: queryScope)
        let snap = collected.snapshot, collector = collected.collector
        let sourceStats = collected.sourceStats, historyProvider = collected.historyProvider
        let scope = Scope(region: region, site: site, node: node)
        try checkScopeExists(snap, scope)
        var doc = SnapshotDocument(snapshot: snap, kind: view, scope: scope, sort: sort, reversed: reverse,
                                   limit: limit, source: source.sourceLabel)
        doc.sources = sourceStats
        if let history {
            guard format == .json else { throw UserError(description: "--history is for --format json") }
            doc.history = (historyProvider ?? collector, history)
        }
        let output: String
        switch format {
        case .table:
            let ascii = !Terminal.localeIsUTF8()
            output = doc.text(width: width ?? Terminal.columns() ?? 80, ascii: ascii, color: Terminal.wantsColor())
        case .json: output = doc.json()
        case .csv: output = doc.csv()
        case .prometheus: output = doc.prometheus()
        case .map: output = Screen.mapText(snap, width: max(20, width ?? Terminal.columns() ?? 80), ascii: !Terminal.localeIsUTF8())
        }
        FileHandle.standardOutput.write(Data(output.utf8))
        let failures = parsedChecks.compactMap { $0.failure(in: snap, scope: scope) }
        for f in failures { FileHandle.standardError.write(Data("edgetop: \(f)\n".utf8)) }
        if !failures.isEmpty { throw ExitCode(1) }
    }

    /// What a query backend must read for this view: aggregates for group rows, per-node series
    /// only where nodes are printed.
    var queryScope: QueryScope {
        if let node { return .node(node) }
        if let site { return .site(site) }
        switch view {
        case .fleet, .regions, .triage: return .fleet
        case .sites, .capacity: return region.map { .region($0) } ?? .allSites
        case .nodes, .gpus: return .everything
        }
    }

    private func checkScopeExists(_ snap: FleetSnapshot, _ scope: Scope) throws {
        if let r = scope.region, !snap.regions.contains(where: { $0.id == r }) {
            throw UserError(description: "unknown region \"\(r)\" (regions: \(snap.regions.map(\.id).joined(separator: ", ")))")
        }
        if let s = scope.site, !snap.sites.contains(where: { $0.id == s }) {
            throw UserError(description: "unknown site \"\(s)\"")
        }
        if let n = scope.node, !snap.nodes.contains(where: { $0.id == n }) {
            throw UserError(description: "unknown node \"\(n)\"")
        }
    }
}

/// Facts about the process's terminal that need no curses.
enum Terminal {
    static func columns() -> Int? {
        var ws = winsize()
        guard isatty(STDOUT_FILENO) != 0, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 else { return nil }
        return Int(ws.ws_col)
    }

    /// Colour only for a terminal that can show it, and never under NO_COLOR (any value).
    static func wantsColor() -> Bool {
        let env = ProcessInfo.processInfo.environment
        let term = env["TERM"] ?? ""
        return isatty(STDOUT_FILENO) != 0 && (env["NO_COLOR"] ?? "").isEmpty && !term.isEmpty && term != "dumb"
    }

    static func localeIsUTF8() -> Bool {
        let env = ProcessInfo.processInfo.environment
        let value = env["LC_ALL"].flatMap { $0.isEmpty ? nil : $0 } ?? env["LC_CTYPE"].flatMap { $0.isEmpty ? nil : $0 } ?? env["LANG"] ?? ""
        let v = value.lowercased()
        return v.contains("utf-8") || v.contains("utf8")
    }
}

/// One snapshot from whatever the source options name: a query backend, a replay, live sources
/// for `duration` seconds of wall time, or the simulator for `duration` seconds of fleet time.
struct Collected {
    var snapshot: FleetSnapshot
    var collector: Collector
    var sourceStats: [SourceStats]
    var historyProvider: (any HistoryProvider)?
}

extension SourceOptions {
    /// Collects once (replay, live sources for `duration`, or the simulator); `keepHistory`
    /// false leaves the history rings out (what `snapshot` without `--history` needs).
    func collectOnce(duration: Double, keepHistory: Bool = true, queryScope: QueryScope = .everything) throws -> Collected {
        var config = collectorConfig()
        if !keepHistory { config.history = .off }
        let collector = Collector(config: config)
        let recorder = try startRecording(collector, start: start ?? Date().timeIntervalSince1970 - duration)
        let time: Double
        var sourceStats: [SourceStats] = []
        var queried: FleetSnapshot?
        var historyProvider: (any HistoryProvider)?
        if let q = try querySource() {
            let now = Date().timeIntervalSince1970
            let (snap, problems) = SourceOptions.blockingSnapshot(q, at: now, scope: queryScope)
            // A partial answer still prints: what is missing is said on stderr.
            for p in problems { FileHandle.standardError.write(Data("edgetop: \(p)\n".utf8)) }
            if snap.nodes.isEmpty && snap.regions.isEmpty && !problems.isEmpty {
                throw UserError(description: "\(q.client.base.absoluteString): \(problems[0])")
            }
            queried = snap
            historyProvider = q
            sourceStats = [q.sourceStats()]
            time = now
        } else if let path = replay {
            time = try runReplay(into: collector, path: path)
        } else if hasLiveSources {
            // Live sources: collect for --duration seconds of wall time.
            let live = try LiveSources(options: self, collector: collector)
            try live.start()
            Thread.sleep(forTimeInterval: duration)
            live.stop()
            collector.drain()
            sourceStats = live.stats
            time = Date().timeIntervalSince1970
        } else {
            let end = start.map { $0 + duration } ?? Date().timeIntervalSince1970
            let sim = try simulator(into: collector, start: end - duration)
            sim.advance(to: end)
            collector.drain()
            time = end
        }
        collector.drain()
        if let problem = recorder?.close() { throw UserError(description: problem) }
        return Collected(snapshot: queried ?? collector.snapshot(at: time), collector: collector,
                         sourceStats: sourceStats, historyProvider: historyProvider)
    }
}
