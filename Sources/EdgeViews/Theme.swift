import EdgeAssets

/// Terminal colours per tone, read from `Assets/themes/default.theme`.
public struct Theme: Sendable {
    public enum Color: Int, Sendable, CaseIterable {
        case `default` = -1, black = 0, red, green, yellow, blue, magenta, cyan, white
    }

    public struct Look: Sendable, Equatable {
        public var color: Color
        public var bold: Bool
        public var dim: Bool
    }

    public private(set) var looks: [Tone: Look] = [:]

    public static let standard: Theme = (try? Theme(text: EmbeddedAssets.files["themes/default.theme"] ?? "")) ?? Theme()

    public init() {}

    public init(text: String) throws {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) ?? []
            if words.isEmpty { continue }
            guard let tone = Tone.allCases.first(where: { "\($0)" == words[0] }) else {
                throw KeyMap.ParseError(line: n + 1, reason: "unknown tone \"\(words[0])\"")
            }
            guard words.count >= 2, let color = Color.allCases.first(where: { "\($0)" == words[1] }) else {
                throw KeyMap.ParseError(line: n + 1, reason: "expected a colour after \(words[0])")
            }
            looks[tone] = Look(color: color, bold: words.contains("bold"), dim: words.contains("dim"))
        }
    }

    /// `text` wrapped in the SGR sequence for `tone` (unchanged for plain text).
    public func ansi(_ text: String, _ tone: Tone) -> String {
        let l = look(tone)
        var codes: [String] = []
        if l.bold { codes.append("1") }
        if l.dim { codes.append("2") }
        if l.color != .default { codes.append(String(30 + l.color.rawValue)) }
        return codes.isEmpty ? text : "\u{1B}[\(codes.joined(separator: ";"))m\(text)\u{1B}[0m"
    }

    public func look(_ tone: Tone) -> Look { looks[tone] ?? Look(color: .default, bold: false, dim: false) }
}
