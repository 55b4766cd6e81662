/// Display-safe text: what reaches a terminal or a table is never raw source data.
public enum TextWidth {
    /// Replaces control characters (C0, DEL, C1), and so every escape sequence's introducer,
    /// with `?`, and drops bidi overrides. Label text from a source is data; it must not move
    /// the cursor or recolour the screen.
    public static func sanitize(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var changed = false
        for u in s.unicodeScalars {
            let v = u.value
            if v < 0x20 || v == 0x7F || (v >= 0x80 && v < 0xA0) {
                out.append("?"); changed = true
            } else if (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) {
                changed = true
            } else {
                out.append(u)
            }
        }
        return changed ? String(out) : s
    }

    /// Terminal cells a scalar takes: 0 for combining marks and zero-width characters, 2 for
    /// East Asian wide/fullwidth characters and emoji, 1 otherwise.
    public static func width(of u: Unicode.Scalar) -> Int {
        let v = u.value
        if v == 0 { return 0 }
        if (0x0300...0x036F).contains(v) || (0x200B...0x200F).contains(v) || (0xFE00...0xFE0F).contains(v)
            || (0x1AB0...0x1AFF).contains(v) || (0x20D0...0x20FF).contains(v) || v == 0x200D {
            return 0
        }
        if (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
            || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
            || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
            || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v)
            || (0x1F900...0x1F9FF).contains(v) || (0x1F680...0x1F6FF).contains(v) || (0x20000...0x3FFFD).contains(v) {
            return 2
        }
        return 1
    }

    /// Display width of a string in terminal cells.
    public static func width(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + width(of: $1) }
    }

    /// Sanitizes and cuts `s` to at most `cells` terminal cells, marking a cut with `…`
    /// (or `~` when `ascii`). Never splits a wide character.
    public static func fit(_ s: String, _ cells: Int, ascii: Bool = false) -> String {
        guard cells > 0 else { return "" }
        let clean = sanitize(s)
        if width(clean) <= cells { return clean }
        var out = String.UnicodeScalarView()
        var used = 0
        for u in clean.unicodeScalars {
            let w = width(of: u)
            if used + w > cells - 1 { break }
            out.append(u)
            used += w
        }
        return String(out) + (ascii ? "~" : "…")
    }

    /// `fit`, then padded with spaces to exactly `cells`, left or right aligned.
    public static func pad(_ s: String, _ cells: Int, right: Bool = false, ascii: Bool = false) -> String {
        let f = fit(s, cells, ascii: ascii)
        let gap = String(repeating: " ", count: max(0, cells - width(f)))
        return right ? gap + f : f + gap
    }
}
