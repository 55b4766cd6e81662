/// The workload a request belongs to. Each class has its own latency tier and SLO
/// (`ClassCatalog`); requests whose source did not say are `unclassified` and are held to
/// their node's tier.
public enum WorkloadClass: UInt8, Sendable, CaseIterable, Comparable {
    case unclassified = 0
    case industrialControl
    case videoInspection
    case codeCompletion
    case customerService
    case batch

    /// The id used in tags, labels, replay files, JSON and `--check`.
    public var id: String {
        switch self {
        case .unclassified: "unclassified"
        case .industrialControl: "industrial_control"
        case .videoInspection: "video_inspection"
        case .codeCompletion: "code_completion"
        case .customerService: "customer_service"
        case .batch: "batch"
        }
    }

    /// Short label for narrow table cells.
    public var label: String {
        switch self {
        case .unclassified: "other"
        case .industrialControl: "control"
        case .videoInspection: "video"
        case .codeCompletion: "code"
        case .customerService: "chat"
        case .batch: "batch"
        }
    }

    /// The class of `id`; unknown ids are `unclassified` (never an error: a new class in a
    /// client's tags must not drop its requests).
    public init(id: some StringProtocol) {
        self = WorkloadClass(exactly: id) ?? .unclassified
    }

    /// The class of an id given as UTF-8 bytes (the replay scanner's path: no string made).
    public init(idBytes b: UnsafeRawBufferPointer) {
        self = WorkloadClass.allCases.first { c in
            let id = c.id.utf8
            return id.count == b.count && id.elementsEqual(b)
        } ?? .unclassified
    }

    /// The class a known id names, or nil.
    public init?(exactly id: some StringProtocol) {
        guard let c = WorkloadClass.allCases.first(where: { $0.id == id }) else { return nil }
        self = c
    }

    /// The class whose tier a site of tier `ms` serves first (the topology gives sites a tier).
    public init(tierMs ms: Double) {
        switch LatencyTier(thresholdMs: ms) {
        case .industrialControl: self = .industrialControl
        case .videoInspection: self = .videoInspection
        case .codeCompletion: self = .codeCompletion
        case .customerService: self = .customerService
        }
    }

    public static func < (a: WorkloadClass, b: WorkloadClass) -> Bool { a.rawValue < b.rawValue }
}

/// What a class is held to.
public struct ClassSpec: Sendable, Equatable {
    public var workload: WorkloadClass
    /// Latency bound a request must meet to count as good; nil: no latency target (batch),
    /// only failures count against the SLO.
    public var tierMs: Double?
    /// Fraction of requests that must be good (0.99: 1 % error budget).
    public var sloTarget: Double
    /// Requests per second one GPU serves in this class (capacity and headroom).
    public var rpsPerGPU: Double
    /// Data residency: the class may not be moved to a site in another country.
    public var resident: Bool

    public init(workload: WorkloadClass, tierMs: Double?, sloTarget: Double, rpsPerGPU: Double, resident: Bool = false) {
        self.workload = workload; self.tierMs = tierMs; self.sloTarget = sloTarget
        self.rpsPerGPU = rpsPerGPU; self.resident = resident
    }

    /// The latency at or under which a request is good: the class's tier; the node's for
    /// unclassified requests; none (+inf, only failures miss) for a class without a tier.
    public func goodBoundMs(nodeTierMs: Double) -> Double {
        tierMs ?? (workload == .unclassified ? nodeTierMs : .infinity)
    }
}

/// The classes with their tiers, SLOs and capacities (`Assets/classes.tsv`, overridable).
public struct ClassCatalog: Sendable, Equatable {
    /// By `WorkloadClass.rawValue`.
    public private(set) var specs: [ClassSpec]
    /// Other names sources use for a class (`chat` for customer_service: an OTLP
    /// `gen_ai.operation.name`, a label value), from the config's `classes: … aliases`.
    public var aliases: [String: WorkloadClass] = [:]

    public init(specs: [ClassSpec]) {
        var all = WorkloadClass.allCases.map { ClassSpec(workload: $0, tierMs: nil, sloTarget: 0.99, rpsPerGPU: 5) }
        for s in specs { all[Int(s.workload.rawValue)] = s }
        self.specs = all
    }

    public subscript(_ c: WorkloadClass) -> ClassSpec { specs[Int(c.rawValue)] }

    /// The class a source's tag, label or attribute value names: an id, else an alias, else
    /// `unclassified` (a new name in a client must not drop its requests).
    public func workload(named name: some StringProtocol) -> WorkloadClass {
        if let c = WorkloadClass(exactly: name) { return c }
        return aliases.isEmpty ? .unclassified : aliases[String(name)] ?? .unclassified
    }

    public mutating func set(_ spec: ClassSpec) { specs[Int(spec.workload.rawValue)] = spec }

    /// Parses the TSV of `Assets/classes.tsv`: class, tier_ms (or -), slo_target, rps_per_gpu, resident.
    public init(tsv text: String) throws(ClassCatalogError) {
        var specs: [ClassSpec] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = Self.trim(line[...])
            if t.isEmpty || t.hasPrefix("#") { continue }
            let f = t.split(separator: "\t").map { Self.trim($0) }
            guard f.count == 5, let c = WorkloadClass(exactly: f[0]), c != .unclassified else {
                throw ClassCatalogError(line: n + 1, reason: "expected: class tier_ms slo_target rps_per_gpu resident, with a known class id")
            }
            let tier: Double?
            if f[1] == "-" { tier = nil } else if let v = Double(f[1]), v > 0, v.isFinite { tier = v } else {
                throw ClassCatalogError(line: n + 1, reason: "tier_ms must be a positive number or -")
            }
            guard let slo = Double(f[2]), slo > 0, slo < 1 else { throw ClassCatalogError(line: n + 1, reason: "slo_target must be between 0 and 1 (exclusive)") }
            guard let rps = Double(f[3]), rps > 0, rps.isFinite else { throw ClassCatalogError(line: n + 1, reason: "rps_per_gpu must be a positive number") }
            guard f[4] == "yes" || f[4] == "no" else { throw ClassCatalogError(line: n + 1, reason: "resident must be yes or no") }
            specs.append(ClassSpec(workload: c, tierMs: tier, sloTarget: slo, rpsPerGPU: rps, resident: f[4] == "yes"))
        }
        self.init(specs: specs)
    }

    private static func trim(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return s
    }

    /// The built-in catalog (the values of `Assets/classes.tsv` when it was written; the
    /// executable loads the embedded file itself).
    public static let standard = ClassCatalog(specs: [
        ClassSpec(workload: .industrialControl, tierMs: 50, sloTarget: 0.99, rpsPerGPU: 12, resident: true),
        ClassSpec(workload: .videoInspection, tierMs: 100, sloTarget: 0.99, rpsPerGPU: 8),
        ClassSpec(workload: .codeCompletion, tierMs: 200, sloTarget: 0.99, rpsPerGPU: 6),
        ClassSpec(workload: .customerService, tierMs: 500, sloTarget: 0.99, rpsPerGPU: 5),
        ClassSpec(workload: .batch, tierMs: nil, sloTarget: 0.99, rpsPerGPU: 4),
    ])
}

public struct ClassCatalogError: Error, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}
