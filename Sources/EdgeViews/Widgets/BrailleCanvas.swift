import EdgeCore

/// A dot canvas over a box of cells: 2×4 Braille dots a cell (U+2800 block), each cell with
/// its own tone (the last one set wins). Charts and the world map draw on it.
public struct BrailleCanvas {
    public let width: Int
    public let height: Int
    private var bits: [UInt8]
    private var tones: [Tone?]

    public var dotsX: Int { width * 2 }
    public var dotsY: Int { height * 4 }

    public init(width: Int, height: Int) {
        self.width = max(0, width); self.height = max(0, height)
        bits = [UInt8](repeating: 0, count: self.width * self.height)
        tones = [Tone?](repeating: nil, count: self.width * self.height)
    }

    /// Bit of the dot in column `c` (0…1) and row `r` (0…3, from the top) of a cell.
    private static let dotBits: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]

    /// Sets the dot at (`dx`, `dy`), `dy` counted from the top; outside the canvas it is ignored.
    public mutating func set(_ dx: Int, _ dy: Int, tone: Tone? = nil) {
        guard dx >= 0, dy >= 0, dx < dotsX, dy < dotsY else { return }
        let i = (dy / 4) * width + dx / 2
        bits[i] |= Self.dotBits[dx % 2][dy % 4]
        if let tone { tones[i] = tone }
    }

    /// Whether any dot of cell (`cx`, `cy`) is set.
    public func isSet(cell cx: Int, _ cy: Int) -> Bool { bits[cy * width + cx] != 0 }

    /// Draws the set cells into `g` at (x, y); cells with no tone of their own get `tone`.
    public func draw(into g: inout CellGrid, x: Int, y: Int, tone: Tone, bold: Bool = false) {
        for cy in 0..<height {
            for cx in 0..<width where bits[cy * width + cx] != 0 {
                g.fill(Unicode.Scalar(0x2800 + UInt32(bits[cy * width + cx]))!, x: x + cx, y: y + cy, count: 1,
                       style: CellStyle(tones[cy * width + cx] ?? tone, bold: bold))
            }
        }
    }
}
