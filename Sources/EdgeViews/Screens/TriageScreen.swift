import EdgeCollector
import EdgeCore

extension Screen {
    /// Rows the class SLO panel under the triage list takes (title, header, one per class).
    static let classPanelRows = 2 + WorkloadClass.allCases.count

    /// Triage: what needs attention now, worst first; the fleet's SLOs per class below.
    static func triageView(_ g: inout CellGrid, _ state: inout UIState, top: Int, bottom: Int) {
        guard let snap = state.snapshot else { return }
        let items = state.triage()
        let classes = snap.fleet.classes.filter { $0.requests > 0 }
        let panel = classes.isEmpty ? 0 : min(classPanelRows, classes.count + 2)
        // The class panel goes below the list when the list still gets six rows.
        let listBottom = bottom - panel - 1 >= top + 6 ? bottom - panel - 1 : bottom
        let header = CellStyle(.plain, bold: true, reverse: true)
        g.fill(x: 0, y: top, count: g.width, style: header)
        let sinceW = 7, badW = g.width >= 120 ? 34 : 24, whatW = 11, classW = 7
        let placeX = 1 + whatW + 1 + classW + 1
        let placeW = max(10, g.width - placeX - 1 - badW - 1 - sinceW - 1)
        let badX = placeX + placeW + 1, sinceX = badX + badW + 1
        g.put("WHAT", x: 1, y: top, style: header)
        g.put("CLASS", x: 1 + whatW + 1, y: top, style: header)
        g.put("WHERE", x: placeX, y: top, style: header)
        g.put("HOW BAD", x: badX, y: top, style: header)
        g.put(TextWidth.pad("FOR", sinceW, right: true), x: sinceX, y: top, style: header)
        let visible = max(0, listBottom - top - 1)
        state.pageSize = max(1, visible)
        if items.isEmpty {
            g.put("all SLOs met · nothing down · no GPU faults · capacity above the floor",
                  x: 2, y: top + 2, style: CellStyle(.healthy, bold: true), maxWidth: g.width - 4)
            let budget = classes.map { c -> String in
                let left = c.budgetRemaining(target: snap.classCatalog[c.workload].sloTarget)
                return "\(c.workload.label) \(left.isFinite ? Formatting.pct(left * 100) + "%" : "-")"
            }.joined(separator: " · ")
            if !budget.isEmpty {
                g.put("error budget left (6h): " + budget, x: 2, y: top + 3, style: CellStyle(.dim), maxWidth: g.width - 4)
            }
        }
        let selected = state.triageSelection(in: items)
        var first = state.scrollTop[.triage] ?? 0
        if let sel = selected {
            if sel < first { first = sel }
            if sel >= first + visible { first = sel - visible + 1 }
        }
        first = max(0, min(first, max(0, items.count - visible)))
        state.scrollTop[.triage] = first
        for (line, i) in (first..<min(items.count, first + visible)).enumerated() {
            let item = items[i]
            let y = top + 1 + line
            g.put(item.kind.label, x: 1, y: y, style: CellStyle(item.tone, bold: item.kind <= .siteDown))
            g.put(item.workload?.label ?? "-", x: 1 + whatW + 1, y: y, style: CellStyle(item.workload == nil ? .dim : .plain))
            let place = TextWidth.width(item.place) > placeW ? item.placeShort ?? item.place : item.place
            g.put(place, x: placeX, y: y, maxWidth: placeW)
            let bad = state.ascii ? item.howBad.replacingOccurrences(of: "×", with: "x").replacingOccurrences(of: "°", with: " ") : item.howBad
            g.put(bad, x: badX, y: y, style: CellStyle(item.tone), maxWidth: badW)
            let since = item.since.map { Formatting.age(snap.time - $0) } ?? "-"
            g.put(TextWidth.pad(since, sinceW, right: true), x: sinceX, y: y, style: CellStyle(.dim))
            if i == selected { g.restyle(x: 0, y: y, count: g.width) { $0.reverse = true; $0.bold = true } }
        }
        let used = scrollPosition(&g, first: first, visible: visible, count: items.count, y: listBottom)
        let posWidth = used > 0 ? used + 1 : 0
        // The selected item's suggested action, on the line under the list.
        if let action = selected.flatMap({ items[$0].action }), listBottom < bottom || items.count < visible {
            let text = (state.ascii ? "-> " : "→ ") + (state.ascii ? action.replacingOccurrences(of: "≈", with: "~") : action)
            g.put(text, x: 1, y: listBottom, style: CellStyle(.accent), maxWidth: g.width - 2 - posWidth)
        }
        if listBottom < bottom { classPanel(&g, snap, classes: classes, top: listBottom + 1, bottom: bottom, ascii: state.ascii) }
    }

