/// Text from the outside world (a label, a metric line, a body excerpt) made safe for one line
/// of a message or a terminal cell: control characters, line and paragraph separators and
/// other invisible format characters become visible escapes (`\n`, `\r`, `\t`, `\u{1B}`).
public enum PrintableText {
    public static func line(_ s: some StringProtocol) -> String {
        // Nearly every message is plain: return it untouched without building a new string.
        if !s.unicodeScalars.contains(where: needsEscape) { return String(s) }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for c in s.unicodeScalars {
            guard needsEscape(c) else { out.unicodeScalars.append(c); continue }
            switch c {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{\(String(c.value, radix: 16, uppercase: true))}"
            }
        }
        return out
    }

    @inline(__always)
    static func needsEscape(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x20 || v == 0x7F { return true }
        if v < 0x80 { return false }
        return (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029 || v == 0xFEFF || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }
}

/// Prometheus text and OpenMetrics label values: backslash, double quote and newline escaped.
public enum ExpositionText {
    public static func escapeLabelValue(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
