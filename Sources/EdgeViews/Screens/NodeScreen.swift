import EdgeCollector
import EdgeCore

extension Screen {
    /// A node: its GPUs, health and facts, then charts of its history or its latency distribution.
    static func nodeView(_ g: inout CellGrid, _ state: inout UIState, node: NodeStatus) {
        // The latency distribution shows only its occupied bins (from the first to the last
        // non-empty one), so at 80x24 GPUs, facts and distribution all fit; the GPU table
        // takes what is left and scrolls.
        let d = node.distribution
        let firstBin = d.firstIndex { $0 > 0 } ?? 0
        let lastBin = d.lastIndex { $0 > 0 } ?? -1
        let bins = lastBin >= firstBin ? Array(firstBin...lastBin) : []
        let sourcesLine = node.latencySources.count > 1 ? 1 : 0
        let classesLine = node.classes.isEmpty ? 0 : 1
        let below = 3 + sourcesLine + classesLine + 2 + (bins.isEmpty ? 1 : bins.count)  // facts, sources, title, bins
        let room = g.height - 2 - 4 - below - 1
        let gpuRows = max(1, min(max(1, node.gpus.count), room))
        let tableBottom = 3 + 1 + gpuRows
        table(&g, &state, top: 3, bottom: tableBottom)
        var y = tableBottom + 1
        let l = node.latency
        let health = "\(node.health.label)\(node.reason.isEmpty ? "" : ": " + node.reason)"
        g.put(health, x: 1, y: y, style: CellStyle(Tone.of(node.health), bold: true), maxWidth: g.width - 2)
        y += 1
        let classTier = state.snapshot?.classCatalog[node.workload].tierMs.map { "<\(Int($0))ms" } ?? "no tier"
        let tier = node.workload == .unclassified ? "tier <\(Int(node.tierMs))ms" : "serves \(node.workload.id) \(classTier)"
        var facts1 = "\(tier) · \(Formatting.rate(node.rps)) req/s · errors \(Formatting.fixed(node.errorRatio * 100, 1))% · "
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
            x += g.put("\(v.isFinite ? approx : "")\(Formatting.msUnit(v))", x: x, y: y, style: CellStyle(Tone.latency(v), bold: label == "p99")) + 2
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
                let text = "\(s.source) \(Formatting.count(s.latency.count)) req p99 \(s.latency.p99.isFinite ? a : "")\(Formatting.msUnit(s.latency.p99)) (not added)  "
                x += g.put(text, x: x, y: y, style: CellStyle(.dim), maxWidth: max(0, g.width - x - 1))
            }
            y += 1
        }
        if classesLine > 0, let snap = state.snapshot {
            // Per class: within tier over the window and the 1 h burn (what triage ranks by).
            var x = 1
            x += g.put("classes: ", x: x, y: y, style: CellStyle(.dim))
            for c in node.classes where x < g.width - 2 {
                let spec = snap.classCatalog[c.workload]
                let within = c.withinTierFraction
                let tier = spec.tierMs.map { "<\(Int($0))ms" } ?? "no tier"
                let burn = c.burnRate(2, target: spec.sloTarget)
                let text = "\(c.workload.id) \(Formatting.count(c.requests)) req \(within.isFinite ? Formatting.fixed((within * 1000).rounded(.down) / 10, 1) + "%" : "-") \(tier)"
                x += g.put(text, x: x, y: y, style: CellStyle(within < spec.sloTarget ? .degraded : .plain), maxWidth: max(0, g.width - x - 1))
                let b = " burn \(Triage.times(burn).replacingOccurrences(of: "×", with: state.ascii ? "x" : "×"))  "
                x += g.put(b, x: x, y: y, style: CellStyle(burnTone(burn)), maxWidth: max(0, g.width - x - 1))
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
}
