import EdgeSources

/// Prometheus HTTP API answers: a body decodes to samples or is refused with a one-line
/// reason, the same way twice; an instant answer and a range answer never both succeed (one
/// names its result type).
enum PrometheusAPIHarness {
    static func run(_ input: [UInt8]) -> String? {
        var vector: PrometheusAPI.Answer?, matrix: [PrometheusAPI.RangeSeries]?
        do { vector = try PrometheusAPI.decodeVector(input, status: 200) } catch {
            if let bad = Invariant.oneLine("\(error)", "vector") { return bad }
        }
        do { matrix = try PrometheusAPI.decodeMatrix(input, status: 200) } catch {
            if let bad = Invariant.oneLine("\(error)", "matrix") { return bad }
        }
        if vector != nil && matrix != nil { return "one answer read as both a vector and a matrix" }
        if let v = vector {
            guard let w = try? PrometheusAPI.decodeVector(input), w.warnings == v.warnings, w.samples.count == v.samples.count,
                  zip(v.samples, w.samples).allSatisfy({ $0.labels == $1.labels && Invariant.same($0.value, $1.value) }) else {
                return "vector decodes differently twice"
            }
        }
        if let m = matrix, (try? PrometheusAPI.decodeMatrix(input)) != m { return "matrix decodes differently twice" }  // RangeSeries == knows NaN
        return nil
    }
}
