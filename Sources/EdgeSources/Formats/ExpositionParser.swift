import EdgeCore
/// Parses Prometheus text 0.0.4 and OpenMetrics 1.0.
///
/// Tolerant by default: a bad line is recorded in `errors` and skipped, and the good lines
/// around it are kept — a scrape with one hostile label must not lose a node's GPU figures.
/// `strict: true` adds OpenMetrics' document rules (`# EOF`, grouping, metadata placement,
/// type-specific labels and values) for conformance checks.
public struct ExpositionParser {
    public var format: ExpositionFormat
    public var strict: Bool

    public init(format: ExpositionFormat, strict: Bool = false) {
        self.format = format
        self.strict = strict
    }

    public func parse(_ text: String) -> Exposition { parse(Array(text.utf8)) }

    /// Parses a whole exposition, working on bytes: names and numbers are ASCII, and text that
    /// is not UTF-8 is decoded with replacement characters, which then fail name validation or
    /// stay inside label values as data.
    public func parse(_ bytes: [UInt8]) -> Exposition {
        var state = ParseState(format: format, strict: strict)
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        // A final newline ends the last line; it does not start an empty one.
        if lines.last?.isEmpty == true { lines.removeLast() }
        for (i, line) in lines.enumerated() {
            state.line = i + 1
            state.consume(line)
            if strict && !state.errors.isEmpty { break }
        }
        state.finish(lineCount: lines.count)
        return Exposition(families: state.families, errors: state.errors)
    }
}

struct ParseState {
    let format: ExpositionFormat
    let strict: Bool
    var line = 0
    var families: [MetricFamily] = []
    var errors: [ExpositionError] = []
    var familyIndex: [String: Int] = [:]
    var sawEOF = false
    /// Families whose samples ended (strict: they may not reappear).
    var closed: Set<String> = []
    var current: String?

    var om: Bool { format == .openMetrics }

    init(format: ExpositionFormat, strict: Bool) {
        self.format = format
        self.strict = strict
    }

    mutating func fail(_ reason: String) {
        errors.append(ExpositionError(line: line, reason: PrintableText.line(reason)))
    }

    mutating func consume(_ raw: ArraySlice<UInt8>) {
        if sawEOF {
            if om { fail("text after # EOF") }
            return
        }
        var l = raw
        if l.last == 0x0D {
            if om || strict { fail("line ends with CR (lines end with \\n)"); return }
            l.removeLast()
        }
        if l.isEmpty {
            if om { fail("blank line") }
            return
        }
        if l.first == UInt8(ascii: "#") {
            guard let text = String(validating: l, as: UTF8.self) else {
                // A plain comment may hold anything; HELP text must be UTF-8 (as in Prometheus).
                let words = l.split(separator: 0x20, maxSplits: 2)
                if words.count >= 2, let w = String(validating: words[1], as: UTF8.self), ["HELP", "TYPE", "UNIT"].contains(w) {
                    fail("# \(w) is not valid UTF-8")
                } else if om {
                    fail("comment lines are not allowed in OpenMetrics")
                }
                return
            }
            metadata(Substring(text))
            return
        }
        sample(l)
    }

    // MARK: metadata

    /// The previous sample's name and family, reused while they repeat (reset by metadata,
    /// which can change what a name's family is).
    var lastName: String?
    var lastFamily: (sample: String, family: String)?

    mutating func metadata(_ l: Substring) {
        lastFamily = nil
        if l == "# EOF" {
            if om { sawEOF = true }  // in text 0.0.4 it is just a comment
            return
        }
        let parts = l.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "#", ["HELP", "TYPE", "UNIT"].contains(parts[1]) else {
            if om { fail("comment lines are not allowed in OpenMetrics") }
            return  // text 0.0.4: a plain comment
        }
        let keyword = parts[1], name = String(parts[2])
        guard Names.isMetricName(name) else { fail("invalid metric name \"\(name.prefix(60))\""); return }
        if parts[1] == "UNIT" && !om { fail("# UNIT is OpenMetrics only"); return }
        let rest = parts.count > 3 ? String(parts[3]) : nil
        if om && parts.count == 3 { fail("# \(keyword) needs a value (may be empty after a space)"); return }
        let index = family(named: name, forMetadata: true)
        guard let index else { return }
        switch keyword {
        case "HELP":
            if strict && families[index].help != nil { fail("repeated # HELP for \(name)"); return }
            families[index].help = Escapes.unescapeHelp(rest ?? "", openMetrics: om)
        case "TYPE":
            guard let t = MetricType(rawValue: rest ?? ""), om ? t != .untyped : ![.info, .stateset, .gaugehistogram, .unknown].contains(t) else {
                fail("unknown type \"\((rest ?? "").prefix(20))\" for \(name)")
                return
            }
            if strict && declaredType.contains(name) { fail("repeated # TYPE for \(name)"); return }
            if !families[index].samples.isEmpty {
                // Prometheus' text parser takes metadata anywhere; the first type stands.
                if strict || om { fail("# TYPE for \(name) after its samples") }
                return
            }
            declaredType.insert(name)
            families[index].type = t
            if om && strict, let unit = families[index].unit, !unit.isEmpty, !name.hasSuffix("_" + unit) {
                fail("unit \(unit) is not a suffix of \(name)")
            }
        default:  // UNIT
            let unit = rest ?? ""
            if strict && families[index].unit != nil { fail("repeated # UNIT for \(name)"); return }
            if strict && !unit.isEmpty && [.info, .stateset].contains(families[index].type) {
                fail("\(families[index].type.rawValue) \(name) cannot have a unit")
                return
            }
            if strict && !unit.isEmpty && !name.hasSuffix("_" + unit) { fail("unit \(unit) is not a suffix of \(name)"); return }
            families[index].unit = unit
        }
    }

