import EdgeCollector
import EdgeCore
import Foundation

/// Renders a `UIState` into a `CellGrid`. Pure: same state and size, same cells.
public enum Screen {
    public static let minWidth = 80
    public static let minHeight = 24

    public static func render(_ state: inout UIState, width: Int, height: Int) -> CellGrid {
        var g = CellGrid(width: width, height: height)
        guard width >= minWidth && height >= minHeight else {
            tooSmall(&g)
            return g
        }
        header(&g, state)
        summary(&g, state, y: 1)
        context(&g, state, y: 2)
        state.wantedHistory = []
        let bottom = height - 2
        if state.showChanges {
            changesView(&g, &state, top: 3, bottom: bottom)
        } else if case .node(let id) = state.level, let node = state.snapshot?.nodes.first(where: { $0.id == id }) {
            nodeView(&g, &state, node: node)
        } else if state.level == .fleet, let rows = state.table()?.rows.count, bottom - (3 + rows + 1) >= 9 {
            // The fleet's few regions leave room: the fleet's own history fills it.
            let split = 3 + rows + 2
            table(&g, &state, top: 3, bottom: split - 1)
            chartsPanel(&g, &state, entity: .fleet, top: split, bottom: bottom, group: true)
        } else if case .site(let s) = state.level, height >= 30, let rows = state.table()?.rows.count {
            let split = 3 + max(6, min(rows + 2, (bottom - 3) / 2))
            table(&g, &state, top: 3, bottom: split - 1)
            chartsPanel(&g, &state, entity: .site(s), top: split, bottom: bottom, group: true)
        } else {
            table(&g, &state, top: 3, bottom: bottom)
        }
        statusBar(&g, state, y: height - 1)
        if state.showHelp { help(&g, state) }
        return g
    }

    // MARK: parts

    static func tooSmall(_ g: inout CellGrid) {
        guard g.width > 0, g.height > 0 else { return }
        let lines = ["terminal too small: \(g.width)x\(g.height)", "edgetop needs \(minWidth)x\(minHeight)", "q quits"]
        for (i, l) in lines.enumerated() {
            let y = g.height / 2 - 1 + i
            let w = TextWidth.width(l)
            g.put(l, x: max(0, (g.width - w) / 2), y: y, style: CellStyle(i == 0 ? .degraded : .plain, bold: i == 0))
        }
    }

    /// `Fleet › Western Europe › fra1 Frankfurt am Main › fra1-n03`; with `short`, ids only.
    static func breadcrumb(_ state: UIState, short: Bool = false) -> [String] {
        var parts = ["Fleet"]
        guard let snap = state.snapshot else { return parts }
        for level in state.stack.dropFirst() {
            switch level {
            case .fleet: break
            case .allSites: parts.append("All sites")
            case .region(let r): parts.append(short ? r : snap.regions.first { $0.id == r }?.name ?? r)
            case .site(let s): parts.append(short ? s : snap.sites.first { $0.id == s && $0.name != $0.id }.map { "\($0.id) \($0.name)" } ?? s)
            case .node(let n): parts.append(n)
            }
        }
        return parts
    }

    static func header(_ g: inout CellGrid, _ state: UIState) {
        let bar = CellStyle(.accent, bold: true, reverse: true)
        g.fill(x: 0, y: 0, count: g.width, style: bar)
        let sep = state.ascii ? " > " : " › "
        let right = "\(state.status.source)  \(clock(state.snapshot?.time))"
        let rightWidth = TextWidth.width(right)
        g.put(" edgetop  ", x: 0, y: 0, style: bar)
        let room = g.width - 10 - rightWidth - 2
        var crumb = breadcrumb(state).joined(separator: sep)
        if TextWidth.width(crumb) > room { crumb = breadcrumb(state, short: true).joined(separator: sep) }
        g.put(crumb, x: 10, y: 0, style: bar, maxWidth: room)
        g.put(right, x: g.width - rightWidth - 1, y: 0, style: bar)
    }

