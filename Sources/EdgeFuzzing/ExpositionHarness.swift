import EdgeCore
import EdgeSources

/// Prometheus text and OpenMetrics: whatever a parse accepts, written back as plain text 0.0.4
/// and parsed again, gives the same samples with no errors (the parser keeps nothing it could
/// not write out, and loses nothing it kept); line numbers of errors lie inside the input; the
/// scrape mapper makes only finite, valid samples of it.
enum ExpositionHarness {
    static func run(_ input: [UInt8]) -> String? {
        let lines = input.split(separator: 0x0A, omittingEmptySubsequences: false).count
        for format in [ExpositionFormat.prometheusText, .openMetrics] {
            for strict in [false, true] where !(strict && format == .prometheusText) {
                let first = ExpositionParser(format: format, strict: strict).parse(input)
                for e in first.errors {
                    if e.line < 1 || e.line > lines { return "\(format): error line \(e.line) outside 1…\(lines)" }
                    if let bad = Invariant.oneLine(e.reason, "\(format) error") { return bad }
                }
                let samples = first.families.flatMap(\.samples)
                let again = ExpositionParser(format: .prometheusText).parse(Array(render(samples).utf8))
                if let e = again.errors.first { return "\(format): written back, line \(e.line) fails: \(e.reason)" }
                // Families regroup repeated names, so compare in one order.
                func key(_ s: MetricSample) -> String { "\(s.name)\u{0}\(s.labels.map { "\($0.name)\u{1}\($0.value)" }.joined(separator: "\u{2}"))" }
                let back = again.families.flatMap(\.samples).sorted { key($0) < key($1) }
                let wrote = samples.sorted { key($0) < key($1) }
                guard back.count == samples.count else { return "\(format): \(samples.count) samples written, \(back.count) read back" }
                for (a, b) in zip(wrote, back) {
                    guard a.name == b.name, a.labels == b.labels, Invariant.same(a.value, b.value) else {
                        return "\(format): \(a.name)\(a.labels) \(a.value) read back as \(b.name)\(b.labels) \(b.value)"
                    }
                }
                var mapper = ScrapeMapper(defaultNode: "fuzz-node")
                for m in mapper.map(first) {
                    if !m.value.isFinite { return "\(format): mapper made a non-finite \(m.metric.name)" }
                    if m.weight == 0 { return "\(format): mapper made a zero-weight \(m.metric.name)" }
                    if m.node.isEmpty { return "\(format): mapper made a sample without a node" }
                }
            }
        }
        return nil
    }

    /// Samples as text 0.0.4 lines, untyped (no metadata, no timestamps).
    static func render(_ samples: [MetricSample]) -> String {
        var out = ""
        for s in samples {
            out += s.name
            if !s.labels.isEmpty {
                out += "{"
                out += s.labels.map { "\($0.name)=\"\(ExpositionText.escapeLabelValue($0.value))\"" }.joined(separator: ",")
                out += "}"
            }
            out += " "
            out += s.value.isNaN ? "NaN" : s.value == .infinity ? "+Inf" : s.value == -.infinity ? "-Inf" : "\(s.value)"
            out += "\n"
        }
        return out
    }
}
