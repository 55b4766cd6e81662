import EdgeCollector
import EdgeCore
import EdgeTestSupport
import EdgeViews
import Testing

@Suite("Keys as state transitions")
struct KeyHandlingTests {
    let snap = demoSnapshot()

    func state(_ keys: [Key]) -> UIState {
        keys.reduce(UIState(snapshot: snap)) { $0.handle($1) }
    }

    func selectedID(_ s: UIState) -> String? {
        guard let rows = s.table()?.rows, let i = s.selection(in: rows) else { return nil }
        return rows[i].id
    }

    @Test("Enter drills Fleet → Region → Site → Node; Esc, Backspace and Left go back")
    func drillAndBack() {
        var s = state([.enter])
        #expect(s.level == .region("WEU"))  // the worst region comes first
        s = s.handle(.enter)
        #expect(s.level == .site("fra1"))
        s = s.handle(.enter)
        #expect(s.level == .node("fra1-n02"))  // the DOWN node is first
        s = s.handle(.enter)
        #expect(s.level == .node("fra1-n02"), "GPUs are the bottom level")
        #expect(s.handle(.escape).level == .site("fra1"))
        #expect(s.handle(.backspace).level == .site("fra1"))
        #expect(s.handle(.left).level == .site("fra1"))
        #expect(s.handle(.escape).handle(.escape).handle(.escape).handle(.escape).level == .fleet)
    }

    @Test("a lists every site of the fleet worst first; Enter drills into one; a again returns")
    func allSites() {
        var s = state([.char("a")])
        #expect(s.level == .allSites)
        #expect(s.table()?.rows.map(\.id) == ["fra1", "tyo1", "zrh1", "sel1"])
        s = s.handle(.enter)
        #expect(s.level == .site("fra1"))
        s = s.handle(.escape)
        #expect(s.level == .allSites)
        #expect(s.handle(.char("a")).level == .fleet)
    }

    @Test("selection is remembered per level when going back up")
    func rememberedSelection() {
        var s = state([.down])  // second region
        #expect(selectedID(s) == "NEAS")
        s = s.handle(.enter).handle(.down)
        #expect(s.level == .region("NEAS"))
        let site = selectedID(s)
        s = s.handle(.escape)
        #expect(selectedID(s) == "NEAS")
        s = s.handle(.enter)
        #expect(selectedID(s) == site)
    }

    @Test("arrows, j/k, g/G and page keys move within bounds")
    func movement() {
        var s = state([.char("j")])
        #expect(selectedID(s) == "NEAS")
        s = s.handle(.char("k")).handle(.up).handle(.up)
        #expect(selectedID(s) == "WEU")
        s = s.handle(.char("G"))
        #expect(selectedID(s) == "NEAS")
        s = s.handle(.char("g"))
        #expect(selectedID(s) == "WEU")
        s = s.handle(.pageDown)
        #expect(selectedID(s) == "NEAS")
        s = s.handle(.pageUp)
        #expect(selectedID(s) == "WEU")
    }

    @Test("/ filters by substring; Enter applies; Esc clears; keys are text while typing")
    func filter() {
        var s = state([.enter, .char("/"), .char("z"), .char("q")])
        #expect(s.editingFilter == "zq")
        #expect(!s.quit, "q is text while typing a filter")
        s = s.handle(.backspace).handle(.char("ü")).handle(.enter)
        #expect(s.filter == "zü")
        #expect(s.editingFilter == nil)
        #expect(s.table()?.rows.map(\.id) == ["zrh1"])
        s = s.handle(.char("/")).handle(.escape)
        #expect(s.filter.isEmpty)
        #expect(s.table()?.rows.count == 2)
    }

    @Test("s cycles the sort key, S reverses it")
    func sorting() {
        var s = state([])
        #expect(s.sort == .health)
        s = s.handle(.char("s"))
        #expect(s.sort == .p99)
        #expect(s.table()?.rows.first?.id == "NEAS")
        s = s.handle(.char("S"))
        #expect(s.reversed)
        #expect(s.table()?.rows.first?.id == "WEU")
        for _ in 0..<SortKey.allCases.count - 1 { s = s.handle(.char("s")) }
        #expect(s.sort == .health)
    }

    @Test("space pauses and resumes; +/- step the refresh interval within bounds")
    func pauseAndRefresh() {
        var s = state([.char(" ")])
        #expect(s.paused)
        s = s.handle(.char(" "))
        #expect(!s.paused)
        s = s.handle(.char("+"))
        #expect(s.refreshSeconds == 0.5)
        for _ in 0..<10 { s = s.handle(.char("+")) }
        #expect(s.refreshSeconds == 0.25)
        for _ in 0..<10 { s = s.handle(.char("-")) }
        #expect(s.refreshSeconds == 10)
    }

