/// JSON string literals per RFC 8259, for every writer of JSON (snapshots, recordings): quotes,
/// backslashes and control characters escaped, and U+2028/U+2029 too (JavaScript reads those
/// as line ends), so hostile label text cannot break a document.
public enum JSONString {
    /// Appends `s` as a quoted JSON string to `out`.
    public static func append(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F || (0x2028...0x2029).contains(u.value) {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    /// `s` as a quoted JSON string.
    public static func quote(_ s: String) -> String {
        var out = ""
        append(s, to: &out)
        return out
    }
}
