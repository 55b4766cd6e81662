/// OpenMetrics rules about which samples, labels and values each metric type allows
/// (checked in strict mode).
enum TypeRules {
    static func suffix(of sample: MetricSample, in family: MetricFamily) -> String? {
        guard sample.name.hasPrefix(family.name) else { return nil }
        return String(sample.name.dropFirst(family.name.count))
    }

    static func canonicalFloat(_ s: String) -> Double? {
        guard let v = Numbers.parse(s, openMetrics: true), !v.isNaN else { return nil }
        return v
    }

    /// Why a sample breaks its family's type rules, or nil.
    static func check(_ s: MetricSample, in f: MetricFamily) -> String? {
        guard let suffix = suffix(of: s, in: f), Names.suffixes(f.type, openMetrics: true).contains(suffix) else {
            return "\(s.name) is not a valid sample name for \(f.type.rawValue) \(f.name)"
        }
        let counterLike = (f.type == .counter && suffix == "_total")
            || ([.histogram, .gaugehistogram].contains(f.type) && ["_bucket", "_count", "_gcount"].contains(suffix))
            || (f.type == .summary && ["_count", "_sum"].contains(suffix))
            || (f.type == .histogram && suffix == "_sum")
        if counterLike && (s.value.isNaN || s.value < 0) {
            if !(suffix == "_sum" && f.type == .histogram && s.value < 0 && !s.value.isNaN) {
                return "\(s.name) must be a non-negative number"
            }
        }
        if f.type == .gaugehistogram && suffix == "_gsum" && s.value.isNaN { return "\(s.name) must not be NaN" }
        if let e = s.exemplar {
            let allowed = (f.type == .counter && suffix == "_total") || ([.histogram, .gaugehistogram].contains(f.type) && suffix == "_bucket")
            if !allowed { return "exemplars are not allowed on \(s.name)" }
            _ = e
        }
        switch f.type {
        case .histogram, .gaugehistogram:
            if suffix == "_bucket" {
                guard let le = s.label("le") else { return "\(s.name) needs an le label" }
                guard let v = canonicalFloat(le), le == "+Inf" || !le.lowercased().contains("inf") else {
                    return "invalid le \"\(le.prefix(20))\""
                }
                _ = v
            }
        case .summary:
            if suffix == "" {
                guard let q = s.label("quantile"), let v = canonicalFloat(q), v >= 0, v <= 1 else {
                    return "\(s.name) needs a quantile label between 0 and 1"
                }
                if s.value < 0 { return "quantile values must not be negative" }
            }
        case .stateset:
            if s.label(f.name) == nil { return "stateset \(f.name) needs a label named \(f.name)" }
            if s.value != 0 && s.value != 1 { return "stateset values are 0 or 1" }
        case .info:
            if s.value != 1 { return "info values are 1" }
        default: break
        }
        if s.timestamp != nil, s.timestamp!.isNaN { return "invalid timestamp" }
        return nil
    }

    /// Rules over a whole family: histogram buckets ordered, cumulative, ending at +Inf, with
    /// count and sum together and consistent.
    static func checkFamily(_ f: MetricFamily) -> String? {
        guard f.type == .histogram || f.type == .gaugehistogram else { return nil }
        let countSuffix = f.type == .histogram ? "_count" : "_gcount"
        let sumSuffix = f.type == .histogram ? "_sum" : "_gsum"
        var groups: [[Label]: (buckets: [(Double, Double)], count: Double?, sum: Double?, closed: Bool)] = [:]
        var order: [[Label]] = []
        for s in f.samples {
            let key = s.labels.filter { $0.name != "le" }.sorted { $0.name < $1.name }
            if groups[key] == nil { groups[key] = ([], nil, nil, false); order.append(key) }
            let suffix = String(s.name.dropFirst(f.name.count))
            switch suffix {
            case "_bucket":
                if groups[key]!.closed { return "\(f.name): bucket after count or sum" }
                groups[key]!.buckets.append((canonicalFloat(s.label("le") ?? "") ?? .nan, s.value))
            case countSuffix: groups[key]!.count = s.value; groups[key]!.closed = true
            case sumSuffix: groups[key]!.sum = s.value; groups[key]!.closed = true
            default: break
            }
        }
        for key in order {
            let g = groups[key]!
            guard let last = g.buckets.last, last.0 == .infinity else { return "\(f.name): no +Inf bucket" }
            for (a, b) in zip(g.buckets, g.buckets.dropFirst()) {
                if !(b.0 > a.0) { return "\(f.name): buckets not in increasing le order" }
                if b.1 < a.1 { return "\(f.name): bucket counts decrease" }
            }
            if (g.count == nil) != (g.sum == nil) { return "\(f.name): count and sum go together" }
            if let c = g.count, c != last.1 { return "\(f.name): count differs from the +Inf bucket" }
            let negative = g.buckets.contains { $0.0 < 0 }
            if let sum = g.sum {
                if negative && f.type == .histogram { return "\(f.name): a histogram with negative buckets has no sum" }
                if sum < 0 && !negative { return "\(f.name): negative sum without negative buckets" }
            }
        }
        return nil
    }
}
