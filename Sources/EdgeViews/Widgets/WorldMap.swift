import EdgeAssets
import EdgeCollector
import EdgeCore
import Foundation

/// The embedded world land mask (`Assets/landmask.txt`, from `global-land-mask`): 0.5° cells,
/// rows from 90° N, columns from 180° W.
public struct LandMask: Sendable {
    public let cols: Int
    public let rows: Int
    private let land: [Bool]

    /// Parses the run-length rows of `Assets/landmask.txt`; nil when the text is not one.
    public init?(text: String) {
        var rows: [[Bool]] = []
        var cols = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            var row: [Bool] = []
            var landRun = false
            for field in line.split(separator: " ") {
                guard let n = Int(field), n >= 0 else { return nil }
                row.append(contentsOf: repeatElement(landRun, count: n))
                landRun.toggle()
            }
            if cols == 0 { cols = row.count }
            guard row.count == cols, cols > 0 else { return nil }
            rows.append(row)
        }
        guard !rows.isEmpty else { return nil }
        self.cols = cols; self.rows = rows.count
        land = rows.flatMap { $0 }
    }

    /// The compiled-in mask (an empty sea if the asset were broken: the map still shows sites).
    public static let world: LandMask = LandMask(text: EmbeddedAssets.files["landmask.txt"] ?? "") ?? LandMask(text: "720")!

    public func isLand(lat: Double, lon: Double) -> Bool {
        guard lat.isFinite, lon.isFinite else { return false }
        let r = Int(((90 - lat) / 180 * Double(rows)).rounded(.down)), c = Int(((lon + 180) / 360 * Double(cols)).rounded(.down))
        guard r >= 0, r < rows else { return false }
        return land[r * cols + ((c % cols) + cols) % cols]
    }
}

/// An equirectangular view of part of the globe on a box of cells. Braille dots are close to
/// square on a terminal (a cell is ~1:2, its dots 2×4), so degrees map to dots at one scale on
/// both axes and the world keeps its shape; the view is centred in the box.
public struct MapViewport: Sendable, Equatable {
    public var west: Double, east: Double, south: Double, north: Double
    /// Cells of the box.
    public var width: Int, height: Int
    /// Degrees per dot, and the dot offset that centres the view.
    public let degreesPerDot: Double
    let offsetX: Double, offsetY: Double

    /// The inhabited world: 180° W–180° E, 58° S–78° N (no Antarctica, no polar sea).
    public static let world = (west: -180.0, east: 180.0, south: -58.0, north: 78.0)

    public init(west: Double, east: Double, south: Double, north: Double, width: Int, height: Int) {
        self.west = west; self.east = east; self.south = south; self.north = north
        self.width = max(1, width); self.height = max(1, height)
        let dotsX = Double(self.width * 2), dotsY = Double(self.height * 4)
        degreesPerDot = max((east - west) / dotsX, (north - south) / dotsY, 1e-6)
        offsetX = (dotsX - (east - west) / degreesPerDot) / 2
        offsetY = (dotsY - (north - south) / degreesPerDot) / 2
    }

    /// A view around the given points with a margin, no smaller than `minSpan` degrees.
    public static func around(_ points: [(Double, Double)], width: Int, height: Int, minSpan: Double = 8) -> MapViewport {
        let lats = points.map(\.0).filter(\.isFinite), lons = points.map(\.1).filter(\.isFinite)
        guard let s = lats.min(), let n = lats.max(), let w = lons.min(), let e = lons.max() else {
            let v = world
            return MapViewport(west: v.west, east: v.east, south: v.south, north: v.north, width: width, height: height)
        }
        let padLat = max(minSpan - (n - s), 0) / 2 + 2, padLon = max(minSpan - (e - w), 0) / 2 + 2
        return MapViewport(west: max(-180, w - padLon), east: min(180, e + padLon), south: max(-85, s - padLat),
                           north: min(85, n + padLat), width: width, height: height)
    }

    /// The dot of a place (may lie outside the box).
    public func dot(lat: Double, lon: Double) -> (x: Int, y: Int) {
        (Int((offsetX + (lon - west) / degreesPerDot).rounded(.down)), Int((offsetY + (north - lat) / degreesPerDot).rounded(.down)))
    }

    /// The cell of a place, nil outside the box.
    public func cell(lat: Double, lon: Double) -> (x: Int, y: Int)? {
        guard lat.isFinite, lon.isFinite else { return nil }
        let d = dot(lat: lat, lon: lon)
        guard d.x >= 0, d.y >= 0, d.x < width * 2, d.y < height * 4 else { return nil }
        return (d.x / 2, d.y / 4)
    }

    /// The place at the centre of a dot.
    func place(dotX: Int, dotY: Int) -> (lat: Double, lon: Double) {
        (north - (Double(dotY) + 0.5 - offsetY) * degreesPerDot, west + (Double(dotX) + 0.5 - offsetX) * degreesPerDot)
    }
}

/// How a site shows on the map, worst first: the glyph differs by state, so the map reads
/// without colour too.
public enum MapMark: Int, Sendable, Comparable, CaseIterable {
    case ok, stale, degraded, burning, down

    public static func < (a: MapMark, b: MapMark) -> Bool { a.rawValue < b.rawValue }

