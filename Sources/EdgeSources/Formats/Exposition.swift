/// Prometheus exposition data as parsed from text 0.0.4 or OpenMetrics 1.0.

/// Which text format a scrape returned.
public enum ExpositionFormat: Sendable, Equatable {
    /// `text/plain; version=0.0.4`: timestamps in milliseconds, no `# EOF`.
    case prometheusText
    /// `application/openmetrics-text; version=1.0.0`: timestamps in seconds, exemplars, `# EOF`.
    case openMetrics

    /// The format a `Content-Type` header names (text 0.0.4 when absent or unknown).
    public init(contentType: String?) {
        // Bytes, not Foundation's string search: this runs once per scrape.
        let ct = Array((contentType ?? "").utf8).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        let needle = Array("application/openmetrics-text".utf8)
        self = ct.count >= needle.count && (0...(ct.count - needle.count)).contains { ct[$0..<($0 + needle.count)].elementsEqual(needle) }
            ? .openMetrics : .prometheusText
    }

    /// What a scraper should send: both formats, OpenMetrics preferred.
    public static let acceptHeader =
        "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
}

/// A metric family's declared type.
public enum MetricType: String, Sendable, CaseIterable {
    case counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown, untyped
}

/// An exemplar attached to a sample (OpenMetrics).
public struct Exemplar: Sendable, Equatable {
    public var labels: [Label]
    public var value: Double
    public var timestamp: Double?
}

public struct Label: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }
}

/// One sample line.
public struct MetricSample: Sendable, Equatable {
    public var name: String
    public var labels: [Label]
    public var value: Double
    /// Seconds since the epoch (text 0.0.4 milliseconds are converted).
    public var timestamp: Double?
    public var exemplar: Exemplar?
    /// 1-based line number in the exposition.
    public var line: Int

    public func label(_ name: String) -> String? { labels.first { $0.name == name }?.value }
}

/// Samples grouped under their family's metadata.
public struct MetricFamily: Sendable, Equatable {
    public var name: String
    public var type: MetricType
    public var help: String?
    public var unit: String?
    public var samples: [MetricSample]
}

/// A line that could not be used, and why.
public struct ExpositionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// What a parse produced: the families it could read and the lines it could not.
public struct Exposition: Sendable {
    public var families: [MetricFamily]
    public var errors: [ExpositionError]
    public var sampleCount: Int { families.reduce(0) { $0 + $1.samples.count } }
}