    var declaredType: Set<String> = []

    /// The family a metadata line or sample belongs to; creates it. With `forMetadata` in
    /// strict mode, metadata must come before the family's samples and the family must not be
    /// a closed one.
    mutating func family(named name: String, forMetadata: Bool) -> Int? {
        if let i = familyIndex[name] {
            if strict && forMetadata && !families[i].samples.isEmpty {
                fail("metadata for \(name) after its samples")
                return nil
            }
            if strict && closed.contains(name) && current != name {
                fail("\(name) appears again after other families")
                return nil
            }
            if current != name, let c = current { closed.insert(c) }
            current = name
            return i
        }
        if let c = current { closed.insert(c) }
        if strict {
            // A new family must not clash with the derived names of an existing one.
            for f in families where Names.derivedNames(of: f.name, type: f.type).contains(name) || Names.derivedNames(of: name, type: .unknown).contains(f.name) && f.type != .unknown && f.type != .untyped {
                fail("\(name) clashes with family \(f.name)")
                return nil
            }
        }
        families.append(MetricFamily(name: name, type: om ? .unknown : .untyped, help: nil, unit: nil, samples: []))
        familyIndex[name] = families.count - 1
        current = name
        return families.count - 1
    }

    // MARK: samples

    mutating func sample(_ l: ArraySlice<UInt8>) {
        var s = Scanner(l)
        guard let name = s.metricName(reusing: lastName) else { fail("invalid metric name"); return }
        var labels: [Label] = []
        if s.peek == Scanner.open {
            switch s.labels(openMetrics: om) {
            case .success(let ls): labels = ls
            case .failure(let e): fail(e.reason); return
            }
        }
        guard s.take(Scanner.space) else { fail("expected a space before the value"); return }
        if om && s.peek == Scanner.space { fail("more than one space before the value"); return }
        while !om && s.peek == Scanner.space { s.advance() }
        guard let valueText = s.token(), let value = Numbers.parse(valueText, openMetrics: om) else {
            fail("invalid or missing value")
            return
        }
        var timestamp: Double?
        var exemplar: Exemplar?
        if s.take(Scanner.space) {
            if s.peek == Scanner.hash {
                guard om else { fail("exemplars are OpenMetrics only"); return }
            } else {
                guard let t = s.token(), let ts = Numbers.parse(t, openMetrics: om), ts.isFinite,
                      om || (Double(Int64(exactly: ts) ?? 0) == ts && t.allSatisfy({ $0.isNumber || $0 == "-" })) else {
                    fail("invalid timestamp")
                    return
                }
                timestamp = om ? ts : ts / 1000
                _ = s.take(Scanner.space)
            }
            if s.peek == Scanner.hash {
                switch s.exemplar() {
                case .success(let e): exemplar = e
                case .failure(let e): fail(e.reason); return
                }
            }
        }
        if !s.atEnd { fail("unexpected text after the value"); return }
        if Self.hasDuplicate(labels) { fail("duplicate label name"); return }

        let familyName: String
        if let last = lastFamily, last.sample == name { familyName = last.family } else {
            familyName = Names.family(of: name, known: familyIndex, families: families, openMetrics: om)
        }
        lastName = name
        lastFamily = (name, familyName)
        guard let index = family(named: familyName, forMetadata: false) else { return }
        let sample = MetricSample(name: name, labels: labels, value: value, timestamp: timestamp, exemplar: exemplar, line: line)
        if strict, let reason = TypeRules.check(sample, in: families[index]) {
            fail(reason)
            return
        }
        if strict, let reason = checkTimestamp(sample, family: familyName) {
            fail(reason)
            return
        }
        families[index].samples.append(sample)
    }

    /// Whether two labels share a name: pairwise for the usual handful (no Set per sample).
    static func hasDuplicate(_ labels: [Label]) -> Bool {
        guard labels.count > 1 else { return false }
        if labels.count > 16 { return Set(labels.map(\.name)).count != labels.count }
        for i in 1..<labels.count {
            for j in 0..<i where labels[i].name == labels[j].name { return true }
        }
        return false
    }

    /// Last timestamp per series (OpenMetrics: a series either always or never has one, and it
    /// never goes back).
    var seriesTimestamps: [String: Double?] = [:]

    mutating func checkTimestamp(_ s: MetricSample, family: String) -> String? {
        let key = s.name + "\u{1F}" + s.labels.sorted { $0.name < $1.name }.map { $0.name + "=" + $0.value }.joined(separator: "\u{1F}")
        defer { seriesTimestamps[key] = .some(s.timestamp) }
        guard let previous = seriesTimestamps[key] else { return nil }
        switch (previous, s.timestamp) {
        case (nil, nil): return nil
        case (.some(let a), .some(let b)): return b < a ? "\(s.name): timestamp goes back in time" : nil
        default: return "\(s.name): a series mixes samples with and without timestamps"
        }
    }

    mutating func finish(lineCount: Int) {
        if om && !sawEOF && (strict || errors.isEmpty) && strict { line = max(1, lineCount); fail("missing # EOF") }
        if strict && errors.isEmpty {
            for f in families {
                if let reason = TypeRules.checkFamily(f) { line = f.samples.last?.line ?? lineCount; fail(reason); break }
            }
        }
    }
}
