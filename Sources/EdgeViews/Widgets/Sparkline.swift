import EdgeCore

/// A one-row sparkline: one value per cell as an eighth-block bar (`▁`…`█`), or `_.-=*#` in
/// ASCII. Missing values (NaN) are blank, so a gap in the data is a gap on screen.
public enum Sparkline {
    static let blocks: [Unicode.Scalar] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let asciiLevels: [Unicode.Scalar] = ["_", ".", "-", "=", "*", "#"]

    /// Draws `values` (already one per cell) at (x, y), scaled from 80 % of their lowest to
    /// their highest (a trend reads as a slope; a flat line stays low and even), each cell's
    /// tone from `tone(value)`.
    public static func draw(_ g: inout CellGrid, x: Int, y: Int, values: [Double], ascii: Bool,
                            tone: (Double) -> Tone) {
        let levels = ascii ? asciiLevels : blocks
        let finite = values.filter(\.isFinite)
        guard let hi = finite.max(), let lo0 = finite.min() else { return }
        let lo = lo0 * 0.8
        for (i, v) in values.enumerated() where v.isFinite {
            let f = hi > lo ? min(1, max(0, (v - lo) / (hi - lo))) : 0.5
            let level = v <= 0 ? 0 : max(0, min(levels.count - 1, Int((f * Double(levels.count)).rounded(.up)) - 1))
            g.fill(levels[level], x: x + i, y: y, count: 1, style: CellStyle(tone(v)))
        }
    }

    /// `values` reduced to `cells` buckets (the newest at the right): each bucket is the worst
    /// (`max`) or the mean of its steps; buckets without data are NaN.
    public static func buckets(_ values: [Double], cells: Int, worst: Bool) -> [Double] {
        guard cells > 0, !values.isEmpty else { return [] }
        var out = [Double](repeating: .nan, count: cells)
        let per = Double(values.count) / Double(cells)
        for c in 0..<cells {
            let lo = Int((Double(c) * per).rounded(.down)), hi = max(lo + 1, Int((Double(c + 1) * per).rounded(.down)))
            var acc = worst ? -Double.infinity : 0, n = 0
            for v in values[min(lo, values.count - 1)..<min(hi, values.count)] where v.isFinite {
                if worst { acc = max(acc, v) } else { acc += v }
                n += 1
            }
            if n > 0 { out[c] = worst ? acc : acc / Double(n) }
        }
        return out
    }
}
