import EdgeCollector
import EdgeCore
import Foundation

/// Serving capacity of one country's sites: what data residency works with.
public struct CountryCapacity: Sendable, Equatable {
    public var country: String
    public var sites: Int
    public var nodes: Int
    public var gpus: Int
    public var capacityRps: Double
    public var rps: Double
    /// Sites below the headroom floor.
    public var tightSites: Int
    public var headroom: Double { capacityRps > 0 ? 1 - rps / capacityRps : .nan }
}

/// Where one class of a tight site could be served instead: the nearest site with room to
/// spare whose extra network distance keeps the class within its tier (and inside the country
/// when the class is resident).
public struct ClassMove: Sendable, Equatable {
    public var site: String
    public var workload: WorkloadClass
    /// The class's load at the tight site, requests per second.
    public var rps: Double
    public var to: String
    public var distanceKm: Double
    /// Round trip the farther site adds for the tight site's users.
    public var addedMs: Double
    /// The class's p99 at the tight site plus `addedMs`: what its users would see.
    public var expectedP99Ms: Double
    /// The target's headroom after taking the load.
    public var toHeadroomAfter: Double
}

/// Capacity roll-ups and move suggestions, from a snapshot's sites.
public enum Capacity {
    /// Light in fibre covers ~204 km per ms; real routes are ~1.35× the great circle (the
    /// simulator's latency model uses the same figures).
    public static let fibreKmPerMs = 204.0, routeFactor = 1.35

    /// The round trip `km` of extra distance adds.
    public static func addedRoundTripMs(km: Double) -> Double { 2 * km * routeFactor / fibreKmPerMs }

    /// Great-circle distance, km.
    public static func distanceKm(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let r = 6371.0, rad = Double.pi / 180
        let dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * r * asin(min(1, sqrt(a)))
    }

    /// The sites at `indices` (those with coordinates) with their distance from a place, nearest first.
    static func byDistance(_ sites: [GroupStatus], _ indices: some Sequence<Int>, lat: Double, lon: Double) -> [(site: Int, km: Double)] {
        indices.filter { sites[$0].latitude.isFinite && sites[$0].longitude.isFinite }
            .map { ($0, distanceKm(lat, lon, sites[$0].latitude, sites[$0].longitude)) }
            .sorted { $0.km < $1.km }
    }

    /// Per country: sites, capacity, load and headroom; most loaded first.
    public static func countries(_ snap: FleetSnapshot, floor: Double = TriageRules().minHeadroom) -> [CountryCapacity] {
        var by: [String: CountryCapacity] = [:]
        for s in snap.sites {
            let key = s.country.isEmpty ? "-" : s.country
            var c = by[key] ?? CountryCapacity(country: key, sites: 0, nodes: 0, gpus: 0, capacityRps: 0, rps: 0, tightSites: 0)
            c.sites += 1; c.nodes += s.nodeCount; c.gpus += s.gpuCount
            if s.capacityRps.isFinite { c.capacityRps += s.capacityRps }
            c.rps += s.rps
            if s.headroom.isFinite && s.headroom < floor { c.tightSites += 1 }
            by[key] = c
        }
        return by.values.sorted { a, b in
            let ha = a.headroom.isFinite ? a.headroom : .infinity, hb = b.headroom.isFinite ? b.headroom : .infinity
            return ha != hb ? ha < hb : a.country < b.country
        }
    }

    /// For each site below `floor`, each class it serves and the nearest site that could take
    /// that class's load: above the floor after taking it, within the class's tier for the
    /// tight site's users, in the same country for resident classes.
    public static func moves(_ snap: FleetSnapshot, floor: Double = TriageRules().minHeadroom,
                             sites only: Set<String>? = nil) -> [ClassMove] {
        let sites = snap.sites
        let located = sites.indices.filter { sites[$0].latitude.isFinite && sites[$0].longitude.isFinite && sites[$0].capacityRps > 0 }
        let roomy = located.filter { sites[$0].headroom > floor }
        var out: [ClassMove] = []
        for si in located where sites[si].headroom < floor && (only == nil || only!.contains(sites[si].id)) {
            let s = sites[si]
            let total = s.classes.reduce(0) { $0 + Double($1.requests) }
            guard total > 0 else { continue }
            // Candidates by distance, once per tight site.
            let near = byDistance(sites, roomy.lazy.filter { $0 != si }, lat: s.latitude, lon: s.longitude)
            for c in s.classes where c.requests > 0 {
                let spec = snap.classCatalog[c.workload]
                let load = s.rps * Double(c.requests) / total
                let p99 = c.latency.p99.isFinite ? c.latency.p99 : 0
                for (ti, km) in near {
                    if spec.resident && sites[ti].country != s.country { continue }
                    let added = addedRoundTripMs(km: km)
                    if let tier = spec.tierMs, p99 + added > tier { break }  // farther ones only add more
                    let after = 1 - (sites[ti].rps + load) / sites[ti].capacityRps
                    guard after >= floor else { continue }
                    out.append(ClassMove(site: s.id, workload: c.workload, rps: load, to: sites[ti].id, distanceKm: km,
                                         addedMs: added, expectedP99Ms: p99 + added, toHeadroomAfter: after))
                    break
                }
            }
        }
        return out
    }
}