    static func clock(_ t: Double?) -> String {
        guard let t, t.isFinite else { return "--:--:-- UTC" }
        let s = Int(t.rounded(.down))
        let h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(h)):\(two(m)):\(two(sec)) UTC"
    }

    static func summary(_ g: inout CellGrid, _ state: UIState, y: Int) {
        guard let f = state.snapshot?.fleet else {
            g.put("collecting…", x: 1, y: y, style: CellStyle(.dim))
            return
        }
        var x = 1
        // Latency first: at 80 columns everything must still fit, so labels and gaps shorten.
        let wide = g.width >= 120
        func part(_ text: String, _ tone: Tone, bold: Bool = false) {
            x += g.put(text, x: x, y: y, style: CellStyle(tone, bold: bold)) + (wide ? 2 : 1)
        }
        func latency(_ v: Double) -> String {
            v.isFinite ? Formatting.quantile(v, bounded: f.latency.bucketBounded, ascii: state.ascii) + "ms" : "-"
        }
        part("p50 \(latency(f.latency.p50))", Tone.latency(f.latency.p50), bold: true)
        part("p99 \(latency(f.latency.p99))", Tone.latency(f.latency.p99), bold: true)
        part("GPU \(Formatting.pct(f.gpuUtilPct))%", .plain)
        part("\(Formatting.count(f.nodeCount)) nodes\(wide ? ":" : "")", .plain, bold: true)
        part("\(Formatting.count(f.health.healthy)) ok", .healthy)
        part("\(Formatting.count(f.health.degraded)) \(wide ? "degraded" : "deg")", f.health.degraded > 0 ? .degraded : .dim)
        part("\(Formatting.count(f.health.down)) down", f.health.down > 0 ? .down : .dim)
        part("\(Formatting.count(f.health.stale)) stale", f.health.stale > 0 ? .stale : .dim)
        if wide, let tier = LatencyTier.tier(meeting: f.latency.p99) {
            part("fleet p99 meets the <\(Int(tier.thresholdMs))ms \(tier.label) tier", .dim)
        }
    }

    static func context(_ g: inout CellGrid, _ state: UIState, y: Int) {
        if let editing = state.editingFilter {
            let text = "/" + editing
            let w = g.put(text, x: 1, y: y, style: CellStyle(.accent, bold: true))
            g.put(state.ascii ? "_" : "█", x: 1 + w, y: y, style: CellStyle(.accent))
            g.put("Enter applies · Esc clears", x: 3 + w + 2, y: y, style: CellStyle(.dim))
        } else if !state.filter.isEmpty {
            g.put("filter: \(state.filter)", x: 1, y: y, style: CellStyle(.accent))
        } else {
            g.put(levelTitle(state), x: 1, y: y, style: CellStyle(.plain, bold: true), maxWidth: g.width - 30)
        }
        let arrow = state.ascii ? (state.reversed ? "^" : "v") : (state.reversed ? "▲" : "▼")
        let sort = "sort \(state.sort.rawValue) \(arrow)"
        g.put(sort, x: g.width - TextWidth.width(sort) - 1, y: y, style: CellStyle(.dim))
    }

    static func levelTitle(_ state: UIState) -> String {
        guard let snap = state.snapshot else { return "" }
        switch state.level {
        case .fleet: return "Regions (\(snap.regions.count)) · a: all sites"
        case .allSites: return "All sites (\(Formatting.count(snap.sites.count))), fleet-wide"
        case .region(let r):
            let n = snap.sites.filter { $0.region == r }.count
            return "\(snap.regions.first { $0.id == r }?.name ?? r): \(n) sites"
        case .site(let s):
            guard let site = snap.sites.first(where: { $0.id == s }) else { return s }
            let name = site.name == site.id ? site.id : "\(site.id) \(site.name)"
            let country = site.country.isEmpty ? "" : " (\(site.country))"
            return "\(name)\(country) · tier <\(Int(site.tierMs))ms · \(site.nodeCount) nodes"
        case .node(let n): return n
        }
    }

    static func table(_ g: inout CellGrid, _ state: inout UIState, top: Int, bottom: Int) {
        guard let model = state.table() else { return }
        let showBar = g.width >= 120 && model.columns.contains { $0.title == "GPU%" }
        let barWidth = showBar ? 11 : 0
        let sparkWidth = sparkColumnsWidth(g, rows: state.level.rows)
        let cols = model.layout(width: g.width - 1 - barWidth - sparkWidth)
        let sparkX = g.width - sparkWidth + 1  // one blank cell before the sparklines
        // Header.
        var x = 1
        g.fill(x: 0, y: top, count: g.width, style: CellStyle(.plain, bold: true, reverse: true))
        for c in cols {
            let w = c.column.width
            let title = TextWidth.pad(c.column.title, w, right: c.column.rightAligned, ascii: state.ascii)
            g.put(title, x: x, y: top, style: CellStyle(.plain, bold: true, reverse: true))
            x += w + 1
            if showBar && c.column.title == "GPU%" { x += barWidth }
        }
        if sparkWidth > 0 {
            g.put(TextWidth.pad("p99 5m", sparkCells), x: sparkX, y: top, style: CellStyle(.plain, bold: true, reverse: true))
            g.put(TextWidth.pad("req/s 5m", sparkCells), x: sparkX + sparkCells + 1, y: top, style: CellStyle(.plain, bold: true, reverse: true))
        }
        let visible = max(0, bottom - top - 1)
        state.scroll(visibleRows: visible, rows: model.rows)
        let first = state.scrollTop[state.level] ?? 0
        let selected = state.selection(in: model.rows)
        if model.rows.isEmpty {
            let what = state.filter.isEmpty ? "nothing to show" : "no rows match \"\(state.filter)\" (Esc then / to change)"
            g.put(what, x: 2, y: top + 2, style: CellStyle(.dim))
        }
        for (line, i) in (first..<min(model.rows.count, first + visible)).enumerated() {
            let row = model.rows[i]
            let y = top + 1 + line
            var x = 1
            for c in cols {
                let cell = row.cells[c.index]
                let shown = state.ascii ? cell.text.replacingOccurrences(of: "≈", with: "~") : cell.text
                let text = TextWidth.pad(shown, c.column.width, right: c.column.rightAligned, ascii: state.ascii)
                g.put(text, x: x, y: y, style: CellStyle(cell.tone, bold: cell.tone == .down))
                x += c.column.width + 1
                if showBar && c.column.title == "GPU%" {
                    bar(&g, x: x, y: y, width: barWidth - 1, fraction: row.utilPct / 100, ascii: state.ascii)
                    x += barWidth
                }
            }
            if sparkWidth > 0, let e = entity(rows: state.level.rows, id: row.id) {
                state.wantedHistory.append(e)
                sparklines(&g, state, entity: e, x: sparkX, y: y)
            }
            if i == selected {
                g.restyle(x: 0, y: y, count: g.width) { $0.reverse = true; $0.bold = true }
            }
        }
        // Scroll position, like a pager: rows a–b of n.
        if model.rows.count > visible && visible > 0 {
            let pos = "\(first + 1)–\(min(model.rows.count, first + visible)) of \(model.rows.count)"
            g.put(pos, x: g.width - TextWidth.width(pos) - 1, y: bottom, style: CellStyle(.dim))
        }
    }

    /// A horizontal bar for a fraction 0…1, with eighth-cell precision in UTF-8.
    static func bar(_ g: inout CellGrid, x: Int, y: Int, width: Int, fraction: Double, ascii: Bool) {
        guard fraction.isFinite, width > 0 else { return }
        let f = min(1, max(0, fraction))
        let eighths = Int((f * Double(width * 8)).rounded())
        let tone: Tone = f >= 0.95 ? .degraded : .healthy
        if ascii {
            g.put(String(repeating: "#", count: eighths / 8), x: x, y: y, style: CellStyle(tone))
            return
        }
        let partial: [Unicode.Scalar] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var s = String(repeating: "█", count: eighths / 8)
        if eighths % 8 > 0 { s.unicodeScalars.append(partial[eighths % 8]) }
        g.put(s, x: x, y: y, style: CellStyle(tone))
    }

    static func nodeView(_ g: inout CellGrid, _ state: inout UIState, node: NodeStatus) {
        // The latency distribution shows only its occupied bins (from the first to the last
        // non-empty one), so at 80x24 GPUs, facts and distribution all fit; the GPU table
        // takes what is left and scrolls.
        let d = node.distribution
        let firstBin = d.firstIndex { $0 > 0 } ?? 0
        let lastBin = d.lastIndex { $0 > 0 } ?? -1
        let bins = lastBin >= firstBin ? Array(firstBin...lastBin) : []
        let sourcesLine = node.latencySources.count > 1 ? 1 : 0
        let below = 3 + sourcesLine + 2 + (bins.isEmpty ? 1 : bins.count)  // facts, sources, title, bins
        let room = g.height - 2 - 4 - below - 1
        let gpuRows = max(1, min(max(1, node.gpus.count), room))
        let tableBottom = 3 + 1 + gpuRows
        table(&g, &state, top: 3, bottom: tableBottom)
        var y = tableBottom + 1
        let l = node.latency
        let health = "\(node.health.label)\(node.reason.isEmpty ? "" : ": " + node.reason)"
        g.put(health, x: 1, y: y, style: CellStyle(Tone.of(node.health), bold: true), maxWidth: g.width - 2)
        y += 1
        var facts1 = "tier <\(Int(node.tierMs))ms · \(Formatting.rate(node.rps)) req/s · errors \(Formatting.fixed(node.errorRatio * 100, 1))% · "
            + "\(Formatting.count(l.count)) requests in \(Int(state.snapshot?.windowSeconds ?? 0))s window"
        if node.load1.isFinite { facts1 += " · load \(Formatting.fixed(node.load1, 2))" }
        if node.memUsedPct.isFinite { facts1 += " · mem \(Formatting.pct(node.memUsedPct))%" }
        if node.requestsRunning.isFinite || node.requestsWaiting.isFinite {
            facts1 += " · running \(Formatting.pct(node.requestsRunning)) waiting \(Formatting.pct(node.requestsWaiting))"
        }
        g.put(facts1, x: 1, y: y, style: CellStyle(.plain), maxWidth: g.width - 2)
        y += 1
        var x = 1
        let approx = l.bucketBounded ? (state.ascii ? "~" : "≈") : ""
        for (label, v) in [("p50", l.p50), ("p90", l.p90), ("p99", l.p99), ("max", l.max)] {
            x += g.put("\(label) ", x: x, y: y, style: CellStyle(.dim))
            x += g.put("\(v.isFinite ? approx : "")\(Formatting.ms(v))ms", x: x, y: y, style: CellStyle(Tone.latency(v), bold: label == "p99")) + 2
        }
        if !node.latencySource.isEmpty {
            g.put("from \(node.latencySource)", x: x, y: y, style: CellStyle(.dim), maxWidth: max(0, g.width - x - 1))
        }
        y += 1
        if sourcesLine > 0 {
            // One request, one count: the other sources of the same requests are shown, not added.
            var x = 1
            x += g.put("also seen: ", x: x, y: y, style: CellStyle(.dim))
            for s in node.latencySources where !s.used && x < g.width - 2 {
                let a = s.latency.bucketBounded ? approx.isEmpty ? (state.ascii ? "~" : "≈") : approx : ""
                let text = "\(s.source) \(Formatting.count(s.latency.count)) req p99 \(s.latency.p99.isFinite ? a : "")\(Formatting.ms(s.latency.p99))ms (not added)  "
                x += g.put(text, x: x, y: y, style: CellStyle(.dim), maxWidth: max(0, g.width - x - 1))
            }
            y += 1
        }
        guard y < g.height - 2 else { return }
        state.wantedHistory.append(.node(node.id))
        if state.showCharts && chartSeries(state, .node(node.id)) != nil && g.height - 2 - y >= 5 {
            chartsPanel(&g, &state, entity: .node(node.id), top: y, bottom: g.height - 2, group: false)
            return
        }
        g.put("latency distribution over the window\(state.showCharts ? "" : " · c: charts")", x: 1, y: y, style: CellStyle(.plain, bold: true))
        y += 1
        if bins.isEmpty {
            g.put("no requests in the window", x: 3, y: y, style: CellStyle(.dim))
            return
        }
        let total = d.reduce(0, +)
        let maxCount = d.max() ?? 0
        let bounds = LatencyBins.upperBoundsMs
        let labelWidth = 12, countWidth = 16
        let barWidth = max(10, g.width - labelWidth - countWidth - 4)
        for i in bins where y < g.height - 1 {
            let c = d[i]
            let lo = i == 0 ? 0 : bounds[i - 1]
            let label = bounds[i].isInfinite ? "≥\(Int(lo))ms" : "\(Int(lo))–\(Int(bounds[i]))ms"
            g.put(TextWidth.pad(state.ascii ? label.replacingOccurrences(of: "–", with: "-").replacingOccurrences(of: "≥", with: ">=") : label,
                                labelWidth, right: true), x: 1, y: y, style: CellStyle(.dim))
            let fraction = maxCount > 0 ? Double(c) / Double(maxCount) : 0
            let tone = Tone.latency(bounds[i].isInfinite ? lo + 1 : bounds[i] - 0.001)
            bar(&g, x: labelWidth + 2, y: y, width: barWidth, fraction: fraction, ascii: state.ascii)
            g.restyle(x: labelWidth + 2, y: y, count: barWidth) { $0.tone = tone }
            let pct = total > 0 ? Double(c) / Double(total) * 100 : 0
            let count = "\(Formatting.count(c)) \(Formatting.fixed(pct, 1))%"
            g.put(TextWidth.pad(count, countWidth, right: true), x: g.width - countWidth - 1, y: y, style: CellStyle(.plain))
            y += 1
        }
    }

    static func statusBar(_ g: inout CellGrid, _ state: UIState, y: Int) {
        let style = CellStyle(.plain, reverse: true)
        g.fill(x: 0, y: y, count: g.width, style: style)
        let s = state.status
        let oldest = state.snapshot.map { Formatting.age($0.fleet.ageS) } ?? "-"
        var parts = [
            "\(Formatting.rate(s.samplesPerSecond)) samples/s",
            "\(Formatting.count(s.invalid)) invalid",
            "refresh \(refreshLabel(state.refreshSeconds))",
            "oldest \(oldest)",
            "CPU \(s.cpuPercent.isFinite ? Formatting.fixed(s.cpuPercent, 1) + "%" : "-")",
        ]
        parts.append(g.width >= 100 ? "? help  q quit" : "? help")
        let used = g.put(" " + parts.joined(separator: " · "), x: 0, y: y, style: style, maxWidth: g.width - 9)
        // A failing source is news: it takes the rest of the bar, in the degraded colour.
        if let first = s.problems.first {
            let more = s.problems.count > 1 ? " (+\(s.problems.count - 1) more)" : ""
            g.put(" │ " + first + more, x: used, y: y, style: CellStyle(.degraded, bold: true, reverse: true),
                  maxWidth: max(0, g.width - used - 9))
        }
        if state.paused {
            g.put(" PAUSED ", x: g.width - 8, y: y, style: CellStyle(.degraded, bold: true, reverse: true))
        }
    }

    static func refreshLabel(_ s: Double) -> String {
        s < 1 ? "\(Int((s * 1000).rounded()))ms" : "\(Int(s))s"
    }

    static func help(_ g: inout CellGrid, _ state: UIState) {
        var lines: [(String, String)] = []
        for action in Action.allCases {
            let keys = state.keyMap.names[action] ?? []
            lines.append((keys.joined(separator: " "), action.help))
        }
        let legend = [
            "HEALTH: dn down, deg degraded, st stale",
            "Latency colours: tiers <50 <100 <200 <500 ms, above",
            "Typing a filter, keys are text; Ctrl-C quits.",
            "? or any other key closes this help.",
        ]
        let keyWidth = max(12, lines.map { TextWidth.width($0.0) }.max() ?? 0)
        let inner = min(g.width - 6, max(50, keyWidth + 5 + (lines.map { TextWidth.width($0.1) }.max() ?? 0)))
        let height = min(g.height - 2, lines.count + legend.count + 4)
        let x0 = (g.width - inner - 2) / 2, y0 = max(1, (g.height - height) / 2)
        let box = CellStyle(.accent, bold: true)
        let (h, v, tl, tr, bl, br): (Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar) =
            state.ascii ? ("-", "|", "+", "+", "+", "+") : ("─", "│", "┌", "┐", "└", "┘")
        for y in y0..<(y0 + height) { g.fill(x: x0, y: y, count: inner + 2) }
        g.fill(h, x: x0 + 1, y: y0, count: inner, style: box)
        g.fill(h, x: x0 + 1, y: y0 + height - 1, count: inner, style: box)
        for y in (y0 + 1)..<(y0 + height - 1) {
            g.fill(v, x: x0, y: y, count: 1, style: box)
            g.fill(v, x: x0 + inner + 1, y: y, count: 1, style: box)
        }
        g.fill(tl, x: x0, y: y0, count: 1, style: box); g.fill(tr, x: x0 + inner + 1, y: y0, count: 1, style: box)
        g.fill(bl, x: x0, y: y0 + height - 1, count: 1, style: box); g.fill(br, x: x0 + inner + 1, y: y0 + height - 1, count: 1, style: box)
        g.put(" edgetop keys ", x: x0 + 2, y: y0, style: box)
        var y = y0 + 1
        for (keys, text) in lines where y < y0 + height - legend.count - 2 {
            g.put(TextWidth.pad(keys, keyWidth), x: x0 + 2, y: y, style: CellStyle(.accent, bold: true))
            g.put(text, x: x0 + 3 + keyWidth, y: y, maxWidth: inner - keyWidth - 3)
            y += 1
        }
        y += 1
        for l in legend where y < y0 + height - 1 {
            g.put(l, x: x0 + 2, y: y, style: CellStyle(.dim), maxWidth: inner - 2)
            y += 1
        }
    }
}
