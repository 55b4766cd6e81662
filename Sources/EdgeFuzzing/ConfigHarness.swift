import EdgeSources

/// The YAML config: a file is accepted or refused with one `FILE:LINE: reason` line whose line
/// lies inside the file, the same way twice; an accepted file gives the same config when read
/// again.
enum ConfigHarness {
    enum Verdict: Equatable {
        case accepted(FleetConfig)
        case refused(line: Int, message: String)
        case threw(String)
    }

    static func run(_ input: [UInt8]) -> String? {
        guard let text = String(validating: input, as: UTF8.self) else { return nil }  // the CLI refuses non-UTF-8 before YAML
        // YAML breaks lines at LF, CR, CRLF, NEL, LS and PS.
        let lines = 1 + text.replacingOccurrences(of: "\r\n", with: "\n").unicodeScalars
            .filter { ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) }.count
        func read() -> Verdict {
            do { return .accepted(try FleetConfig(yaml: text, file: "fuzz.yaml")) } catch let e as FleetConfig.Invalid {
                return .refused(line: e.line, message: e.description)
            } catch {
                return .threw("\(type(of: error)): \(error)")
            }
        }
        let first = read()
        if read() != first { return "the same file read twice gives two verdicts" }
        switch first {
        case .accepted: return nil
        case .threw(let what): return "threw something other than FleetConfig.Invalid: \(what.prefix(100))"
        case .refused(let line, let message):
            if line < 0 || line > lines + 1 { return "error on line \(line) of a \(lines)-line file" }
            return Invariant.oneLine(message, "config")
        }
    }
}
