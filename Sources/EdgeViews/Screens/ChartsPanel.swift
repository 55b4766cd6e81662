import EdgeCollector
import EdgeCore

extension Screen {
    /// The history series of `entity` over the chart span, if the session has fetched it.
    static func chartSeries(_ state: UIState, _ entity: HistoryEntity) -> HistorySeries? {
        state.chartSpan == .m15 ? state.history[entity] : state.chartHistory[entity]
    }

    /// The charts of an entity, as many as fit (p99 first), in the box `top..<bottom`.
    /// `fleet` adds the count of unhealthy nodes (groups) in place of temperature.
    static func chartsPanel(_ g: inout CellGrid, _ state: inout UIState, entity: HistoryEntity, top: Int, bottom: Int, group: Bool) {
        let height = bottom - top
        guard height >= 5 else { return }
        state.wantedHistory.append(entity)
        let span = state.chartSpan
        guard let series = chartSeries(state, entity) else {
            g.put("\(span.rawValue) · w: 15m/1h/24h", x: 1, y: top, style: CellStyle(.dim), maxWidth: g.width - 2)
            g.put("history: collecting…", x: 1, y: top + 1, style: CellStyle(.dim))
            return
        }
        let spanS = Double(series.steps.count) * series.stepSeconds
        // Say what the ring holds when it is shorter than the span asked for (sites and nodes
        // keep 3 min and 1 h unless --history-depth full).
        let shorter = spanS < Double(span.steps) * span.stepSeconds - 0.5 ? " (this level keeps \(Chart.duration(spanS)); --history-depth full: \(span.rawValue))" : ""
        let label = "\(Chart.duration(spanS)) · \(Chart.duration(series.stepSeconds)) steps · w: 15m/1h/24h\(shorter)"
        g.put(label, x: 1, y: top, style: CellStyle(.dim), maxWidth: g.width - 2)
        func count(_ v: Double) -> String { Formatting.rate(v) }
        var charts = [
            Chart(title: "p99 ms", values: series.p99Ms, spanSeconds: spanS, worst: true,
                  format: { Formatting.ms($0) }, tone: { Tone.latency($0) }),
            Chart(title: "req/s", values: series.rps, spanSeconds: spanS, format: count),
            Chart(title: "errors %", values: series.errorPct, spanSeconds: spanS, worst: true,
                  format: { Formatting.fixed($0, 1) }, tone: { $0 >= 5 ? .degraded : .accent }),
            Chart(title: "GPU util %", values: series.gpuUtilPct, spanSeconds: spanS, fixedTop: 100,
                  format: { Formatting.pct($0) }, tone: { $0 >= 95 ? .degraded : .healthy }),
        ]
        if group {
            let unhealthy = series.steps.map { $0.hasData ? Double($0.health.total - $0.health.healthy) : .nan }
            charts.append(Chart(title: "unhealthy nodes", values: unhealthy, spanSeconds: spanS, worst: true,
                                format: { Formatting.count(Int($0)) }, tone: { $0 > 0 ? .degraded : .healthy }))
        } else {
            charts.append(Chart(title: "GPU temp max °C", values: series.gpuTempMaxC, spanSeconds: spanS, worst: true,
                                format: { Formatting.pct($0) }, tone: { $0 >= 87 ? .degraded : .accent }))
        }
        let avail = height - 1
        let perRow = max(1, min(charts.count, (g.width - 1) / 38))
        let rowsWanted = (charts.count + perRow - 1) / perRow
        let rows = max(1, min(rowsWanted, avail / 5))
        let shown = min(charts.count, rows * perRow)
        let cols = min(perRow, shown)
        let chartW = (g.width - 1) / cols
        let chartH = avail / rows
        for i in 0..<shown {
            let r = i / cols, c = i % cols
            charts[i].draw(&g, x: 1 + c * chartW, y: top + 1 + r * chartH, width: chartW - 2, height: chartH, ascii: state.ascii)
        }
    }

    /// Width of the two sparkline columns (p99 and req/s) at widths ≥ 120; 0 below.
    static func sparkColumnsWidth(_ g: CellGrid, rows: RowKind) -> Int {
        g.width >= 120 && rows != .gpus && rows != .triage && rows != .capacity ? 2 * (sparkCells + 1) : 0
    }

    static let sparkCells = 10

    /// The entity a table row stands for, for its sparklines.
    static func entity(rows: RowKind, id: String) -> HistoryEntity? {
        switch rows {
        case .fleet: .fleet
        case .regions: .region(id)
        case .sites: .site(id)
        case .nodes: .node(id)
        case .gpus, .triage, .capacity: nil
        }
    }

    /// Steps a row's sparkline covers: the last 3 min, 18 s a cell (the recent trend, and what
    /// a site's or node's 1 s ring holds by default; the charts show the whole span).
    static let sparkSteps = 180

    /// Sparklines of a row: p99 (worst step per cell, tier colours) and requests/s.
    static func sparklines(_ g: inout CellGrid, _ state: UIState, entity: HistoryEntity, x: Int, y: Int) {
        guard let series = state.history[entity] else { return }
        let p99 = Sparkline.buckets(Array(series.p99Ms.suffix(sparkSteps)), cells: sparkCells, worst: true)
        let rps = Sparkline.buckets(Array(series.rps.suffix(sparkSteps)), cells: sparkCells, worst: false)
        Sparkline.draw(&g, x: x, y: y, values: p99, ascii: state.ascii) { Tone.latency($0) }
        Sparkline.draw(&g, x: x + sparkCells + 1, y: y, values: rps, ascii: state.ascii) { _ in .accent }
    }
}