    @Test("? opens help; ? again, Esc or any other key closes it without acting")
    func help() {
        var s = state([.char("?")])
        #expect(s.showHelp)
        s = s.handle(.char("q"))
        #expect(!s.showHelp && !s.quit)
        s = s.handle(.char("?")).handle(.char("?"))
        #expect(!s.showHelp, "? toggles")
        s = s.handle(.char("?")).handle(.escape)
        #expect(!s.showHelp && s.level == .fleet, "Esc closes help and does not go back")
    }

    @Test("Esc clears an applied filter first, then goes back a level")
    func escapeClearsFilterFirst() {
        var s = state([.char("/"), .char("W"), .char("E"), .char("U"), .enter])
        #expect(s.filter == "WEU" && s.table()?.rows.map(\.id) == ["WEU"])
        s = s.handle(.escape)
        #expect(s.filter.isEmpty && s.level == .fleet, "the filter goes, the level stays")
        #expect((s.table()?.rows.count ?? 0) > 1)
        s = s.handle(.enter).handle(.char("/")).handle(.char("z")).handle(.enter)
        #expect(s.filter == "z")
        s = s.handle(.escape)
        #expect(s.filter.isEmpty && s.level != .fleet, "first Esc clears the region's filter")
        s = s.handle(.escape)
        #expect(s.level == .fleet, "second Esc goes back")
    }

    @Test("q quits from every level; Ctrl-C even while typing a filter")
    func quit() {
        for keys: [Key] in [[], [.enter], [.enter, .enter], [.enter, .enter, .enter]] {
            #expect(state(keys + [.char("q")]).quit)
        }
        #expect(state([.char("/"), .ctrl("c")]).quit)
    }

    @Test("a remapped key map drives the same actions; bad maps name the line")
    func keymap() throws {
        var s = UIState(snapshot: snap)
        s.keyMap = try KeyMap(text: "down x\nquit Q\n")
        s = s.handle(.char("x"))
        #expect(selectedID(s) == "NEAS")
        #expect(s.handle(.char("Q")).quit)
        #expect(!s.handle(.char("q")).quit)
        #expect(throws: KeyMap.ParseError.self) { try KeyMap(text: "# ok\nfly up\n") }
        do { _ = try KeyMap(text: "up nosuchkey\n") } catch let e as KeyMap.ParseError { #expect(e.line == 1) }
        #expect(try KeyMap(text: "up k\n").action(for: .char("q")) == .quit, "quit always exists")
    }

    @Test("the default key map binds every action")
    func defaultMap() {
        for a in Action.allCases { #expect(KeyMap.standard.names[a]?.isEmpty == false, "\(a)") }
    }

    @Test("rendering keeps the selection visible when it moves past the screen")
    func scrolling() {
        var s = UIState(snapshot: goldenFleet)
        s = s.handle(.enter)  // a region with hundreds of sites
        for _ in 0..<40 { s = s.handle(.down) }
        let grid = Screen.render(&s, width: 80, height: 24)
        let top = s.scrollTop[s.level] ?? 0
        #expect(top > 0)
        let rows = s.table()!.rows
        let selected = rows[s.selection(in: rows)!]
        #expect(grid.text.contains(String(selected.id)))
    }

    @Test("a failing source shows in the status bar")
    func sourceProblems() {
        var s = state([])
        s.status.problems = ["http://10.0.0.7:9400/metrics: connection refused", "statsd: 3 invalid"]
        let last = Screen.render(&s, width: 160, height: 30).lines().last ?? ""
        #expect(last.contains("http://10.0.0.7:9400/metrics: connection refused (+1 more)"))
    }

    @Test("hostile names never reach the screen raw; wide names keep the grid aligned")
    func hostileNames() {
        var s = state([.down, .enter, .enter])  // NEAS → tyo1, whose node has an escape sequence
        let grid = Screen.render(&s, width: 100, height: 30)
        #expect(!grid.text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(grid.text.contains("tyo1-n02?[2J?ev…"))
        for line in grid.lines() { #expect(TextWidth.width(line) == 100) }
        var f = state([])
        let fleet = Screen.render(&f, width: 80, height: 24)
        for line in fleet.lines() { #expect(TextWidth.width(line) == 80) }
    }
}
