/// Byte-level scanning of a sample line: names, labels and numbers are ASCII, so the hot path
/// never builds `Character`s; only names and label values become Strings.
struct Scanner {
    let bytes: ArraySlice<UInt8>
    var i: Int

    init(_ line: ArraySlice<UInt8>) { bytes = line; i = line.startIndex }

    var atEnd: Bool { i >= bytes.endIndex }
    var peek: UInt8? { i < bytes.endIndex ? bytes[i] : nil }
    mutating func advance() { i += 1 }

    mutating func take(_ c: UInt8) -> Bool {
        if peek == c { i += 1; return true }
        return false
    }

    static let space = UInt8(ascii: " "), quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
    static let open = UInt8(ascii: "{"), close = UInt8(ascii: "}"), comma = UInt8(ascii: ","), equals = UInt8(ascii: "=")
    static let hash = UInt8(ascii: "#")

    mutating func metricName() -> String? {
        metricName(reusing: nil)
    }

    /// The metric name; `previous` itself when the bytes spell it (consecutive samples of a
    /// family share a name, and most names are too long for Swift's inline strings).
    mutating func metricName(reusing previous: String?) -> String? {
        let start = i
        while let c = peek, Names.isNameByte(c, first: i == start, colon: true) { i += 1 }
        guard i > start else { return nil }
        if let previous, previous.utf8.elementsEqual(bytes[start..<i]) { return previous }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// Up to the next space (or the end).
    mutating func token() -> String? {
        let start = i
        while let c = peek, c != Scanner.space { i += 1 }
        return i > start ? String(decoding: bytes[start..<i], as: UTF8.self) : nil
    }

    struct Failure: Error { var reason: String }

    mutating func skipSpaces(_ om: Bool) { if !om { while peek == Scanner.space { i += 1 } } }

    /// `{name="value",...}`. OpenMetrics forbids a trailing comma; text 0.0.4 allows it.
    mutating func labels(openMetrics om: Bool) -> Result<[Label], Failure> {
        guard take(Scanner.open) else { return .failure(Failure(reason: "expected {")) }
        var out: [Label] = []
        if take(Scanner.close) { return .success(out) }
        while true {
            skipSpaces(om)
            let start = i
            while let c = peek, Names.isNameByte(c, first: i == start, colon: false) { i += 1 }
            guard i > start else { return .failure(Failure(reason: "invalid label name")) }
            let name = String(decoding: bytes[start..<i], as: UTF8.self)
            skipSpaces(om)
            guard take(Scanner.equals) else { return .failure(Failure(reason: "expected = after label \(name)")) }
            skipSpaces(om)
            guard take(Scanner.quote) else { return .failure(Failure(reason: "label value of \(name) must be quoted")) }
            var value: [UInt8] = []
            var closed = false
            let valueStart = i
            var plain = true  // no escapes: the value is one slice
            while let c = peek {
                i += 1
                if c == Scanner.quote { closed = true; break }
                if c == Scanner.backslash {
                    if plain { value.append(contentsOf: bytes[valueStart..<(i - 1)]); plain = false }
                    guard let e = peek else { break }
                    i += 1
                    switch e {
                    case Scanner.backslash: value.append(Scanner.backslash)
                    case Scanner.quote: value.append(Scanner.quote)
                    case UInt8(ascii: "n"): value.append(0x0A)
                    default: value.append(Scanner.backslash); value.append(e)  // unknown escapes stay as written
                    }
                } else if !plain {
                    value.append(c)
                }
            }
            guard closed else { return .failure(Failure(reason: "unterminated label value of \(name)")) }
            // Prometheus fails a scrape whose label values are not UTF-8; so do we.
            guard let text = plain ? String(validating: bytes[valueStart..<(i - 1)], as: UTF8.self) : String(validating: value, as: UTF8.self) else {
                return .failure(Failure(reason: "label value of \(name) is not valid UTF-8"))
            }
            out.append(Label(name, text))
            skipSpaces(om)
            if take(Scanner.close) { return .success(out) }
            guard take(Scanner.comma) else { return .failure(Failure(reason: "expected , or } after label \(name)")) }
            skipSpaces(om)
            if take(Scanner.close) {
                if om { return .failure(Failure(reason: "trailing comma in labels")) }
                return .success(out)
            }
        }
    }

    /// ` # {labels} value [timestamp]` after a sample (the leading space already taken).
    mutating func exemplar() -> Result<Exemplar, Failure> {
        guard take(Scanner.hash), take(Scanner.space), peek == Scanner.open else { return .failure(Failure(reason: "invalid exemplar")) }
        let labels: [Label]
        switch self.labels(openMetrics: true) {
        case .success(let l): labels = l
        case .failure(let e): return .failure(Failure(reason: "exemplar: \(e.reason)"))
        }
        let runes = labels.reduce(0) { $0 + $1.name.unicodeScalars.count + $1.value.unicodeScalars.count }
        guard runes <= 128 else { return .failure(Failure(reason: "exemplar labels longer than 128 characters")) }
        guard take(Scanner.space), let v = token(), let value = Numbers.parse(v, openMetrics: true) else {
            return .failure(Failure(reason: "exemplar needs a value"))
        }
        var timestamp: Double?
        if take(Scanner.space) {
            guard let t = token(), let ts = Numbers.parse(t, openMetrics: true), ts.isFinite else {
                return .failure(Failure(reason: "invalid exemplar timestamp"))
            }
            timestamp = ts
        }
        guard atEnd else { return .failure(Failure(reason: "unexpected text after the exemplar")) }
        return .success(Exemplar(labels: labels, value: value, timestamp: timestamp))
    }
}

enum Names {
    @inline(__always)
    static func isNameByte(_ a: UInt8, first: Bool, colon: Bool) -> Bool {
        if (a >= 65 && a <= 90) || (a >= 97 && a <= 122) || a == 95 { return true }
        if colon && a == 58 { return true }
        return !first && a >= 48 && a <= 57
    }

