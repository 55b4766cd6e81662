import EdgeCollector
import EdgeCore
import Foundation

/// A place a user is: a city of the fleet's sites, or coordinates.
public struct RoutePlace: Sendable, Equatable {
    public var name: String
    public var country: String
    public var latitude: Double
    public var longitude: Double

    public init(name: String, country: String, latitude: Double, longitude: Double) {
        self.name = name; self.country = country; self.latitude = latitude; self.longitude = longitude
    }

    public struct NotFound: Error, CustomStringConvertible {
        public var description: String
    }

    /// `LAT,LON`, or a city named by the fleet's sites (case and accents ignored; `Lagos,NG`
    /// picks the country). A miss names the closest spellings.
    public static func resolve(_ text: String, in snap: FleetSnapshot) throws(NotFound) -> RoutePlace {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2, let lat = Double(parts[0]), let lon = Double(parts[1]) {
            guard (-90...90).contains(lat), (-180...180).contains(lon) else {
                throw NotFound(description: "\"\(text)\": latitude must be within ±90 and longitude within ±180")
            }
            return RoutePlace(name: "\(Formatting.fixed(lat, 2)),\(Formatting.fixed(lon, 2))", country: "", latitude: lat, longitude: lon)
        }
        func fold(_ s: String) -> String { s.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) }
        let city = fold(parts.first ?? ""), country = parts.count > 1 ? parts[1].uppercased() : nil
        let located = snap.sites.filter { $0.latitude.isFinite && $0.longitude.isFinite }
        guard !located.isEmpty else { throw NotFound(description: "no site of this fleet has coordinates: use a source that places its sites") }
        if let s = located.first(where: { fold($0.name) == city && (country == nil || $0.country == country) }) {
            return RoutePlace(name: s.name, country: s.country, latitude: s.latitude, longitude: s.longitude)
        }
        let names = Set(located.map { $0.name })
        var scored: [(name: String, distance: Int)] = names.map { n in (n, Self.editDistance(fold(n), city)) }
        scored.sort { a, b in a.distance != b.distance ? a.distance < b.distance : a.name < b.name }
        let close: [String] = scored.prefix(3).map { $0.name }
        throw NotFound(description: "unknown place \"\(text)\" (a city of the fleet's sites or LAT,LON; did you mean \(close.joined(separator: ", "))?)")
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var prev = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
}

/// One site as seen from a user's place.
public struct RouteCandidate: Sendable, Equatable {
    public var site: String
    public var name: String
    public var region: String
    public var country: String
    public var distanceKm: Double
    /// Network round trip from the place: 5 ms + 1.35 × 2 × distance at 204 km/ms.
    public var rttMs: Double
    /// What the site's requests take now (its class's p99 when a class is asked, else all).
    public var serviceP99Ms: Double
    public var totalP99Ms: Double
    /// Whether `totalP99Ms` meets the tier of each class (the asked one, or every tiered class).
    public var tierMet: [WorkloadClass: Bool]
    public var headroom: Double
    public var health: HealthState
    public var healthCounts: HealthCounts
}

/// Where a user's requests would best go, and where they go if that site fails.
public struct RouteAdvice: Sendable {
    public var from: RoutePlace
    public var workload: WorkloadClass?
    public var candidates: [RouteCandidate]
    /// The best candidate, and the next one (failover), with what failing over costs.
    public var failover: (from: RouteCandidate, to: RouteCandidate, extraMs: Double)?

    /// Network round trip for `km` of great circle: the model of the simulator and the
    /// capacity moves (5 ms of edge and last hop, 1.35× route stretch, 204 km per ms of fibre).
    public static func rttMs(km: Double) -> Double { 5 + Capacity.addedRoundTripMs(km: km) }

    /// Ranks the sites that can serve (not dead, with room above zero headroom) by estimated
    /// total p99 = the round trip from `place` + the site's observed p99. The site's p99 already
    /// holds its own users' network; that overstates a far site a little, and never flatters one.
    public static func advise(_ snap: FleetSnapshot, from place: RoutePlace, workload: WorkloadClass? = nil,
                              limit: Int = 10, nearest: Int = 300) -> RouteAdvice {
        let catalog = snap.classCatalog
        let tiered = WorkloadClass.allCases.filter { $0 != .unclassified && catalog[$0].tierMs != nil }
        // The nearest few hundred by distance, then by total: a site 10,000 km away never wins.
        let near = Capacity.byDistance(snap.sites, snap.sites.indices, lat: place.latitude, lon: place.longitude)
        var out: [RouteCandidate] = []
        for (i, km) in near.prefix(nearest) {
            let s = snap.sites[i]
            let h = s.health
            guard h.total > 0, !h.isDark else { continue }  // a dead site serves nothing
            if s.headroom.isFinite && s.headroom <= 0 { continue }           // nor one already over capacity
            // Asked for a class, only sites that serve it count (a site without the model cannot).
            let service: Double
            if let workload {
                guard let c = s.classes.first(where: { $0.workload == workload }), c.latency.p99.isFinite else { continue }
                service = c.latency.p99
            } else {
                service = s.latency.p99
            }
            guard service.isFinite else { continue }
            let rtt = rttMs(km: km), total = rtt + service
            var met: [WorkloadClass: Bool] = [:]
            for c in workload.map({ [$0] }) ?? tiered { met[c] = catalog[c].tierMs.map { total <= $0 } ?? true }
            out.append(RouteCandidate(site: s.id, name: s.name, region: s.region, country: s.country, distanceKm: km, rttMs: rtt,
                                      serviceP99Ms: service, totalP99Ms: total, tierMet: met, headroom: s.headroom, health: h.worst,
                                      healthCounts: h))
        }
        out.sort { $0.totalP99Ms < $1.totalP99Ms || ($0.totalP99Ms == $1.totalP99Ms && $0.site < $1.site) }
        var advice = RouteAdvice(from: place, workload: workload, candidates: Array(out.prefix(limit)))
        if out.count >= 2 { advice.failover = (out[0], out[1], out[1].totalP99Ms - out[0].totalP99Ms) }
        return advice
    }
}