    public func glyph(ascii: Bool) -> Unicode.Scalar {
        switch self {
        case .ok: ascii ? "o" : "•"
        case .stale: ascii ? "?" : "○"
        case .degraded: ascii ? "+" : "◆"
        case .burning: ascii ? "!" : "▲"
        case .down: ascii ? "X" : "✖"
        }
    }

    public var tone: Tone {
        switch self {
        case .ok: .healthy
        case .stale: .stale
        case .degraded: .degraded
        case .burning, .down: .down
        }
    }

    public var label: String {
        switch self {
        case .ok: "ok"
        case .stale: "stale"
        case .degraded: "degraded"
        case .burning: "fast burn"
        case .down: "down"
        }
    }

    /// A site's mark: its worst health, raised to `burning` when a class burns fast there.
    public static func of(_ site: GroupStatus, catalog: ClassCatalog, rules: TriageRules = TriageRules()) -> MapMark {
        let h = site.health
        if h.isDark { return h.down > 0 ? .down : .stale }
        var mark: MapMark = h.down > 0 ? .down : .ok
        if mark < .burning, site.classes.contains(where: { Triage.isBurning($0, catalog: catalog, rules: rules, fast: true) }) { mark = .burning }
        if mark < .degraded && (h.degraded > 0 || site.classes.contains { Triage.isBurning($0, catalog: catalog, rules: rules, fast: false) }) {
            mark = .degraded
        }
        if mark < .stale && h.stale > 0 { mark = .stale }
        return mark
    }
}

/// The world (or a part of it) with the fleet's sites on it.
public struct WorldMap {
    public var viewport: MapViewport
    public var sites: [GroupStatus]
    public var catalog: ClassCatalog
    /// Sites drawn bold (the selected region's), and the one under the cursor.
    public var highlighted: Set<String> = []
    public var cursor: String?
    public var ascii = false

    public init(viewport: MapViewport, sites: [GroupStatus], catalog: ClassCatalog) {
        self.viewport = viewport; self.sites = sites; self.catalog = catalog
    }

    /// The worst mark per cell, and the site that set it.
    public func marks() -> [Int: (MapMark, String)] {
        var out: [Int: (MapMark, String)] = [:]
        for s in sites {
            guard let c = viewport.cell(lat: s.latitude, lon: s.longitude) else { continue }
            let k = c.y * viewport.width + c.x
            let m = MapMark.of(s, catalog: catalog)
            if let old = out[k], old.0 > m || (old.0 == m && old.1 <= s.id) { continue }
            out[k] = (m, s.id)
        }
        return out
    }

    /// Draws land (dim dots, or `.` in ASCII), then each site cell's worst mark, at (x, y).
    public func draw(_ g: inout CellGrid, x: Int, y: Int) {
        let w = viewport.width, h = viewport.height
        let mask = LandMask.world
        if ascii {
            // One sample a cell: its centre.
            for cy in 0..<h {
                for cx in 0..<w {
                    let p = viewport.place(dotX: cx * 2 + 1, dotY: cy * 4 + 2)
                    if mask.isLand(lat: p.lat, lon: p.lon) { g.fill(".", x: x + cx, y: y + cy, count: 1, style: CellStyle(.dim)) }
                }
            }
        } else {
            var canvas = BrailleCanvas(width: w, height: h)
            for dy in 0..<canvas.dotsY {
                for dx in 0..<canvas.dotsX {
                    let p = viewport.place(dotX: dx, dotY: dy)
                    if mask.isLand(lat: p.lat, lon: p.lon) { canvas.set(dx, dy) }
                }
            }
            canvas.draw(into: &g, x: x, y: y, tone: .dim)
        }
        outline(&g, x: x, y: y)
        for (k, (mark, id)) in marks() {
            g.fill(mark.glyph(ascii: ascii), x: x + k % w, y: y + k / w, count: 1,
                   style: CellStyle(mark.tone, bold: mark >= .degraded || highlighted.contains(id)))
        }
        // The cursor's own site, even where a worse one shares its cell.
        if let cursor, let s = sites.first(where: { $0.id == cursor }), let c = viewport.cell(lat: s.latitude, lon: s.longitude) {
            let mark = MapMark.of(s, catalog: catalog)
            g.fill(mark.glyph(ascii: ascii), x: x + c.x, y: y + c.y, count: 1, style: CellStyle(mark.tone, bold: true, reverse: true))
        }
    }

    /// A box around the highlighted sites' cells (the selected region), one cell outside them.
    func outline(_ g: inout CellGrid, x: Int, y: Int) {
        let cells = sites.filter { highlighted.contains($0.id) }.compactMap { viewport.cell(lat: $0.latitude, lon: $0.longitude) }
        guard let x0 = cells.map(\.x).min(), let x1 = cells.map(\.x).max(), let y0 = cells.map(\.y).min(), let y1 = cells.map(\.y).max() else { return }
        let l = max(0, x0 - 1), r = min(viewport.width - 1, x1 + 1), t = max(0, y0 - 1), b = min(viewport.height - 1, y1 + 1)
        guard r > l, b > t else { return }
        g.box(x: x + l, y: y + t, width: r - l + 1, height: b - t + 1, style: CellStyle(.accent), ascii: ascii)
    }
}
