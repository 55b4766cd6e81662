import EdgeAssets
import EdgeCollector
import EdgeCore

/// One point of presence of the embedded fleet.
public struct SiteRecord: Sendable, Equatable {
    public var region: String
    public var id: String
    public var city: String
    public var country: String
    public var latitude: Double
    public var longitude: Double
    public var nodes: Int
    public var gpusPerNode: Int
    public var tierMs: Double
}

/// The embedded fleet: regions and sites from `Assets/regions.tsv` and `Assets/topology.tsv`.
public struct Topology: Sendable {
    public var regionNames: [String: String]
    public var sites: [SiteRecord]

    /// Problems found while reading a topology file.
    public struct ParseError: Error, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var reason: String
        public var description: String { "\(file):\(line): \(reason)" }
    }

    /// The fleet compiled into the binary.
    public static func embedded() throws -> Topology {
        try Topology(regionsTSV: EmbeddedAssets.files["regions.tsv"] ?? "",
                     sitesTSV: EmbeddedAssets.files["topology.tsv"] ?? "")
    }

    public init(regionsTSV: String, sitesTSV: String, file: String = "topology.tsv") throws {
        var names: [String: String] = [:]
        for line in regionsTSV.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            if f.count >= 2 { names[String(f[0])] = String(f[1]) }
        }
        var sites: [SiteRecord] = []
        for (n, line) in sitesTSV.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 9, let lat = Double(f[4]), let lon = Double(f[5]), let nodes = Int(f[6]),
                  let gpus = Int(f[7]), let tier = Double(f[8]), nodes > 0, gpus >= 0 else {
                throw ParseError(file: file, line: n + 1, reason: "expected 9 tab-separated fields: region site city country lat lon nodes gpus_per_node tier_ms")
            }
            sites.append(SiteRecord(region: f[0], id: f[1], city: f[2], country: f[3], latitude: lat,
                                    longitude: lon, nodes: nodes, gpusPerNode: gpus, tierMs: tier))
        }
        regionNames = names
        self.sites = sites
    }

    /// The same sites with about `factor` times the nodes (each site's count rounded, at
    /// least one): `--sim-scale 4.57` puts 44,000 nodes on the 4,400 sites.
    public func scaled(by factor: Double) -> Topology {
        var t = self
        t.sites = sites.map { var s = $0; s.nodes = max(1, Int((Double(s.nodes) * factor).rounded())); return s }
        return t
    }

    public init(regionNames: [String: String], sites: [SiteRecord]) {
        self.regionNames = regionNames
        self.sites = sites
    }

    /// Node id of node `n` (0-based) at a site: `fra1-n01`.
    public static func nodeID(site: String, index n: Int) -> String {
        n + 1 < 10 ? "\(site)-n0\(n + 1)" : "\(site)-n\(n + 1)"
    }

    /// Every node of the topology as a collector placement, site by site.
    public func placements(classes: ClassCatalog = .standard) -> [NodePlacement] {
        var out: [NodePlacement] = []
        out.reserveCapacity(sites.reduce(0) { $0 + $1.nodes })
        for s in sites {
            for n in 0..<s.nodes {
                let workload = Topology.workload(site: s, node: n)
                out.append(NodePlacement(regionID: s.region, regionName: regionNames[s.region] ?? s.region,
                                         siteID: s.id, siteName: s.city, country: s.country,
                                         latitude: s.latitude, longitude: s.longitude,
                                         nodeID: Topology.nodeID(site: s.id, index: n),
                                         tierMs: classes[workload].tierMs ?? Topology.batchTierMs,
                                         gpuCount: s.gpusPerNode, workload: workload))
            }
        }
        return out
    }

    /// p99 a batch node is held to for its health (batch has no latency SLO; a node whose
    /// batch requests take over 5 s is still unwell).
    public static let batchTierMs = 5_000.0

    /// The workload class node `node` of site `s` is deployed for: the first node serves the
    /// site's own tier; the others mostly the same, the rest a mix weighted like an edge
    /// fleet's traffic (chat and code most, batch filling GPUs, control and video where the
    /// factories and cameras are). A hash of the node id, so the same topology gives the same
    /// fleet whatever the seed.
    public static func workload(site s: SiteRecord, node n: Int) -> WorkloadClass {
        let own = WorkloadClass(tierMs: s.tierMs)
        guard n > 0 else { return own }
        var h = (StableHash.fnv1a(s.id.utf8) ^ UInt64(n)) &* StableHash.prime
        h ^= h >> 29
        let u = Double(h % 10_000) / 10_000
        if u < 0.55 { return own }
        let mix: [(WorkloadClass, Double)] = [(.industrialControl, 0.08), (.videoInspection, 0.14), (.codeCompletion, 0.24),
                                              (.customerService, 0.30), (.batch, 0.24)]
        var x = (u - 0.55) / 0.45
        for (c, w) in mix {
            if x < w { return c }
            x -= w
        }
        return .batch
    }
}
