import EdgeCollector
import EdgeCore

extension UIState {
    /// What the map's cursor walks: the regions worst first (the world), or the zoomed
    /// region's sites worst first; the same order as their tables.
    public func mapItems() -> [String] {
        guard let snapshot else { return [] }
        if let r = mapRegion {
            return FleetTables.table(snapshot, kind: .sites, scope: Scope(region: r)).rows.map(\.id)
        }
        return FleetTables.table(snapshot, kind: .regions).rows.map(\.id)
    }
}

extension Screen {
    /// The map: the world (or the zoomed region) with every site as its worst state; the
    /// selected region outlined; a legend and the selection's figures below.
    static func mapView(_ g: inout CellGrid, _ state: inout UIState, top: Int, bottom: Int) {
        guard let snap = state.snapshot else { return }
        let items = state.mapItems()
        let sel = items.isEmpty ? nil : min(max(0, state.mapSelection), items.count - 1)
        let title = state.mapRegion.map { r in
            "Map · \(snap.regions.first { $0.id == r }?.name ?? r) · ↑↓ site · Enter: open it · Esc: the world"
        } ?? "Map · the world · ↑↓ region · Enter: zoom in · Esc or M: close"
        g.fill(x: 0, y: top, count: g.width, style: CellStyle(.plain, bold: true, reverse: true))
        g.put(" " + (state.ascii ? title.replacingOccurrences(of: "↑↓", with: "up/down") : title), x: 0, y: top,
              style: CellStyle(.plain, bold: true, reverse: true), maxWidth: g.width)
        let mapTop = top + 1, mapHeight = max(1, bottom - 2 - mapTop + 1)
        let width = g.width - 2
        let viewport: MapViewport
        var highlighted = Set<String>()
        var cursor: String?
        if let r = state.mapRegion {
            let own = snap.sites.filter { $0.region == r }
            viewport = MapViewport.around(own.map { ($0.latitude, $0.longitude) }, width: width, height: mapHeight)
            highlighted = Set(own.map(\.id))
            cursor = sel.map { items[$0] }
        } else {
            let w = MapViewport.world
            viewport = MapViewport(west: w.west, east: w.east, south: w.south, north: w.north, width: width, height: mapHeight)
            if let sel { highlighted = Set(snap.sites.filter { $0.region == items[sel] }.map(\.id)) }
        }
        var map = WorldMap(viewport: viewport, sites: snap.sites, catalog: snap.classCatalog)
        map.highlighted = highlighted
        map.cursor = cursor
        map.ascii = state.ascii
        map.draw(&g, x: 1, y: mapTop)
        // Legend, then what is selected.
        var x = 1
        let legendY = bottom - 1
        for m in MapMark.allCases {
            x += g.put(String(m.glyph(ascii: state.ascii)), x: x, y: legendY, style: CellStyle(m.tone, bold: true))
            x += g.put(" \(m.label)  ", x: x, y: legendY, style: CellStyle(.dim))
        }
        if let sel {
            let id = items[sel]
            let group = state.mapRegion == nil ? snap.regions.first { $0.id == id } : snap.sites.first { $0.id == id }
            if let group {
                let name = group.name == group.id ? group.id : "\(group.id) \(group.name)"
                let text = "\(name): \(Formatting.count(group.nodeCount)) nodes \(Formatting.health(group.health)) · "
                    + "p99 \(Formatting.msUnit(group.latency.p99)) · \(Formatting.rate(group.rps)) req/s"
                    + (group.headroom.isFinite ? " · headroom \(Formatting.pct(group.headroom * 100))%" : "")
                g.put(text, x: 1, y: bottom, style: CellStyle(Tone.of(group.health.worst), bold: true), maxWidth: g.width - 2)
            }
        }
        state.pageSize = max(1, mapHeight)
    }

    /// The world map alone, for `snapshot --format map`: `width` columns, as tall as the world
    /// needs at that width, then the legend.
    public static func mapText(_ snap: FleetSnapshot, width: Int, ascii: Bool) -> String {
        let w = MapViewport.world
        let rows = max(4, Int((Double(width * 2) * (w.north - w.south) / (w.east - w.west) / 4).rounded(.up)))
        var g = CellGrid(width: width, height: rows + 1)
        var map = WorldMap(viewport: MapViewport(west: w.west, east: w.east, south: w.south, north: w.north, width: width, height: rows),
                           sites: snap.sites, catalog: snap.classCatalog)
        map.ascii = ascii
        map.draw(&g, x: 0, y: 0)
        var x = 0
        for m in MapMark.allCases {
            let count = snap.sites.filter { MapMark.of($0, catalog: snap.classCatalog) == m }.count
            x += g.put("\(m.glyph(ascii: ascii)) \(m.label) \(Formatting.count(count))   ", x: x, y: rows)
        }
        return g.text
    }
}
