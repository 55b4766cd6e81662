import ArgumentParser
import Dispatch
import EdgeCollector
import EdgeSources
import EdgeViews
import Foundation

/// `edgetop serve`: the collector, headless, for Prometheus (and Thanos, Mimir) to scrape.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the collector headless and serve /metrics, /api/v1/snapshot and /healthz.",
        discussion: """
        /metrics is Prometheus text 0.0.4, or OpenMetrics when the scraper's Accept asks for it. \
        /api/v1/snapshot takes the snapshot command's options as query parameters (view, region, \
        site, node, sort, reverse, limit, format) and answers the same JSON. Stops cleanly on SIGTERM.
        """
    )

    @OptionGroup var source: SourceOptions

    @Option(help: "Address to listen on (HOST:PORT).")
    var listen = "127.0.0.1:9464"

    @Option(help: "Seconds between snapshots behind the endpoints.")
    var refresh: Double = 1

    @Option(help: "This collector's name, exported as edgetop_collector (default: its --sim-regions, else \"edgetop\"): a global view (--prometheus) names it when it goes silent.")
    var collector: String?

    @Option(help: ArgumentHelp("Export request latency, requests and errors per node, or summed per site or region (fewer series for large fleets; health stays per node, GPU gauges per GPU).",
                               valueName: "node|site|region"))
    var metricsDetail: MetricsDetail = .node

    var collectorName: String { collector ?? source.simRegions.map { $0.replacingOccurrences(of: ",", with: "+") } ?? "edgetop" }

    func run() throws {
        _ = try source.fleetConfig()
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            throw UserError(description: "--listen \(listen): expected HOST:PORT")
        }
        let host = String(listen[..<colon]).isEmpty ? "127.0.0.1" : String(listen[..<colon])
        let collector = Collector(config: source.collectorConfig())
        let recorder = try source.startRecording(collector, start: Date().timeIntervalSince1970)
        defer { recorder?.close() }
        var driver: SimulatorDriver?
        var live: LiveSources?
        var replayTime: Double?
        if source.prometheus != nil {
            throw UserError(description: "serve collects; --prometheus reads what collectors serve")
        } else if source.hasLiveSources {
            live = try LiveSources(options: source, collector: collector)
            try live?.start()
            if source.withSim { driver = try source.runningSimulator(into: collector, history: 1) }
        } else if let path = source.replay {
            // A replayed fleet is served as it stands at its last sample (a fixed picture).
            replayTime = try source.runReplay(into: collector, path: path)
        } else {
            driver = try source.runningSimulator(into: collector, history: 1)
        }
        let fixedTime = replayTime
        let pump = SnapshotPump { collector.snapshot(at: fixedTime ?? Date().timeIntervalSince1970) }
        pump.prime()
        let label = source.sourceLabel
        let name = collectorName
        let detail = metricsDetail
        let sourceStats: @Sendable () -> [SourceStats] = { [live] in live?.stats ?? [] }
        let server = HTTPServer(host: host, port: port) { request in
            Serve.handle(request, snapshot: pump.current().snapshot, sources: sourceStats(), label: label, history: collector,
                         collector: name, detail: detail)
        }
        do { try server.start() } catch { throw UserError(description: "\(error)") }
        FileHandle.standardError.write(Data("edgetop: serving \(label) on http://\(host):\(server.port)/metrics\n".utf8))

        let stop = StopFlag(signals: [SIGINT, SIGTERM])
        while !stop.isSet {
            pump.request()
            Thread.sleep(forTimeInterval: max(0.2, refresh))
        }
        stop.cancel()
        server.stop()
        driver?.stop()
        live?.stop()
    }

    static func handle(_ r: HTTPRequest, snapshot: FleetSnapshot?, sources: [SourceStats], label: String,
                       history: (any HistoryProvider)? = nil, collector: String? = nil, detail: MetricsDetail = .node) -> HTTPResponse {
        guard r.method == "GET" || r.method == "HEAD" else { return HTTPResponse(status: 405, text: "use GET") }
        switch r.path {
        case "/healthz":
            return HTTPResponse(status: snapshot == nil ? 503 : 200, text: snapshot == nil ? "starting" : "ok")
        case "/metrics":
            guard let snapshot else { return HTTPResponse(status: 503, text: "no snapshot yet") }
            let om = r.headers["accept"]?.contains("application/openmetrics-text") == true
            let text = MetricsExporter(snapshot: snapshot, sources: sources, version: Edgetop.configuration.version, collector: collector,
                                       detail: detail).render(openMetrics: om)
            return HTTPResponse(status: 200, contentType: om ? MetricsExporter.openMetricsContentType : MetricsExporter.textContentType,
                                body: Array(text.utf8)).compressed(for: r)
        case "/api/v1/snapshot":
            guard let snapshot else { return HTTPResponse(status: 503, text: "no snapshot yet") }
            return snapshotResponse(r.query, snapshot: snapshot, sources: sources, label: label, history: history)
        default:
            return HTTPResponse(status: 404, text: "not found: try /metrics, /api/v1/snapshot or /healthz")
        }
    }

    static func snapshotResponse(_ q: [String: String], snapshot: FleetSnapshot, sources: [SourceStats], label: String,
                                 history: (any HistoryProvider)? = nil) -> HTTPResponse {
        let known: Set<String> = ["view", "region", "site", "node", "sort", "reverse", "limit", "format", "history"]
        if let unknown = q.keys.first(where: { !known.contains($0) }) {
            return HTTPResponse(status: 400, text: "unknown parameter \"\(unknown)\" (\(known.sorted().joined(separator: ", ")))")
        }
        guard let view = RowKind(rawValue: q["view"] ?? "regions") else {
            return HTTPResponse(status: 400, text: "view must be one of \(RowKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let sort = SortKey(rawValue: q["sort"] ?? "health") else {
            return HTTPResponse(status: 400, text: "sort must be one of \(SortKey.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var limit: Int?
        if let l = q["limit"] {
            guard let n = Int(l), n >= 1 else { return HTTPResponse(status: 400, text: "limit must be a positive integer") }
            limit = n
        }
        let scope = Scope(region: q["region"], site: q["site"], node: q["node"])
        if let r = scope.region, !snapshot.regions.contains(where: { $0.id == r }) { return HTTPResponse(status: 404, text: "unknown region \"\(r)\"") }
        if let s = scope.site, !snapshot.sites.contains(where: { $0.id == s }) { return HTTPResponse(status: 404, text: "unknown site \"\(s)\"") }
        if let n = scope.node, !snapshot.nodes.contains(where: { $0.id == n }) { return HTTPResponse(status: 404, text: "unknown node \"\(n)\"") }
        var doc = SnapshotDocument(snapshot: snapshot, kind: view, scope: scope, sort: sort,
                                   reversed: ["1", "true", ""].contains(q["reverse"] ?? "false"), limit: limit, source: label)
        doc.sources = sources
        if let h = q["history"] {
            guard let span = HistorySpan(rawValue: h) else {
                return HTTPResponse(status: 400, text: "history must be one of \(HistorySpan.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let history else { return HTTPResponse(status: 400, text: "this source keeps no history") }
            doc.history = (history, span)
        }
        switch q["format"] ?? "json" {
        case "json": return .json(200, doc.json())
        case "csv": return HTTPResponse(status: 200, contentType: "text/csv; charset=utf-8", body: Array(doc.csv().utf8))
        case "prometheus": return HTTPResponse(status: 200, contentType: MetricsExporter.textContentType, body: Array(doc.prometheus().utf8))
        case "table": return HTTPResponse(status: 200, text: doc.text(width: 120))
        default: return HTTPResponse(status: 400, text: "format must be json, csv, prometheus or table")
        }
    }
}

extension MetricsDetail: ExpressibleByArgument {}
