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
        if state.showMap {
            mapView(&g, &state, top: 3, bottom: bottom)
        } else if state.showChanges {
            changesView(&g, &state, top: 3, bottom: bottom)
        } else if state.level == .triage {
            triageView(&g, &state, top: 3, bottom: bottom)
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
        if let site = state.routeSite { routeOverlay(&g, state, site: site) }
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
        if state.level == .triage { return ["Triage"] }
        var parts = ["Fleet"]
        guard let snap = state.snapshot else { return parts }
        for level in state.stack {
            switch level {
            case .triage, .fleet: break
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
            v.isFinite ? Formatting.quantile(v, bounded: f.latency.bucketBounded, ascii: state.ascii) + (v < 1000 ? "ms" : "") : "-"
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
        if state.level == .triage && state.editingFilter == nil { return }  // triage has its own order
        let arrow = state.ascii ? (state.reversed ? "^" : "v") : (state.reversed ? "▲" : "▼")
        let sort = "sort \(state.sort.rawValue) \(arrow)"
        g.put(sort, x: g.width - TextWidth.width(sort) - 1, y: y, style: CellStyle(.dim))
    }

    static func levelTitle(_ state: UIState) -> String {
        guard let snap = state.snapshot else { return "" }
        switch state.level {
        case .triage:
            let n = state.triage().count
            return n == 0 ? "Nothing needs attention · t: the fleet" : "\(n) item\(n == 1 ? "" : "s") need attention, worst first · Enter: go to · t: the fleet"
        case .fleet: return "Regions (\(snap.regions.count)) · a: all sites\(state.stack.first == .triage ? " · Esc: triage" : "")"
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

    /// What to say instead of a partial node list: a query backend reads a site's or a node's
    /// series only once it is on screen, and until then its snapshot lists only the exceptions.
    static func awaitingNodes(_ state: UIState) -> String? {
        guard let coverage = state.snapshot?.nodeCoverage, coverage != .all else { return nil }
        switch state.level {
        case .site(let s) where !coverage.lists(site: s):
            return state.paused ? "paused: the nodes of \(s) are read when you resume (space)" : "reading the nodes of \(s)…"
        case .node(let n) where !(state.snapshot?.nodes.contains { $0.id == n } ?? false):
            return state.paused ? "paused: \(n) is read when you resume (space)" : "reading \(n)…"
        default: return nil
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
            g.put(TextWidth.pad("p99 3m", sparkCells), x: sparkX, y: top, style: CellStyle(.plain, bold: true, reverse: true))
            g.put(TextWidth.pad("req/s 3m", sparkCells), x: sparkX + sparkCells + 1, y: top, style: CellStyle(.plain, bold: true, reverse: true))
        }
        let visible = max(0, bottom - top - 1)
        state.scroll(visibleRows: visible, rows: model.rows)
        let first = state.scrollTop[state.level] ?? 0
        let selected = state.selection(in: model.rows)
        let awaiting = awaitingNodes(state)
        if let awaiting {
            g.put(awaiting, x: 2, y: top + 2, style: CellStyle(.dim), maxWidth: g.width - 3)
        } else if model.rows.isEmpty {
            let what = state.filter.isEmpty ? "nothing to show" : "no rows match \"\(state.filter)\" (Esc then / to change)"
            g.put(what, x: 2, y: top + 2, style: CellStyle(.dim))
        }
        for (line, i) in (first..<min(model.rows.count, awaiting == nil ? first + visible : first)).enumerated() {
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
        scrollPosition(&g, first: first, visible: visible, count: model.rows.count, y: bottom)
    }

    /// Where a long list is, like a pager: "a–b of n" at the right of row `y`, when the list
    /// has more rows than the `visible` shown from `first`. Returns the cells it took (0: none).
    @discardableResult
    static func scrollPosition(_ g: inout CellGrid, first: Int, visible: Int, count: Int, y: Int) -> Int {
        guard count > visible && visible > 0 else { return 0 }
        let pos = "\(first + 1)–\(min(count, first + visible)) of \(count)"
        g.put(pos, x: g.width - TextWidth.width(pos) - 1, y: y, style: CellStyle(.dim))
        return TextWidth.width(pos) + 1
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
}
