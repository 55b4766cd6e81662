/// What one source has done, for the operator: counts and the last problem.
public struct SourceStats: Sendable, Equatable {
    public var name: String
    /// Scrapes done, or datagrams received.
    public var reads: UInt64 = 0
    public var failures: UInt64 = 0
    public var samples: UInt64 = 0
    public var invalid: UInt64 = 0
    /// Samples lost to a cap (too many nodes from one source).
    public var dropped: UInt64 = 0
    /// Valid input edgetop does not chart (a StatsD counter for page views, say).
    public var ignored: UInt64 = 0
    public var up = false
    public var lastError: String?
    public init(name: String) { self.name = name }
}
