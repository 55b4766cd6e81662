import EdgeCore
import EdgeSources

/// OTLP JSON: a body is either refused with a one-line reason or decoded into finite samples
/// with weights ≥ 1, non-negative latencies and a placement; two fresh decoders agree on it
/// (no hidden state leaks between requests).
enum OTLPHarness {
    static let placement = OTLPDecoder.Placement(region: "fz", site: "fz1", node: "fz1-n1")

    static func run(_ input: [UInt8]) -> String? {
        struct Refused: Error { var reason: String }
        func decode() -> Result<OTLPDecoder.Output, Refused> {
            var d = OTLPDecoder(defaultPlacement: placement)
            do { return .success(try d.decode(input)) } catch { return .failure(Refused(reason: "\(error)")) }
        }
        let a = decode(), b = decode()
        switch (a, b) {
        case (.failure(let x), .failure(let y)):
            if x.reason != y.reason { return "two decoders refuse differently: \(x.reason) / \(y.reason)" }
            return Invariant.oneLine(x.reason, "otlp")
        case (.success(let x), .success(let y)):
            guard x.samples.count == y.samples.count, x.rejected == y.rejected else { return "two decoders disagree on counts" }
            if x.rejected < 0 { return "negative rejected count" }
            if let e = x.firstError, let bad = Invariant.oneLine(e, "otlp first error") { return bad }
            for ((p, s), (q, t)) in zip(x.samples, y.samples) {
                guard p == q, s == t || (s.value.isNaN && t.value.isNaN) else { return "two decoders disagree on \(s.metric.name)" }
                if !s.value.isFinite { return "non-finite \(s.metric.name)" }
                if s.weight < 1 { return "zero-weight \(s.metric.name)" }
                if s.metric == Metric.latencyMs && s.value < 0 { return "negative latency" }
                if p.node.isEmpty || p.site.isEmpty || p.region.isEmpty { return "sample without a placement" }
            }
            return nil
        default:
            return "one decoder refused, the other did not"
        }
    }
}
