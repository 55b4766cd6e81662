/// Character-level pieces of the exposition formats.
struct Scanner {
    let chars: [Character]
    var i = 0

    init(_ s: Substring) { chars = Array(s) }

    var atEnd: Bool { i >= chars.count }
    var peek: Character? { i < chars.count ? chars[i] : nil }
    mutating func advance() { i += 1 }

    mutating func take(_ c: Character) -> Bool {
        if peek == c { i += 1; return true }
        return false
    }

    mutating func metricName() -> String? {
        let start = i
        while let c = peek, Names.isNameChar(c, first: i == start, colon: true) { i += 1 }
        return i > start ? String(chars[start..<i]) : nil
    }

    /// Up to the next space (or the end).
    mutating func token() -> String? {
        let start = i
        while let c = peek, c != " " { i += 1 }
        return i > start ? String(chars[start..<i]) : nil
    }

    struct Failure: Error { var reason: String }

    /// `{name="value",...}`. OpenMetrics forbids a trailing comma; text 0.0.4 allows it.
    mutating func labels(openMetrics om: Bool) -> Result<[Label], Failure> {
        guard take("{") else { return .failure(Failure(reason: "expected {")) }
        var out: [Label] = []
        if take("}") { return .success(out) }
        while true {
            if !om { while peek == " " { i += 1 } }
            let start = i
            while let c = peek, Names.isNameChar(c, first: i == start, colon: false) { i += 1 }
            guard i > start else { return .failure(Failure(reason: "invalid label name")) }
            let name = String(chars[start..<i])
            if !om { while peek == " " { i += 1 } }
            guard take("=") else { return .failure(Failure(reason: "expected = after label \(name)")) }
            if !om { while peek == " " { i += 1 } }
            guard take("\"") else { return .failure(Failure(reason: "label value of \(name) must be quoted")) }
            var value = ""
            var closed = false
            while let c = peek {
                i += 1
                if c == "\"" { closed = true; break }
                if c == "\\" {
                    guard let e = peek else { break }
                    i += 1
                    switch e {
                    case "\\": value.append("\\")
                    case "\"": value.append("\"")
                    case "n": value.append("\n")
                    default:  // unknown escapes stay as written, in both formats
                        value.append("\\"); value.append(e)
                    }
                } else if c == "\n" {
                    return .failure(Failure(reason: "newline in label value"))
                } else {
                    value.append(c)
                }
            }
            guard closed else { return .failure(Failure(reason: "unterminated label value of \(name)")) }
            out.append(Label(name, value))
            if !om { while peek == " " { i += 1 } }
            if take("}") { return .success(out) }
            guard take(",") else { return .failure(Failure(reason: "expected , or } after label \(name)")) }
            if !om { while peek == " " { i += 1 } }
            if take("}") {
                if om { return .failure(Failure(reason: "trailing comma in labels")) }
                return .success(out)
            }
        }
    }

    /// ` # {labels} value [timestamp]` after a sample (the leading space already taken).
    mutating func exemplar() -> Result<Exemplar, Failure> {
        guard take("#"), take(" "), peek == "{" else { return .failure(Failure(reason: "invalid exemplar")) }
        let labels: [Label]
        switch self.labels(openMetrics: true) {
        case .success(let l): labels = l
        case .failure(let e): return .failure(Failure(reason: "exemplar: \(e.reason)"))
        }
        let runes = labels.reduce(0) { $0 + $1.name.unicodeScalars.count + $1.value.unicodeScalars.count }
        guard runes <= 128 else { return .failure(Failure(reason: "exemplar labels longer than 128 characters")) }
        guard take(" "), let v = token(), let value = Numbers.parse(v, openMetrics: true) else {
            return .failure(Failure(reason: "exemplar needs a value"))
        }
        var timestamp: Double?
        if take(" ") {
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
    static func isNameChar(_ c: Character, first: Bool, colon: Bool) -> Bool {
        guard let a = c.asciiValue else { return false }
        if (a >= 65 && a <= 90) || (a >= 97 && a <= 122) || a == 95 { return true }
        if colon && a == 58 { return true }
        return !first && a >= 48 && a <= 57
    }

    static func isMetricName(_ s: String) -> Bool {
        !s.isEmpty && s.enumerated().allSatisfy { isNameChar($0.element, first: $0.offset == 0, colon: true) }
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
    static func family(of sample: String, known: [String: Int], families: [MetricFamily], openMetrics: Bool) -> String {
        for suffix in ["_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info"] where sample.hasSuffix(suffix) {
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
        guard s.contains("\\") else { return s }
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
