import EdgeCollector
import EdgeCore

import Foundation

/// The last table built, keyed by everything it depends on.
final class TableCache: @unchecked Sendable {
    struct Key: Equatable {
        var snapshot: UInt64
        var time: Double
        var level: Level
        var sort: SortKey
        var reversed: Bool
        var filter: String
    }

    private let lock = NSLock()
    private var key: Key?
    private var model: TableModel?

    func model(for key: Key, build: () -> TableModel) -> TableModel {
        lock.lock()
        if key == self.key, let model { lock.unlock(); return model }
        lock.unlock()
        let built = build()
        lock.lock(); self.key = key; model = built; lock.unlock()
        return built
    }
}

/// Where the operator is: Fleet → Region → Site → Node (whose rows are GPUs).
public enum Level: Hashable, Sendable {
    /// What needs attention now, fleet-wide, worst first: the landing screen (`t`).
    case triage
    case fleet
    /// Every site of the fleet in one list, worst first (the `a` key from the fleet).
    case allSites
    case region(String)
    case site(String)
    case node(String)

    /// What the level's table lists.
    public var rows: RowKind {
        switch self {
        case .triage, .fleet: .regions
        case .allSites, .region: .sites
        case .site: .nodes
        case .node: .gpus
        }
    }

    public var scope: Scope {
        switch self {
        case .triage, .fleet, .allSites: Scope()
        case .region(let r): Scope(region: r)
        case .site(let s): Scope(site: s)
        case .node(let n): Scope(node: n)
        }
    }
}

/// What the replay keys ask of a replay.
public enum ReplayCommand: Sendable, Equatable {
    case step(seconds: Double)
    case seek(seconds: Double)
}

/// Figures about edgetop itself, shown in the status bar.
public struct StatusInfo: Sendable, Equatable {
    public var source: String
    public var samplesPerSecond: Double
    public var invalid: UInt64
    /// The process's own CPU use, percent of one core.
    public var cpuPercent: Double
    /// Live sources that are failing or rejecting input, one short line each.
    public var problems: [String] = []

    public init(source: String = "", samplesPerSecond: Double = 0, invalid: UInt64 = 0, cpuPercent: Double = .nan) {
        self.source = source; self.samplesPerSecond = samplesPerSecond; self.invalid = invalid; self.cpuPercent = cpuPercent
    }
}

/// The whole interactive UI as a value: `handle(_:)` is (state, key) → state, `Screen.render`
/// is state → cells. Nothing here touches a terminal, so every behaviour is testable.
public struct UIState: Sendable {
    /// What is on screen (frozen while paused).
    public var snapshot: FleetSnapshot?
    public var stack: [Level] = [.fleet]
    /// Selected row id per level, remembered when going back up.
    public var selectedID: [Level: String] = [:]
    /// Selected row index per level, used when the selected id has gone (filtered out, say).
    public var selectedIndex: [Level: Int] = [:]
    /// First visible row per level.
    public var scrollTop: [Level: Int] = [:]
    public var sort: SortKey = .health
    public var reversed = false
    /// The applied filter (substring, case-insensitive).
    public var filter = ""
    /// The filter being typed after `/`; nil when not typing.
    public var editingFilter: String?
    public var paused = false
    public var refreshSeconds: Double = 1
    public var showHelp = false
    public var quit = false
    public var status = StatusInfo()
    /// Draw with ASCII only (the locale is not UTF-8).
    public var ascii = false
    /// Rows the table shows at once; the renderer reports it so page keys move by a page.
    public var pageSize = 20
    public var keyMap: KeyMap = .standard

