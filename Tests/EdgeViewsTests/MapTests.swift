import EdgeCollector
import EdgeCore
import EdgeViews
import Foundation
import Testing

@Suite("World map")
struct MapTests {
    func mapState(_ keys: [Key] = []) -> UIState {
        var s = goldenState()
        s.stack = [.triage]
        s = s.handle(.char("M"))
        for k in keys { s = s.handle(k) }
        return s
    }

    @Test("the world with every site as its worst state, the selected region outlined", arguments: GoldenScreenTests.sizes)
    func world(size: (Int, Int)) throws {
        try expectGolden("map-\(size.0)x\(size.1)", mapState(), width: size.0, height: size.1)
    }

    @Test("Enter zooms to the region; the cursor walks its sites", arguments: GoldenScreenTests.sizes)
    func region(size: (Int, Int)) throws {
        try expectGolden("map-region-\(size.0)x\(size.1)", mapState([.enter, .down]), width: size.0, height: size.1)
    }

    @Test("Frankfurt (50.1 N, 8.7 E) lands in the cell the projection puts it, drawn as a site, not land")
    func knownSite() throws {
        // 80x24: the map is 78×17 cells = 156×68 dots; the world's 360° across sets 2.3077° a
        // dot; 136° of latitude take 58.9 dots, centred: 4.53 dots above. By hand:
        // x = (8.6842 + 180) / 2.3077 = 81.8 → cell 40; y = 4.53 + (78 − 50.1155) / 2.3077 = 16.6 → cell 4.
        let w = MapViewport.world
        let v = MapViewport(west: w.west, east: w.east, south: w.south, north: w.north, width: 78, height: 17)
        let c = try #require(v.cell(lat: 50.1155, lon: 8.6842))
        #expect(c.x == 40 && c.y == 4)
        var s = mapState()
        let grid = Screen.render(&s, width: 80, height: 24)
        let lines = grid.lines()
        let glyph = Array(lines[4 + 4])[1 + 40]
        #expect(MapMark.allCases.map { Character($0.glyph(ascii: false)) }.contains(glyph), "got \(glyph)")
        // Mid-Atlantic (0°, 30° W): sea, and no site.
        #expect(v.cell(lat: 0, lon: -30).map { $0.x == 32 && $0.y == 9 } == true)
        #expect(Array(lines[4 + 9])[1 + 32] == " ")
        #expect(!LandMask.world.isLand(lat: 0, lon: -30) && LandMask.world.isLand(lat: 50.1, lon: 8.7))
    }

    @Test("keys: Enter zooms in then opens the site; Esc zooms out then closes; M closes")
    func keys() throws {
        var s = mapState()
        #expect(s.showMap && s.mapRegion == nil)
        let firstRegion = s.mapItems()[0]
        s = s.handle(.enter)
        #expect(s.mapRegion == firstRegion)
        let site = s.mapItems()[1]
        s = s.handle(.down).handle(.enter)
        #expect(!s.showMap && s.level == .site(site) && s.stack.first == .triage)
        s = s.handle(.char("M")).handle(.char("+"))
        #expect(s.mapRegion == firstRegion, "+ zooms in like Enter")
        s = s.handle(.escape)
        #expect(s.showMap && s.mapRegion == nil && s.mapSelection == 0, "Esc zooms out, the region still selected")
        s = s.handle(.escape)
        #expect(!s.showMap)
        s = s.handle(.char("M")).handle(.char("M"))
        #expect(!s.showMap)
    }

    @Test("ASCII terminals get a coarser map of . and letters; NO_COLOR tells states apart by shape")
    func ascii() throws {
        var s = mapState()
        s.ascii = true
        let lines = Screen.render(&s, width: 80, height: 24).lines()
        let map = lines[4..<21].joined(separator: "\n")
        #expect(map.unicodeScalars.allSatisfy { $0.isASCII }, "\(map)")
        #expect(map.contains(".") && map.contains("X"))
        #expect(Set(MapMark.allCases.map { $0.glyph(ascii: true) }).count == MapMark.allCases.count)
        #expect(Set(MapMark.allCases.map { $0.glyph(ascii: false) }).count == MapMark.allCases.count)
    }
}
