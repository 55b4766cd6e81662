/// What the interactive view needs from a terminal. The curses backend is one; tests use an
/// in-memory one.
public protocol TerminalBackend: AnyObject {
    /// Current size in cells (re-read after a resize).
    var size: (width: Int, height: Int) { get }
    /// Shows `grid`, writing only what changed since the last call.
    func draw(_ grid: CellGrid)
    /// Waits up to `timeoutMs` for a key; nil on timeout.
    func readKey(timeoutMs: Int) -> Key?
}

extension CellGrid {
    /// Indices of the cells that differ from `previous` (all of them when the size differs).
    public func changedCells(since previous: CellGrid?) -> [Int] {
        guard let previous, previous.width == width, previous.height == height else {
            return Array(0..<(width * height))
        }
        var out: [Int] = []
        for i in 0..<(width * height) where scalars[i] != previous.scalars[i] || styles[i] != previous.styles[i] {
            out.append(i)
        }
        return out
    }

    /// The bytes an ANSI terminal needs to go from `previous` to this grid: a cursor move per
    /// run of changed cells, an SGR sequence per change of style, the characters. The curses
    /// backend writes through ncurses; this encoding measures what a diffed frame costs.
    public func ansiUpdate(from previous: CellGrid?) -> [UInt8] {
        var out: [UInt8] = []
        var cursor = -1
        var style: CellStyle?
        for i in changedCells(since: previous) {
            let s = scalars[i]
            if s == CellGrid.continuation { continue }
            if i != cursor {
                out += Array("\u{1B}[\(i / width + 1);\(i % width + 1)H".utf8)
            }
            if style != styles[i] {
                let st = styles[i]
                var sgr = "0"
                if st.bold { sgr += ";1" }
                if st.reverse { sgr += ";7" }
                sgr += ";\(30 + Int(st.tone.rawValue % 8))"
                out += Array("\u{1B}[\(sgr)m".utf8)
                style = st
            }
            out += Array(String(Character(s)).utf8)
            cursor = i + TextWidth.width(of: s)
        }
        return out
    }
}
