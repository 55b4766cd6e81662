import EdgeAssets

/// A key as the UI sees it, whatever the terminal sent.
public enum Key: Hashable, Sendable {
    case char(Character)
    case up, down, left, right, pageUp, pageDown, home, end, enter, escape, backspace, tab, f1
    case resize
    case ctrl(Character)
}

/// What a key does.
public enum Action: String, Sendable, CaseIterable {
    case up, down, pageUp, pageDown, top, bottom, drill, back, allSites, filter, sortNext, sortReverse
    case triage, map, route, pause, faster, slower, changes, mark, chartSpan, charts, stepForward, seekBack, seekForward, help, quit

    /// One line of help per action.
    public var help: String {
        switch self {
        case .up: "move up"
        case .down: "move down"
        case .pageUp: "page up"
        case .pageDown: "page down"
        case .top: "first row"
        case .bottom: "last row"
        case .drill: "drill down: region, site, node, GPUs"
        case .back: "clear the filter, else back up a level"
        case .allSites: "all sites of the fleet, worst first"
        case .filter: "filter rows (Enter applies, Esc clears)"
        case .sortNext: "next sort column"
        case .sortReverse: "reverse the sort"
        case .triage: "triage: what needs attention (again: the fleet)"
        case .map: "world map: Enter zooms in, then opens a site"
        case .route: "routing advisor for the selected site's users"
        case .pause: "pause / resume (data frozen)"
        case .faster: "refresh faster"
        case .slower: "refresh slower"
        case .changes: "what changed since the mark (Enter jumps to it)"
        case .mark: "set the mark to now"
        case .chartSpan: "charts: 15 min / 1 h / 24 h"
        case .charts: "node view: charts or latency distribution"
        case .stepForward: "replay: one step forward (paused)"
        case .seekBack: "replay: back 1 min"
        case .seekForward: "replay: forward 1 min"
        case .help: "this help (again to close)"
        case .quit: "quit"
        }
    }
}

/// Keys → actions, read from a keymap file (`Assets/keymaps/default.keymap`).
public struct KeyMap: Sendable {
    public private(set) var actions: [Key: Action] = [:]
    /// Key names per action, as written in the file, for the help screen.
    public private(set) var names: [Action: [String]] = [:]

    public struct ParseError: Error, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// The compiled-in default map.
    public static let standard: KeyMap = (try? KeyMap(text: EmbeddedAssets.files["keymaps/default.keymap"] ?? "")) ?? KeyMap()

    public init() {}

    public init(text: String) throws {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if raw.hasPrefix("#") || words.isEmpty { continue }
            guard let action = Action(rawValue: words[0]) else {
                throw ParseError(line: n + 1, reason: "unknown action \"\(words[0])\" (one of \(Action.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard words.count > 1 else { throw ParseError(line: n + 1, reason: "\(action.rawValue) has no keys") }
            for name in words.dropFirst() {
                guard let key = KeyMap.key(named: name) else {
                    throw ParseError(line: n + 1, reason: "unknown key \"\(name)\"")
                }
                actions[key] = action
                names[action, default: []].append(name)
            }
        }
        // The way out must always exist, whatever the file says.
        if !actions.values.contains(.quit) { actions[.char("q")] = .quit; names[.quit] = ["q"] }
    }

    public func action(for key: Key) -> Action? { actions[key] }

    static func key(named name: String) -> Key? {
        switch name.lowercased() {
        case "up": return .up
        case "down": return .down
        case "left": return .left
        case "right": return .right
        case "pgup", "pageup": return .pageUp
        case "pgdn", "pagedown": return .pageDown
        case "home": return .home
        case "end": return .end
        case "enter", "return": return .enter
        case "esc", "escape": return .escape
        case "backspace", "bs": return .backspace
        case "tab": return .tab
        case "space": return .char(" ")
        case "f1": return .f1
        default: break
        }
        if name.lowercased().hasPrefix("ctrl-"), name.count == 6, let c = name.last { return .ctrl(Character(c.lowercased())) }
        if name.count == 1, let c = name.first { return .char(c) }
        return nil
    }
}