    // Time.
    /// 15 min histories (1 s steps) of the entities on screen, for sparklines and charts.
    public var history: [HistoryEntity: HistorySeries] = [:]
    /// Histories over `chartSpan` when it is longer than 15 min.
    public var chartHistory: [HistoryEntity: HistorySeries] = [:]
    public var chartSpan: HistorySpan = .m15
    /// What the last frame showed histories for (the session fetches these next).
    public var wantedHistory: [HistoryEntity] = []
    /// Node view: charts (true) or the latency distribution.
    public var showCharts = true
    /// The "what changed" list is open, with its selected row.
    public var showChanges = false
    public var changesSelection = 0
    /// What "what changed" compares with: set by `m`, by pausing, or the first snapshot. Kept
    /// as `Changes.kept(_:)` trims it (what a comparison reads), not whole: at 44k nodes a
    /// whole snapshot held beside the one on screen is ~25 MB more.
    public var mark: FleetSnapshot? {
        get { keptMark }
        set { keptMark = newValue.map(Changes.kept) }
    }
    private var keptMark: FleetSnapshot?
    /// The routing advisor shown over the screen for this site (`r`); any key closes it.
    public var routeSite: String?
    /// The map is open (`M`); zoomed into this region when set; the cursor's index in
    /// `mapItems()`.
    public var showMap = false
    public var mapRegion: String?
    public var mapSelection = 0
    /// A replay command for the session to carry out (replay only); cleared when taken.
    public var replayCommand: ReplayCommand?
    /// Whether the data is a replay the keys can step and seek.
    public var replayControls = false
    /// The sorted table for the current snapshot and view, shared by copies of the state:
    /// moving the selection re-formats the visible rows only, never re-sorts 4,400 of them.
    private let tableCache = TableCache()
    private let changesCache = ChangesCache()
    private let triageCache = TriageCache()

    public static let refreshSteps: [Double] = [0.25, 0.5, 1, 2, 5, 10]
    /// Seconds after start during which the automatic "what changed" mark follows the data.
    public static let settleSeconds = 5.0

    /// A state showing `landing` first: the live view lands on triage; tests and the bench
    /// start where they look.
    public init(snapshot: FleetSnapshot? = nil, landing: Level = .fleet) {
        self.snapshot = snapshot
        stack = landing == .fleet ? [.fleet] : [landing]
    }

    /// The triage list of the snapshot on screen (cached per snapshot; "since" follows each
    /// item across snapshots).
    public func triage() -> [TriageItem] {
        guard let snapshot else { return [] }
        return triageCache.items(snapshot)
    }

    /// Index of the selected triage item, following it by key when the list reorders.
    public func triageSelection(in items: [TriageItem]) -> Int? {
        guard !items.isEmpty else { return nil }
        if let key = selectedID[.triage], let i = items.firstIndex(where: { $0.key == key }) { return i }
        return min(max(0, selectedIndex[.triage] ?? 0), items.count - 1)
    }

    public var level: Level { stack.last ?? .fleet }

    /// The fleet with what is below it: triage when the session landed there, so going back
    /// from the fleet returns to it.
    private var home: [Level] { stack.first == .triage ? [.triage, .fleet] : [.fleet] }

    /// The current level's table, filtered and sorted as the operator asked.
    public func table() -> TableModel? {
        guard let snapshot else { return nil }
        let key = TableCache.Key(snapshot: snapshot.id, time: snapshot.time, level: level, sort: sort,
                                 reversed: reversed, filter: filter)
        return tableCache.model(for: key) {
            FleetTables.table(snapshot, kind: level.rows, scope: level.scope, sort: sort, reversed: reversed, filter: filter)
        }
    }

    /// Index of the selected row in `rows`, following the row by id when it moves.
    public func selection(in rows: [TableRow]) -> Int? {
        guard !rows.isEmpty else { return nil }
        if let id = selectedID[level], let i = rows.firstIndex(where: { $0.id == id }) { return i }
        return min(max(0, selectedIndex[level] ?? 0), rows.count - 1)
    }

    /// Applies one key.
    public func handle(_ key: Key) -> UIState {
        var s = self
        s.apply(key)
        return s
    }

