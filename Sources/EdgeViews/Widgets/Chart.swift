import EdgeCore
import Foundation

/// A line chart in a box of cells, drawn with Braille dots (2×4 per cell) or, in ASCII, one
/// `*` per cell: a title row, y-axis labels on the left, the time axis at the bottom.
/// Each dot column is the worst (`max`) or mean of the steps it covers.
public struct Chart {
    public var title: String
    public var values: [Double]
    /// Seconds the values span (for the time axis labels).
    public var spanSeconds: Double
    public var worst: Bool
    /// Formats an axis value ("120", "4.5k").
    public var format: (Double) -> String
    public var tone: (Double) -> Tone
    /// A fixed top of the scale (percent charts), or nil to fit the data.
    public var fixedTop: Double?

    public init(title: String, values: [Double], spanSeconds: Double, worst: Bool = false, fixedTop: Double? = nil,
                format: @escaping (Double) -> String, tone: @escaping (Double) -> Tone = { _ in .accent }) {
        self.title = title; self.values = values; self.spanSeconds = spanSeconds; self.worst = worst
        self.fixedTop = fixedTop; self.format = format; self.tone = tone
    }

    static let axisWidth = 6

    /// Draws the chart in the `width`×`height` box at (x, y); needs at least 16×4.
    public func draw(_ g: inout CellGrid, x: Int, y: Int, width: Int, height: Int, ascii: Bool) {
        guard width >= 16, height >= 4 else { return }
        let plotW = width - Self.axisWidth - 1, plotH = height - 2
        let dotsX = ascii ? plotW : plotW * 2, dotsY = ascii ? plotH : plotH * 4
        let columns = Sparkline.buckets(values, cells: dotsX, worst: worst)
        let finite = columns.filter(\.isFinite)
        // "now" is the newest step with data among the last few (a quiet second is not news).
        let latest = values.suffix(10).last(where: \.isFinite)
        let head = "\(title)  now \(latest.map(format) ?? "-")"
        g.put(head, x: x, y: y, style: CellStyle(.plain, bold: true), maxWidth: width)
        let top = fixedTop ?? Self.niceTop(finite.max() ?? 0)
        // Y axis: top and zero.
        g.put(TextWidth.pad(format(top), Self.axisWidth - 1, right: true), x: x, y: y + 1, style: CellStyle(.dim))
        g.put(TextWidth.pad("0", Self.axisWidth - 1, right: true), x: x, y: y + plotH, style: CellStyle(.dim))
        let axis: Unicode.Scalar = ascii ? "|" : "│"
        for row in 0..<plotH { g.fill(axis, x: x + Self.axisWidth - 1, y: y + 1 + row, count: 1, style: CellStyle(.dim)) }
        let px = x + Self.axisWidth
        if finite.isEmpty {
            g.put("no data yet", x: px + max(0, plotW / 2 - 5), y: y + 1 + plotH / 2, style: CellStyle(.dim))
        } else if ascii {
            for (c, v) in columns.enumerated() where v.isFinite {
                let level = top > 0 ? Int((min(1, max(0, v / top)) * Double(plotH - 1)).rounded()) : 0
                g.fill("*", x: px + c, y: y + plotH - level, count: 1, style: CellStyle(tone(v)))
            }
        } else {
            var canvas = BrailleCanvas(width: plotW, height: plotH)
            for (d, v) in columns.enumerated() where v.isFinite {
                let level = top > 0 ? Int((min(1, max(0, v / top)) * Double(dotsY - 1)).rounded()) : 0
                // Fill from the value down to the axis, so the area reads at a glance.
                for dot in 0...level { canvas.set(d, dotsY - 1 - dot, tone: tone(v)) }
            }
            canvas.draw(into: &g, x: px, y: y + 1, tone: .accent)
        }
        // Time axis: the span's start, its middle and now.
        let left = "-" + Self.duration(spanSeconds), mid = "-" + Self.duration(spanSeconds / 2), right = "now"
        let ay = y + height - 1
        g.put(left, x: px, y: ay, style: CellStyle(.dim))
        g.put(mid, x: px + plotW / 2 - TextWidth.width(mid) / 2, y: ay, style: CellStyle(.dim))
        g.put(right, x: px + plotW - 3, y: ay, style: CellStyle(.dim))
    }

    /// 1, 2 or 5 times a power of ten at or above `v` (a readable top of scale).
    static func niceTop(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let p = pow10(floor(log10(v)))
        for m in [1.0, 2, 5, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    static func pow10(_ e: Double) -> Double {
        var r = 1.0
        if e >= 0 { for _ in 0..<Int(e) { r *= 10 } } else { for _ in 0..<Int(-e) { r /= 10 } }
        return r
    }

    static func duration(_ s: Double) -> String {
        if s >= 3600 { return "\(Int((s / 3600).rounded()))h" }
        if s >= 60 { return "\(Int((s / 60).rounded()))m" }
        return "\(Int(s.rounded()))s"
    }
}
