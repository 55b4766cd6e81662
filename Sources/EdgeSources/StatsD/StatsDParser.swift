import EdgeCore
/// One StatsD / DogStatsD metric line.
public struct StatsDMetric: Sendable, Equatable {
    public enum Kind: String, Sendable { case counter = "c", gauge = "g", timer = "ms", histogram = "h", distribution = "d", set = "s" }
    public var name: String
    public var kind: Kind
    /// One value, or several (DogStatsD 1.1 `name:1:2:3|d`). Sets keep 0 here.
    public var values: [Double]
    /// A gauge written `+5` or `-5` changes the current value instead of setting it.
    public var relative: Bool
    /// From `@rate`: each received value stands for 1/rate observations.
    public var sampleRate: Double
    public var tags: [String: String]
    /// DogStatsD 1.3 `|T<unix seconds>`.
    public var timestamp: Double?

    /// How many observations each value stands for.
    public var weight: UInt32 {
        guard sampleRate > 0, sampleRate < 1 else { return 1 }
        return UInt32(min(1_000_000, (1 / sampleRate).rounded()))
    }
}

/// What a line was: a metric, or a DogStatsD event / service check (valid, not charted).
public enum StatsDLine: Sendable, Equatable {
    case metric(StatsDMetric)
    case event
    case serviceCheck
}

