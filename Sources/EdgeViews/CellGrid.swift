/// How one cell looks: a tone (colour) plus attributes that work without colour.
public struct CellStyle: Sendable, Hashable {
    public var tone: Tone
    public var bold: Bool
    public var reverse: Bool

    public init(_ tone: Tone = .plain, bold: Bool = false, reverse: Bool = false) {
        self.tone = tone; self.bold = bold; self.reverse = reverse
    }

    public static let plain = CellStyle()
}

/// A screen in memory: the UI draws here, tests read it as text, and the terminal backend
/// writes only the cells that differ from the previous grid.
public struct CellGrid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// One scalar per cell; a wide character's second cell holds `CellGrid.continuation`.
    public private(set) var scalars: [Unicode.Scalar]
    public private(set) var styles: [CellStyle]

    /// Marks the right half of a double-width character.
    public static let continuation: Unicode.Scalar = "\u{0}"

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        scalars = Array(repeating: " ", count: self.width * self.height)
        styles = Array(repeating: .plain, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> (scalar: Unicode.Scalar, style: CellStyle) {
        let i = y * width + x
        return (scalars[i], styles[i])
    }

    /// Writes `text` at (x, y), sanitised, clipped to `maxWidth` cells (and the grid edge).
    /// Returns the number of cells written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: CellStyle = .plain, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let limit = min(width - max(0, x), maxWidth ?? Int.max)
        var cx = x
        for u in TextWidth.sanitize(text).unicodeScalars {
            let w = TextWidth.width(of: u)
            if w == 0 { continue }  // combining marks: dropped rather than mis-measured
            if cx - x + w > limit { break }
            if cx >= 0 {
                scalars[y * width + cx] = u
                styles[y * width + cx] = style
                if w == 2 {
                    scalars[y * width + cx + 1] = CellGrid.continuation
                    styles[y * width + cx + 1] = style
                }
            }
            cx += w
        }
        return cx - x
    }

    /// Fills a run of cells with one scalar.
    public mutating func fill(_ scalar: Unicode.Scalar = " ", x: Int, y: Int, count: Int, style: CellStyle = .plain) {
        guard y >= 0, y < height else { return }
        for cx in max(0, x)..<min(width, x + count) {
            scalars[y * width + cx] = scalar
            styles[y * width + cx] = style
        }
    }

    /// Draws a box outline with its corners at (x, y) and (x + width − 1, y + height − 1), in
    /// line-drawing characters or, with `ascii`, `-`, `|` and `+`; `clear` blanks its inside
    /// first (an overlay).
    public mutating func box(x: Int, y: Int, width w: Int, height h: Int, style: CellStyle, ascii: Bool, clear: Bool = false) {
        guard w >= 2, h >= 2 else { return }
        let (hz, vt, tl, tr, bl, br): (Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar) =
            ascii ? ("-", "|", "+", "+", "+", "+") : ("─", "│", "┌", "┐", "└", "┘")
        if clear { for row in y..<(y + h) { fill(x: x, y: row, count: w) } }
        fill(hz, x: x + 1, y: y, count: w - 2, style: style)
        fill(hz, x: x + 1, y: y + h - 1, count: w - 2, style: style)
        for row in (y + 1)..<(y + h - 1) {
            fill(vt, x: x, y: row, count: 1, style: style)
            fill(vt, x: x + w - 1, y: row, count: 1, style: style)
        }
        fill(tl, x: x, y: y, count: 1, style: style); fill(tr, x: x + w - 1, y: y, count: 1, style: style)
        fill(bl, x: x, y: y + h - 1, count: 1, style: style); fill(br, x: x + w - 1, y: y + h - 1, count: 1, style: style)
    }

    /// Re-styles a run of cells, keeping their characters (selection highlight).
    public mutating func restyle(x: Int, y: Int, count: Int, _ change: (inout CellStyle) -> Void) {
        guard y >= 0, y < height else { return }
        for cx in max(0, x)..<min(width, x + count) { change(&styles[y * width + cx]) }
    }

    /// The screen as lines of text (trailing spaces kept so every line is `width` cells).
    public func lines() -> [String] {
        (0..<height).map { y in
            var s = String.UnicodeScalarView()
            for x in 0..<width where scalars[y * width + x] != CellGrid.continuation { s.append(scalars[y * width + x]) }
            return String(s)
        }
    }

    /// The screen as one string, trailing spaces trimmed per line (what golden files hold).
    public var text: String {
        lines().map { line in
            var l = line
            while l.hasSuffix(" ") { l.removeLast() }
            return l
        }.joined(separator: "\n") + "\n"
    }
}