    /// The fleet's SLO per workload class: tier, compliance, burn over each window, budget left.
    static func classPanel(_ g: inout CellGrid, _ snap: FleetSnapshot, classes: [ClassStatus], top: Int, bottom: Int, ascii: Bool) {
        let head = CellStyle(.plain, bold: true, reverse: true)
        g.fill(x: 0, y: top, count: g.width, style: head)
        let x = ascii ? "x" : "×"
        g.put(" Fleet SLOs by class · within tier · burn (\(x) sustainable) · 6h budget left",
              x: 0, y: top, style: head, maxWidth: g.width)
        // 79 columns: the panel fits an 80-column terminal.
        let cols = [("CLASS", 18, false), ("TIER", 6, true), ("SLO", 5, true), ("NOW", 6, true), ("1h", 6, true),
                    ("BURN 5m", 7, true), ("30m", 5, true), ("1h", 5, true), ("6h", 5, true), ("BUDGET", 6, true)]
        var cx = 1
        for (title, w, right) in cols {
            g.put(TextWidth.pad(title, w, right: right), x: cx, y: top + 1, style: CellStyle(.dim, bold: true))
            cx += w + 1
        }
        for (i, c) in classes.enumerated() where top + 2 + i <= bottom {
            let spec = snap.classCatalog[c.workload]
            let y = top + 2 + i
            let burns = (0..<4).map { c.burnRate($0, target: spec.sloTarget) }
            let budget = c.budgetRemaining(target: spec.sloTarget)
            func pct(_ v: Double) -> String { v.isFinite ? Formatting.fixed(v * 100, v >= 0.9995 ? 1 : 2) + "%" : "-" }
            let cells: [(String, Tone)] = [
                (c.workload.id, .plain),
                (spec.tierMs.map { "<\(Int($0))ms" } ?? "none", .dim),
                (Formatting.fixed(spec.sloTarget * 100, 1) + "%", .dim),
                (pct(c.withinTierFraction), c.withinTierFraction < spec.sloTarget ? .degraded : .healthy),
                (pct(c.windows[2].goodFraction), c.windows[2].goodFraction < spec.sloTarget ? .degraded : .healthy),
            ] + burns.map { b in (Triage.times(b).replacingOccurrences(of: "×", with: x), burnTone(b)) }
                + [(budget.isFinite ? Formatting.pct(budget * 100) + "%" : "-", budget < 0 ? .down : budget < 0.25 ? .degraded : .plain)]
            var cx = 1
            for ((text, tone), (_, w, right)) in zip(cells, cols) {
                g.put(TextWidth.pad(text, w, right: right), x: cx, y: y, style: CellStyle(tone), maxWidth: w)
                cx += w + 1
            }
        }
    }

    /// Burn colours: above the slow-burn threshold degraded, above the fast one down.
    static func burnTone(_ b: Double) -> Tone {
        guard b.isFinite else { return .dim }
        return b > 14.4 ? .down : b > 6 ? .degraded : b > 1 ? .plain : .healthy
    }
}