    private mutating func apply(_ key: Key) {
        if key == .resize { return }
        if showHelp { showHelp = false; return }  // any key closes help, `?` too (a toggle)
        if routeSite != nil { routeSite = nil; return }  // and the routing advisor
        if editingFilter != nil { editFilter(key); return }
        guard let action = keyMap.action(for: key) else { return }
        if showMap && handleMap(action) { return }
        if showChanges && handleChanges(action) { return }
        if level == .triage && handleTriage(action) { return }
        switch action {
        case .quit: quit = true
        case .help: showHelp = true
        case .up: move(by: -1)
        case .down: move(by: 1)
        case .pageUp: move(by: -max(1, pageSize - 1))
        case .pageDown: move(by: max(1, pageSize - 1))
        case .top: move(to: 0)
        case .bottom: move(to: Int.max)
        case .drill: drill()
        case .back:
            // As in k9s and htop: an applied filter is cleared before the view goes back.
            if !filter.isEmpty { filter = ""; resetSelection() } else { back() }
        case .filter: editingFilter = filter
        case .sortNext: sort = sort.next; reversed = false
        case .sortReverse: reversed.toggle()
        case .pause:
            paused.toggle()
            if paused { mark = snapshot }  // "what changed" since the pause
        case .changes: showChanges = true; changesSelection = 0
        case .triage: stack = [.triage]; filter = ""; showChanges = false; showMap = false
        case .map: showMap = true; showChanges = false; mapRegion = nil; mapSelection = 0
        case .route: routeSite = siteForRoute()
        case .mark: mark = snapshot
        case .chartSpan: chartSpan = chartSpan.next
        case .charts: showCharts.toggle()
        case .stepForward: if replayControls { replayCommand = .step(seconds: 1); paused = true }
        case .seekBack: if replayControls { replayCommand = .seek(seconds: -60) }
        case .seekForward: if replayControls { replayCommand = .seek(seconds: 60) }
        case .allSites:
            if level == .allSites { back() } else { stack = home + [.allSites]; filter = "" }
        case .faster:
            refreshSeconds = UIState.refreshSteps.last(where: { $0 < refreshSeconds }) ?? UIState.refreshSteps[0]
        case .slower:
            refreshSeconds = UIState.refreshSteps.first(where: { $0 > refreshSeconds }) ?? UIState.refreshSteps.last!
        }
    }

    /// Keys while "what changed" is open: move, Enter jumps to the entity, Esc or `d` closes.
    /// Returns false for keys that act as usual (quit, help, pause…).
    private mutating func handleChanges(_ action: Action) -> Bool {
        let items = changes()
        if let i = moved(action, from: changesSelection, count: items.count) { changesSelection = i; return true }
        switch action {
        case .back, .changes: showChanges = false
        case .drill:
            guard changesSelection < items.count, let snapshot else { return true }
            showChanges = false
            jump(to: items[changesSelection].target, in: snapshot)
        default: return false
        }
        return true
    }

    /// Where a movement key takes a cursor at `current` in a list of `count` (nil: not a
    /// movement key). Lists other than tables (triage, what changed, the map) share it.
    private func moved(_ action: Action, from current: Int, count: Int) -> Int? {
        let page = max(1, pageSize - 1)
        let target: Int
        switch action {
        case .up: target = current - 1
        case .down: target = current + 1
        case .pageUp: target = current - page
        case .pageDown: target = current + page
        case .top: target = 0
        case .bottom: target = count - 1
        default: return nil
        }
        return min(max(0, target), max(0, count - 1))
    }

    /// Keys on the map: move between regions (or a zoomed region's sites), Enter zooms in or
    /// opens the site, `+`/`-` zoom, Esc zooms out then closes. False for keys that act as usual.
    private mutating func handleMap(_ action: Action) -> Bool {
        if let i = moved(action, from: mapSelection, count: mapItems().count) { mapSelection = i; return true }
        switch action {
        case .drill, .faster:
            let items = mapItems()
            guard mapSelection < items.count, let snapshot else { return true }
            if mapRegion == nil {
                mapRegion = items[mapSelection]
                mapSelection = 0
            } else if action == .drill {
                showMap = false
                jump(to: .site(items[mapSelection]), in: snapshot)
            }
        case .back, .slower:
            if let r = mapRegion {
                mapRegion = nil
                mapSelection = mapItems().firstIndex(of: r) ?? 0
            } else if action == .back {
                showMap = false
            }
        case .map: showMap = false
        default: return false
        }
        return true
    }