/// Parses StatsD lines with the DogStatsD extensions (tags, `|c:` container, `|T` timestamp,
/// multi-value packets, events, service checks) and the tag-in-name styles statsd_exporter
/// accepts (InfluxDB `name,t=v`, Librato `name#t=v`, SignalFx `name.[t=v]rest`). A datagram
/// holds lines separated by newlines; a bad line never costs its neighbours.
public enum StatsDParser {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        /// Quoted input in `reason` is made printable: a reason is one line.
        public init(reason: String) { self.reason = PrintableText.line(reason) }
        public var description: String { reason }
    }

    /// Every line of a datagram, each parsed on its own.
    public static func parse(datagram bytes: [UInt8]) -> [Result<StatsDLine, Failure>] {
        var out: [Result<StatsDLine, Failure>] = []
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
            let line = bytes[start..<i]
            start = i + 1
            if line.isEmpty || (line.count == 1 && line.first == 0x0D) { continue }
            guard let text = String(validating: line, as: UTF8.self) else {
                out.append(.failure(Failure(reason: "not UTF-8")))
                continue
            }
            for single in expandEtsy(text) { out.append(parse(line: single)) }
        }
        return out
    }

    /// The original StatsD allowed several `value|type` records after one name
    /// (`name:1|c:2|ms`); DogStatsD uses `:` between values of one type instead
    /// (`name:1:2|d`) and inside tags. Several pieces with a type, and no DogStatsD
    /// components, means the old form: one line per record.
    static func expandEtsy(_ line: String) -> [String] {
        // The common case, one ':' in the line, is settled without building substrings.
        var colons = 0
        for b in line.utf8 where b == UInt8(ascii: ":") { colons += 1; if colons > 1 { break } }
        guard colons > 1, !line.hasPrefix("_"), let colon = line.firstIndex(of: ":"), !line.contains("|#") else { return [line] }
        let pieces = line[line.index(after: colon)...].split(separator: ":", omittingEmptySubsequences: false)
        // Each piece must be exactly `value|type[|@rate][|]`.
        func isRecord(_ p: Substring) -> Bool {
            let c = p.split(separator: "|", omittingEmptySubsequences: false)
            guard c.count >= 2, c.count <= 4, StatsDMetric.Kind(rawValue: String(c[1])) != nil else { return false }
            return c.dropFirst(2).allSatisfy { $0.isEmpty || $0.hasPrefix("@") }
        }
        guard pieces.count > 1, pieces.allSatisfy(isRecord) else { return [line] }
        let name = line[..<colon]
        return pieces.map { "\(name):\($0)" }
    }

    public static func parse(line bytes: [UInt8]) -> Result<StatsDLine, Failure> {
        guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(Failure(reason: "not UTF-8")) }
        return parse(line: text)
    }

    public static func parse(line raw: String) -> Result<StatsDLine, Failure> {
        var line = Substring(raw)
        if line.hasSuffix("\r") { line = line.dropLast() }
        if line.isEmpty { return .failure(Failure(reason: "empty line")) }
        if line.hasPrefix("_e") { return event(line) }
        if line.hasPrefix("_sc") { return serviceCheck(line) }
        guard let colon = line.firstIndex(of: ":") else { return .failure(Failure(reason: "no ':' after the name")) }
        let (name, nameTags, nameTagged) = nameAndTags(line[..<colon])
        var tags = nameTags
        guard !name.isEmpty else { return .failure(Failure(reason: "empty metric name")) }
        let parts = line[line.index(after: colon)...].split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return .failure(Failure(reason: "no '|type'")) }
        guard let kind = StatsDMetric.Kind(rawValue: String(parts[1])) else {
            return .failure(Failure(reason: "unknown type \"\(parts[1].prefix(8))\""))
        }
        var rate = 1.0
        var timestamp: Double?
        var sawContainer = false
        for (i, part) in parts.dropFirst(2).enumerated() {
            if part.isEmpty {
                if i == parts.count - 3 { continue }  // a trailing '|' is tolerated
                return .failure(Failure(reason: "empty component"))
            }
            switch part.first {
            case "@":
                if let r = Double(part.dropFirst()), r > 0, r <= 1 { rate = r }  // unusable rates are ignored
            case "#":
                if nameTagged { return .failure(Failure(reason: "tags in the name and DogStatsD tags together")) }
                for t in part.dropFirst().split(separator: ",") {
                    let tag = t.hasPrefix("#") ? t.dropFirst() : t
                    guard let c = tag.firstIndex(of: ":") else { continue }  // a bare tag has no value
                    let k = String(tag[..<c]), v = String(tag[tag.index(after: c)...])
                    if !k.isEmpty { tags[k] = v }
                }
            case "c" where part.hasPrefix("c:"):
                let id = part.dropFirst(2)
                guard !id.isEmpty, !sawContainer else { return .failure(Failure(reason: "malformed container id")) }
                sawContainer = true
                tags["container_id"] = String(id)
            case "T":
                if let t = Double(part.dropFirst()), t > 0 { timestamp = t }
            case "c" where part.hasPrefix("card:"):
                tags["cardinality"] = String(part.dropFirst(5))  // DogStatsD tag cardinality
            default:
                return .failure(Failure(reason: "unknown component \"\(part.prefix(12))\""))
            }
        }
        let valueText = parts[0]
        var values: [Double] = []
        var relative = false
        if kind == .set {
            guard !valueText.isEmpty, !valueText.hasPrefix("+") else { return .failure(Failure(reason: "invalid set value")) }
            values = [0]
        } else {
            let pieces = valueText.split(separator: ":", omittingEmptySubsequences: false)
            if pieces.count > 1 && (![.timer, .histogram, .distribution].contains(kind) || nameTagged) {
                return .failure(Failure(reason: "several values are only for DogStatsD ms, h and d"))
            }
            for p in pieces {
                guard let v = number(p), v.isFinite else { return .failure(Failure(reason: "invalid value \"\(p.prefix(20))\"")) }
                if p.hasPrefix("+") && kind != .gauge { return .failure(Failure(reason: "a + sign is only for gauges")) }
                values.append(v)
            }
            relative = kind == .gauge && (valueText.hasPrefix("+") || valueText.hasPrefix("-"))
        }
        return .success(.metric(StatsDMetric(name: name, kind: kind, values: values, relative: relative,
                                             sampleRate: rate, tags: tags, timestamp: timestamp)))
    }

    /// Digits, one optional sign, a point and an exponent: never hex, `inf` or `nan`.
    static func number(_ s: Substring) -> Double? {
        guard !s.isEmpty, s.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 43 || $0 == 45 || $0 == 101 || $0 == 69 }),
              s.utf8.contains(where: { $0 >= 48 && $0 <= 57 }) else { return nil }
        return Double(s)
    }

    /// Splits tags written into the name (InfluxDB, Librato, SignalFx styles) from the name.
    static func nameAndTags(_ raw: Substring) -> (String, [String: String], Bool) {
        var name = String(raw)
        var tags: [String: String] = [:]
        func addPairs(_ s: Substring) {
            for pair in s.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { tags[String(kv[0])] = String(kv[1]) }
            }
        }
        // SignalFx: one [..] block anywhere in the name.
        if let open = name.firstIndex(of: "["), let close = name[open...].firstIndex(of: "]") {
            addPairs(name[name.index(after: open)..<close])
            name = String(name[..<open]) + String(name[name.index(after: close)...])
            return (name, tags, true)
        }
        if let hash = name.firstIndex(of: "#") {
            addPairs(name[name.index(after: hash)...])
            return (String(name[..<hash]), tags, true)
        }
        if let comma = name.firstIndex(of: ","), name[comma...].contains("=") {
            addPairs(name[name.index(after: comma)...])
            return (String(name[..<comma]), tags, true)
        }
        return (name, tags, false)
    }

    /// `_e{titleLength,textLength}:title|text[|...]`.
    static func event(_ line: Substring) -> Result<StatsDLine, Failure> {
        let bad = Result<StatsDLine, Failure>.failure(Failure(reason: "malformed event"))
        guard line.hasPrefix("_e{"), let close = line.firstIndex(of: "}") else { return bad }
        let lengths = line[line.index(line.startIndex, offsetBy: 3)..<close].split(separator: ",", omittingEmptySubsequences: false)
        guard lengths.count == 2, let tl = Int(lengths[0]), let xl = Int(lengths[1]), tl > 0, xl >= 0 else { return bad }
        let rest = line[line.index(after: close)...]
        guard rest.first == ":" else { return bad }
        let body = Array(rest.dropFirst().utf8)
        guard body.count >= tl + 1 + xl, body.count > tl, body[tl] == UInt8(ascii: "|") else { return bad }
        let after = body.count - (tl + 1 + xl)
        guard after == 0 || body[tl + 1 + xl] == UInt8(ascii: "|") else { return bad }
        // Optional fields: d: date, h: host, k: aggregation key, p: priority, s: source,
        // t: alert type, c: container, # tags.
        if after > 0 {
            let fields = String(decoding: body[(tl + 2 + xl)...], as: UTF8.self).split(separator: "|")
            for f in fields where !(f.hasPrefix("#") || ["d:", "h:", "k:", "p:", "s:", "t:", "c:"].contains(String(f.prefix(2)))) {
                return bad
            }
        }
        return .success(.event)
    }

    /// `_sc|name|status[|...]` with status 0–3.
    static func serviceCheck(_ line: Substring) -> Result<StatsDLine, Failure> {
        let parts = line.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "_sc", !parts[1].isEmpty, let status = Int(parts[2]), (0...3).contains(status) else {
            return .failure(Failure(reason: "malformed service check"))
        }
        return .success(.serviceCheck)
    }
}
