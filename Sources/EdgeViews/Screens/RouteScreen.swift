import EdgeCollector
import EdgeCore

extension UIState {
    /// The site `r` advises for: the one on screen, or the selected row's.
    func siteForRoute() -> String? {
        guard let snapshot else { return nil }
        switch level {
        case .site(let s): return s
        case .node(let n): return snapshot.nodes.first { $0.id == n }?.site
        case .region, .allSites:
            guard let rows = table()?.rows, let i = selection(in: rows) else { return nil }
            return rows[i].id
        case .fleet, .triage: return nil
        }
    }
}

extension Screen {
    /// The routing advisor over the screen: for users at the site's city, the best sites by
    /// round trip + observed p99, and the failover. Any key closes it.
    static func routeOverlay(_ g: inout CellGrid, _ state: UIState, site id: String) {
        guard let snap = state.snapshot, let site = snap.sites.first(where: { $0.id == id }),
              site.latitude.isFinite, site.longitude.isFinite else { return }
        let place = RoutePlace(name: site.name, country: site.country, latitude: site.latitude, longitude: site.longitude)
        let height = min(g.height - 4, 16), width = min(g.width - 4, 100)
        // For the class the site serves most: a site serving only control traffic is not fast
        // for code completion.
        let busiest = site.classes.filter { $0.workload != .unclassified }.max { $0.requests < $1.requests }?.workload
        let advice = RouteAdvice.advise(snap, from: place, workload: busiest, limit: max(1, height - 6))
        let x0 = (g.width - width) / 2, y0 = max(1, (g.height - height) / 2)
        let box = CellStyle(.accent, bold: true)
        g.box(x: x0, y: y0, width: width, height: height, style: box, ascii: state.ascii, clear: true)
        g.put(" route: users at \(site.name) (\(site.id))\(busiest.map { ", \($0.id)" } ?? "") ", x: x0 + 2, y: y0, style: box, maxWidth: width - 4)
        let lines = advice.text(width: width - 4).split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2)
        for (i, line) in lines.enumerated() where y0 + 1 + i < y0 + height - 2 {
            let text = state.ascii ? String(line).replacingOccurrences(of: "≈", with: "~") : String(line)
            g.put(text, x: x0 + 2, y: y0 + 1 + i, style: CellStyle(i == 0 ? .dim : .plain, bold: i == 0), maxWidth: width - 4)
        }
        g.put("round trip 5 ms + 1.35 × 2 × distance at 204 km/ms, + the site's p99 · any key closes",
              x: x0 + 2, y: y0 + height - 2, style: CellStyle(.dim), maxWidth: width - 4)
    }
}
