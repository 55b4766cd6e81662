/// Latency tiers of edge inference workloads: the p99 a node is held to.
public enum LatencyTier: Int, Sendable, CaseIterable {
    case industrialControl = 50
    case videoInspection = 100
    case codeCompletion = 200
    case customerService = 500

    /// The p99 bound in milliseconds.
    public var thresholdMs: Double { Double(rawValue) }

    /// Short label for tables.
    public var label: String {
        switch self {
        case .industrialControl: "control"
        case .videoInspection: "video"
        case .codeCompletion: "code"
        case .customerService: "chat"
        }
    }

    /// The tier whose bound is `ms`, or the tightest tier whose bound is at least `ms`.
    public init(thresholdMs ms: Double) {
        self = LatencyTier.allCases.first(where: { $0.thresholdMs >= ms }) ?? .customerService
    }

    /// The tightest tier a latency value still meets; nil above every tier.
    public static func tier(meeting ms: Double) -> LatencyTier? {
        LatencyTier.allCases.first(where: { ms < $0.thresholdMs })
    }

}

/// NVIDIA Xid codes that matter to fleet health (from DCGM documentation).
public enum Xid {
    /// Xids after which the GPU needs a reset: the node counts as DOWN.
    public static let fatal: Set<Int> = [48, 64, 74, 79, 95]

    public static func isFatal(_ code: Int) -> Bool { fatal.contains(code) }

    public static func describe(_ code: Int) -> String {
        switch code {
        case 48: "double-bit ECC"
        case 63: "row-remap pending"
        case 64: "row-remap failure"
        case 74: "NVLink error"
        case 79: "fell off the bus"
        case 94: "contained ECC"
        case 95: "uncontained ECC"
        case 0: ""
        default: "Xid \(code)"
        }
    }
}
