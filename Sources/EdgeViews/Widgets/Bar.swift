extension Screen {
    /// A horizontal bar for a fraction 0…1, with eighth-cell precision in UTF-8.
    static func bar(_ g: inout CellGrid, x: Int, y: Int, width: Int, fraction: Double, ascii: Bool) {
        guard fraction.isFinite, width > 0 else { return }
        let f = min(1, max(0, fraction))
        let eighths = Int((f * Double(width * 8)).rounded())
        let tone: Tone = f >= 0.95 ? .degraded : .healthy
        if ascii {
            g.put(String(repeating: "#", count: eighths / 8), x: x, y: y, style: CellStyle(tone))
            return
        }
        let partial: [Unicode.Scalar] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var s = String(repeating: "█", count: eighths / 8)
        if eighths % 8 > 0 { s.unicodeScalars.append(partial[eighths % 8]) }
        g.put(s, x: x, y: y, style: CellStyle(tone))
    }
}