    static func isMetricName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.enumerated().allSatisfy { isNameByte($0.element, first: $0.offset == 0, colon: true) }
    }

    /// Suffixes a sample name may add to its family name, per type.
    static func suffixes(_ type: MetricType, openMetrics: Bool) -> [String] {
        switch type {
        case .counter: openMetrics ? ["_total", "_created"] : ["", "_total", "_created"]
        case .histogram: ["_bucket", "_count", "_sum", "_created"]
        case .gaugehistogram: ["_bucket", "_gcount", "_gsum"]
        case .summary: ["", "_count", "_sum", "_created"]
        case .info: ["_info"]
        case .stateset, .gauge, .unknown, .untyped: [""]
        }
    }

    static func derivedNames(of name: String, type: MetricType) -> [String] {
        let all = ["_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info"]
        return (type == .unknown || type == .untyped ? all : suffixes(type, openMetrics: true)).filter { !$0.isEmpty }.map { name + $0 }
    }

    /// The family a sample name belongs to: its own name, or a declared family whose type
    /// allows the suffix it carries.
    static let sampleSuffixes = ["_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info"]

    static func family(of sample: String, known: [String: Int], families: [MetricFamily], openMetrics: Bool) -> String {
        for suffix in sampleSuffixes where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if let i = known[base], suffixes(families[i].type, openMetrics: openMetrics).contains(suffix) { return base }
        }
        return sample
    }
}

enum Numbers {
    /// A sample value or timestamp: decimal floats, `NaN`, `+Inf`/`-Inf` (and `Inf`); never the
    /// hex or underscore forms `Double(_:)` would also accept.
    static func parse(_ s: String, openMetrics: Bool) -> Double? {
        switch s {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default: break
        }
        if !openMetrics {
            switch s.lowercased() {
            case "nan": return .nan
            case "+inf", "inf": return .infinity
            case "-inf": return -.infinity
            default: break
            }
        }
        guard !s.isEmpty, s.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 43 || $0 == 45 || $0 == 101 || $0 == 69 }),
              s.utf8.contains(where: { $0 >= 48 && $0 <= 57 }) else { return nil }
        return Double(s)
    }
}

enum Escapes {
    /// HELP text: `\\` and `\n` (and in OpenMetrics `\"`) are escapes.
    static func unescapeHelp(_ s: String, openMetrics: Bool) -> String {
        guard s.utf8.contains(0x5C) else { return s }  // no backslash: nothing to unescape
        var out = ""
        var escaping = false
        for c in s {
            if escaping {
                switch c {
                case "n": out.append("\n")
                case "\\": out.append("\\")
                case "\"" where openMetrics: out.append("\"")
                default: out.append("\\"); out.append(c)
                }
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else {
                out.append(c)
            }
        }
        if escaping { out.append("\\") }
        return out
    }
}