    /// Keys on the triage list: move, Enter goes to the item's place, `t` shows the fleet.
    /// Returns false for keys that act as usual.
    private mutating func handleTriage(_ action: Action) -> Bool {
        let items = triage()
        func select(_ i: Int) {
            guard !items.isEmpty else { return }
            let i = min(max(0, i), items.count - 1)
            selectedIndex[.triage] = i
            selectedID[.triage] = items[i].key
        }
        if let i = moved(action, from: triageSelection(in: items) ?? 0, count: items.count) { select(i); return true }
        switch action {
        case .triage: stack = home
        case .back: break  // the landing screen: nothing above it
        case .drill:
            guard let snapshot, let i = triageSelection(in: items) else {
                stack = home  // nothing to triage: Enter shows the fleet
                return true
            }
            select(i)
            jump(to: items[i].target, in: snapshot)
        case .filter, .sortNext, .sortReverse, .allSites:
            stack = home  // table keys act on the fleet's tables
            return false
        default: return false
        }
        return true
    }

    /// What moved between the mark and the snapshot on screen (cached per pair).
    public func changes() -> [ChangeItem] {
        guard let snapshot, let mark else { return [] }
        return changesCache.items(mark: mark, now: snapshot)
    }

    /// Makes the entity `target` the current level, with the path above it.
    mutating func jump(to target: HistoryEntity, in snap: FleetSnapshot) {
        filter = ""
        // Back from where it lands walks up to the fleet, then to triage when it came from there.
        switch target {
        case .fleet: stack = home
        case .region(let r): stack = home + [.region(r)]; selectedID[.fleet] = r
        case .site(let s):
            let region = snap.sites.first { $0.id == s }?.region ?? ""
            stack = home + [.region(region), .site(s)]
            selectedID[.fleet] = region; selectedID[.region(region)] = s
        case .node(let n):
            guard let node = snap.nodes.first(where: { $0.id == n }) else { return }
            stack = home + [.region(node.region), .site(node.site), .node(n)]
            selectedID[.fleet] = node.region; selectedID[.region(node.region)] = node.site; selectedID[.site(node.site)] = n
        }
    }

    private mutating func editFilter(_ key: Key) {
        switch key {
        case .enter:
            filter = editingFilter ?? ""
            editingFilter = nil
            resetSelection()
        case .escape:
            filter = ""
            editingFilter = nil
            resetSelection()
        case .backspace:
            if editingFilter?.isEmpty == false { editingFilter?.removeLast() }
        case .ctrl("c"):
            quit = true
        case .ctrl("u"):
            editingFilter = ""
        case .char(let c):
            if (editingFilter?.count ?? 0) < 64, !c.isNewline, c.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) {
                editingFilter?.append(c)
            }
        default: break
        }
        if editingFilter != nil { filter = editingFilter ?? "" }  // live preview while typing
    }

    private mutating func resetSelection() {
        selectedIndex[level] = 0
        selectedID[level] = nil
        scrollTop[level] = 0
    }

    private mutating func move(by delta: Int) {
        guard let rows = table()?.rows, let current = selection(in: rows) else { return }
        move(to: current.addingReportingOverflow(delta).overflow ? (delta > 0 ? Int.max : 0) : current + delta)
    }

    private mutating func move(to index: Int) {
        guard let rows = table()?.rows, !rows.isEmpty else { return }
        let i = min(max(0, index), rows.count - 1)
        selectedIndex[level] = i
        selectedID[level] = rows[i].id
    }

    private mutating func drill() {
        guard let rows = table()?.rows, let i = selection(in: rows) else { return }
        let id = rows[i].id
        selectedID[level] = id
        selectedIndex[level] = i
        let next: Level
        switch level {
        case .triage: return  // handleTriage takes Enter here
        case .fleet: next = .region(id)
        case .allSites, .region: next = .site(id)
        case .site: next = .node(id)
        case .node: return  // GPUs are the bottom
        }
        stack.append(next)
        filter = ""
    }

    private mutating func back() {
        guard stack.count > 1 else { return }
        stack.removeLast()
        filter = ""
    }

    /// Keeps the selected row on screen; the renderer calls it with the rows it shows.
    public mutating func scroll(visibleRows: Int, rows: [TableRow]) {
        pageSize = max(1, visibleRows)
        guard let sel = selection(in: rows) else {
            scrollTop[level] = 0
            return
        }
        var top = scrollTop[level] ?? 0
        if sel < top { top = sel }
        if sel >= top + visibleRows { top = sel - visibleRows + 1 }
        top = max(0, min(top, max(0, rows.count - visibleRows)))
        scrollTop[level] = top
    }
}
