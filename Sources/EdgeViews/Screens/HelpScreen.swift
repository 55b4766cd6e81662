import EdgeCollector
import EdgeCore

extension Screen {
    /// The key help overlay, from the key map in use.
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
        g.box(x: x0, y: y0, width: inner + 2, height: height, style: box, ascii: state.ascii, clear: true)
        g.put(" edgetop keys ", x: x0 + 2, y: y0, style: box)
        var y = y0 + 1
        let rows = height - legend.count - 3
        if lines.count <= rows {
            for (keys, text) in lines {
                g.put(TextWidth.pad(keys, keyWidth), x: x0 + 2, y: y, style: CellStyle(.accent, bold: true))
                g.put(text, x: x0 + 3 + keyWidth, y: y, maxWidth: inner - keyWidth - 3)
                y += 1
            }
        } else {
            // Too many for one column (80x24): two, each action with its first key only.
            let short = Action.allCases.map { (state.keyMap.names[$0]?.first ?? "", $0.help) }
            let perColumn = (short.count + 1) / 2, colWidth = (inner - 2) / 2
            let kw = max(5, short.map { TextWidth.width($0.0) }.max() ?? 0)
            for (i, (key, text)) in short.enumerated() {
                let cx = x0 + 2 + (i / perColumn) * (colWidth + 1), cy = y0 + 1 + i % perColumn
                guard cy < y0 + height - legend.count - 2 else { continue }
                g.put(TextWidth.pad(key, kw), x: cx, y: cy, style: CellStyle(.accent, bold: true))
                g.put(text, x: cx + kw + 1, y: cy, maxWidth: colWidth - kw - 1)
            }
            y = y0 + 1 + min(perColumn, rows)
        }
        y += 1
        for l in legend where y < y0 + height - 1 {
            g.put(l, x: x0 + 2, y: y, style: CellStyle(.dim), maxWidth: inner - 2)
            y += 1
        }
    }
}