extension RouteAdvice {
    /// `{"from":{name,lat,lon}, "class", "candidates":[…], "failover":{…}}`.
    public func json() -> String {
        var w = JSONWriter()
        func candidate(_ w: inout JSONWriter, _ c: RouteCandidate) {
            w.object([
                ("site", { $0.string(c.site) }), ("name", { $0.string(c.name) }), ("region", { $0.string(c.region) }),
                ("country", { $0.string(c.country) }), ("distance_km", { $0.number(c.distanceKm) }), ("rtt_ms", { $0.number(c.rttMs) }),
                ("service_p99_ms", { $0.number(c.serviceP99Ms) }), ("total_p99_ms", { $0.number(c.totalP99Ms) }),
                ("tier_met", { w in
                    if let workload, let met = c.tierMet[workload] { w.raw(met ? "true" : "false"); return }
                    w.object(c.tierMet.sorted { $0.key < $1.key }.map { k, v in (k.id, { $0.raw(v ? "true" : "false") }) })
                }),
                ("headroom_pct", { $0.number(c.headroom * 100) }), ("health", { $0.string(c.health.label) }),
            ])
        }
        w.object([
            ("from", { [from] w in w.object([("name", { $0.string(from.name) }), ("country", { $0.string(from.country) }),
                                             ("lat", { $0.number(from.latitude) }), ("lon", { $0.number(from.longitude) })]) }),
            ("class", { [workload] w in w.string(workload?.id) }),
            ("candidates", { [candidates] w in w.array(candidates) { candidate(&$0, $1) } }),
            ("failover", { [failover] w in
                guard let f = failover else { w.raw("null"); return }
                w.object([("if_down", { $0.string(f.from.site) }), ("to", { candidate(&$0, f.to) }), ("extra_ms", { $0.number(f.extraMs) })])
            }),
        ])
        return w.out + "\n"
    }

    /// The ranking as a table, then the failover line.
    public func text(width: Int = 80) -> String {
        let tiers = workload.map { [$0] } ?? WorkloadClass.allCases.filter { c in candidates.first?.tierMet[c] != nil }
        var lines = ["from \(from.name)\(from.country.isEmpty ? "" : " (\(from.country))") · \(Formatting.fixed(from.latitude, 2)), "
            + "\(Formatting.fixed(from.longitude, 2))\(workload.map { " · class \($0.id)" } ?? "")", ""]
        let header = ["SITE", "CITY", "KM", "RTT", "P99", "TOTAL", "HEAD", "HEALTH"] + tiers.map { $0.label.uppercased() }
        let widths = [7, 18, 6, 5, 6, 6, 5, 12] + tiers.map { max(5, $0.label.count) }
        func row(_ cells: [String]) -> String {
            zip(cells, widths).enumerated().map { i, p in TextWidth.pad(p.0, p.1, right: i >= 2 && i <= 6) }.joined(separator: " ")
        }
        lines.append(row(header))
        for c in candidates {
            lines.append(row([c.site, c.name, String(Int(c.distanceKm.rounded())), Formatting.ms(c.rttMs), Formatting.ms(c.serviceP99Ms),
                              Formatting.ms(c.totalP99Ms), c.headroom.isFinite ? Formatting.pct(c.headroom * 100) + "%" : "-",
                              Formatting.health(c.healthCounts)] + tiers.map { c.tierMet[$0] == true ? "yes" : "no" }))
        }
        if candidates.isEmpty { lines.append("(no site can serve: every one near is down, silent or full)") }
        if let f = failover {
            lines.append("")
            lines.append("if \(f.from.site) goes down: \(f.to.site) \(f.to.name), total p99 \(Formatting.msUnit(f.to.totalP99Ms)) "
                + "(+\(Formatting.msUnit(f.extraMs)))")
        }
        return lines.map { TextWidth.fit($0, width) }.map { l in
            var l = l
            while l.hasSuffix(" ") { l.removeLast() }
            return l
        }.joined(separator: "\n") + "\n"
    }
}
