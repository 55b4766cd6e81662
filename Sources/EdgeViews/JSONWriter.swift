import EdgeCore

/// A small JSON writer: numbers stay numbers (non-finite ones become `null`), strings are
/// escaped per RFC 8259, so hostile label text cannot break the document.
struct JSONWriter {
    private(set) var out = ""

    mutating func raw(_ s: String) { out += s }

    mutating func string(_ s: String) { JSONString.append(s, to: &out) }

    mutating func number(_ v: Double) {
        guard v.isFinite else { out += "null"; return }
        if v == v.rounded() && abs(v) < 1e15 { out += String(Int64(v)) } else {
            // Three decimals is sub-microsecond for milliseconds; enough for every figure here.
            out += String((v * 1000).rounded() / 1000)
        }
    }

    mutating func number<I: BinaryInteger>(_ v: I) { out += String(v) }

    /// A string, or `null` without one.
    mutating func string(_ s: String?) { if let s { string(s) } else { out += "null" } }

    /// A number, or `null` without one (or when not finite).
    mutating func number(_ v: Double?) { number(v ?? .nan) }

    /// Writes `{"k":v,...}` where each closure writes one value.
    mutating func object(_ fields: [(String, (inout JSONWriter) -> Void)]) {
        out += "{"
        for (i, f) in fields.enumerated() {
            if i > 0 { out += "," }
            string(f.0)
            out += ":"
            f.1(&self)
        }
        out += "}"
    }

    mutating func array<T>(_ items: [T], _ write: (inout JSONWriter, T) -> Void) {
        out += "["
        for (i, item) in items.enumerated() {
            if i > 0 { out += "," }
            write(&self, item)
        }
        out += "]"
    }
}
