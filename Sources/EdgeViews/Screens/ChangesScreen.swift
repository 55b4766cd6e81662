import EdgeCollector
import EdgeCore

extension Screen {
    /// "What changed": since the mark, what moved, worst first; Enter jumps to it.
    static func changesView(_ g: inout CellGrid, _ state: inout UIState, top: Int, bottom: Int) {
        let items = state.changes()
        let since = state.mark.map { clock($0.time) } ?? "-"
        let title = "What changed since \(since) · \(items.count) item\(items.count == 1 ? "" : "s") · Enter: go to · m: mark now · Esc"
        g.fill(x: 0, y: top, count: g.width, style: CellStyle(.plain, bold: true, reverse: true))
        g.put(" " + title, x: 0, y: top, style: CellStyle(.plain, bold: true, reverse: true), maxWidth: g.width)
        let visible = max(0, bottom - top - 1)
        state.pageSize = max(1, visible)
        if items.isEmpty {
            let text = state.mark == nil ? "no mark yet" : "nothing changed state, no GPU events, no p99 or error-rate moves"
            g.put(text, x: 2, y: top + 2, style: CellStyle(.dim))
            return
        }
        let selected = min(state.changesSelection, items.count - 1)
        let first = max(0, min(selected - visible + 1 > 0 ? selected - visible + 1 : 0, max(0, items.count - visible)))
        for (line, i) in (first..<min(items.count, first + visible)).enumerated() {
            let item = items[i]
            let y = top + 1 + line
            g.put(TextWidth.pad(item.kind.rawValue, 7), x: 1, y: y, style: CellStyle(.dim))
            let text = state.ascii ? item.text.replacingOccurrences(of: "°", with: " ").replacingOccurrences(of: "→", with: "->") : item.text
            g.put(text, x: 9, y: y, style: CellStyle(item.tone, bold: item.tone == .down), maxWidth: g.width - 10)
            if i == selected { g.restyle(x: 0, y: y, count: g.width) { $0.reverse = true; $0.bold = true } }
        }
        scrollPosition(&g, first: first, visible: visible, count: items.count, y: bottom)
    }
}
