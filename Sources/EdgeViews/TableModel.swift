import EdgeCollector
import EdgeCore

/// How a cell should look; the terminal maps tones to colours (or to nothing under NO_COLOR).
public enum Tone: UInt8, Sendable, CaseIterable {
    case plain, dim, accent
    case healthy, degraded, down, stale
    /// Latency tiers: <50, <100, <200, <500 ms, above.
    case tier50, tier100, tier200, tier500, tierOver

    public static func of(_ state: HealthState) -> Tone {
        switch state {
        case .healthy: .healthy
        case .degraded: .degraded
        case .down: .down
        case .stale: .stale
        }
    }

    /// Tone of a latency by the tier it meets.
    public static func latency(_ ms: Double) -> Tone {
        guard ms.isFinite else { return .dim }
        switch LatencyTier.tier(meeting: ms) {
        case .industrialControl: return .tier50
        case .videoInspection: return .tier100
        case .codeCompletion: return .tier200
        case .customerService: return .tier500
        case nil: return .tierOver
        }
    }
}

public struct Cell: Sendable, Equatable {
    public var text: String
    public var tone: Tone
    public init(_ text: String, _ tone: Tone = .plain) { self.text = text; self.tone = tone }
}

public struct Column: Sendable, Equatable {
    public var title: String
    public var width: Int
    public var rightAligned: Bool
    /// Takes the width left over (NAME, REASON).
    public var flexible: Bool
    /// Shown only when the screen is at least this wide.
    public var minScreenWidth: Int
    /// How wide a flexible column may grow while a later flexible column wants the rest.
    public var maxWidth: Int

    public init(_ title: String, _ width: Int, right: Bool = true, flexible: Bool = false, minScreenWidth: Int = 0,
                maxWidth: Int = 28) {
        self.title = title; self.width = width; self.rightAligned = right; self.flexible = flexible
        self.minScreenWidth = minScreenWidth; self.maxWidth = maxWidth
    }
}

public struct TableRow: Sendable, Equatable {
    /// What a row shows; its cells are formatted only when read, so a 4,400-row table costs
    /// a sort, and only the rows on screen are formatted.
    public enum Source: Sendable, Equatable {
        case group(GroupStatus)
        case node(NodeStatus)
        case gpu(GPUStatus, NodeStatus, qualified: Bool)
        /// A triage item, with how long ago it began (NaN: unknown).
        case triage(TriageItem, age: Double)
        case country(CountryCapacity)
    }

    /// The entity id (drill-down target).
    public var id: String
    public var source: Source
    public var health: HealthState
    /// GPU utilisation for the bar, percent (NaN: none).
    public var utilPct: Double
    /// Class tiers and SLO targets, for the class columns.
    public var catalog: ClassCatalog = .standard

    public var cells: [Cell] {
        switch source {
        case .group(let g): FleetTables.groupCells(g, catalog)
        case .node(let n): FleetTables.nodeCells(n)
        case .gpu(let g, let n, let qualified): FleetTables.gpuCells(g, n, qualified)
        case .triage(let item, let age): FleetTables.triageCells(item, age: age)
        case .country(let c): FleetTables.countryCells(c)
        }
    }
}

/// A table as both the TUI and `snapshot --format table` show it.
public struct TableModel: Sendable, Equatable {
    public var kind: RowKind
    public var columns: [Column]
    public var rows: [TableRow]

    /// Columns that fit `width`, with their widths settled: fixed columns first, flexible
    /// ones share what is left.
    public func layout(width: Int) -> [(index: Int, column: Column)] {
        var visible = columns.enumerated().filter { $0.element.minScreenWidth <= width }.map { ($0.offset, $0.element) }
        func used() -> Int { visible.reduce(0) { $0 + $1.1.width } + max(0, visible.count - 1) }
        // Drop optional columns from the right while they do not fit.
        while used() > width, let drop = visible.lastIndex(where: { $0.1.minScreenWidth > 0 }) {
            visible.remove(at: drop)
        }
        let flex = visible.indices.filter { visible[$0].1.flexible }
        var spare = width - used()
        if spare > 0 && !flex.isEmpty {
            // Flexible columns grow to their maxWidth, in order; what is left stays blank.
            for i in flex {
                let grow = min(spare, max(0, visible[i].1.maxWidth - visible[i].1.width))
                visible[i].1.width += grow
                spare -= grow
            }
        }
        return visible
    }

    /// Renders as text lines (header first) at `width` columns; with `color`, cells carry ANSI
    /// colours from the theme (for a terminal; never in a pipe or under NO_COLOR).
    public func textLines(width: Int, ascii: Bool = false, color: Bool = false) -> [String] {
        let cols = layout(width: width)
        func line(_ cells: [Cell]) -> String {
            var parts: [String] = []
            for c in cols {
                let cell = cells[c.index]
                let text = TextWidth.pad(cell.text, c.column.width, right: c.column.rightAligned, ascii: ascii)
                parts.append(color ? Theme.standard.ansi(text, cell.tone) : text)
            }
            var s = parts.joined(separator: " ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        var out = [line(columns.map { Cell($0.title) })]
        for r in rows { out.append(line(r.cells)) }
        return out
    }
}
