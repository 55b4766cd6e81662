import CNCursesW
import EdgeViews
import Foundation

/// The curses backend: the only code that talks to the terminal (terminal.md lists the traps
/// it avoids). It writes only the cells that changed since the previous frame.
public final class CursesTerminal: TerminalBackend {
    /// Why the interactive view cannot start; the CLI prints it and exits 2.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public let unicode: Bool
    public let colors: Bool
    private var screen: OpaquePointer?
    private var previous: CellGrid?
    private var closed = false

    /// Checks the terminal and starts curses. Order matters: locale first, then refuse
    /// non-terminals before curses can complain, `newterm` rather than `initscr` (which exits
    /// the process on an unknown TERM), then make sure the cursor can be addressed.
    public init(noColor: Bool) throws {
        setlocale(LC_ALL, "")
        unicode = c_locale_is_utf8() != 0
        let hint = "use `edgetop snapshot` for scripts and pipes"
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw StartError(description: "the interactive view needs a terminal; \(hint)")
        }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        guard !term.isEmpty, term != "dumb" else {
            throw StartError(description: "TERM=\(term.isEmpty ? "(unset)" : term) cannot draw the interactive view; \(hint)")
        }
        guard let s = c_newterm_stdio() else {
            throw StartError(description: "unknown terminal type \"\(term)\"; \(hint)")
        }
        screen = s
        guard c_has_cursor_addressing() != 0 else {
            endwin(); delscreen(s); screen = nil
            throw StartError(description: "terminal \"\(term)\" cannot move the cursor; \(hint)")
        }
        c_unblock_sigwinch()
        cbreak()
        noecho()
        nonl()
        keypad(c_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        leaveok(c_stdscr(), true)
        var useColor = !noColor && has_colors()
        if useColor {
            start_color()
            use_default_colors()
            useColor = c_colors() >= 8 && c_color_pairs() > Tone.allCases.count
            let theme = Theme.standard
            for tone in Tone.allCases {
                let look = theme.look(tone)
                init_pair(Int16(tone.rawValue) + 1, Int16(look.color.rawValue), -1)
            }
        }
        colors = useColor
        // A crash or exit() elsewhere must not leave the terminal in raw mode.
        atexit { _ = endwin() }
        c_install_crash_handlers()
    }

    deinit { close() }

    /// Restores the terminal; safe to call more than once.
    public func close() {
        guard !closed else { return }
        closed = true
        endwin()
        if let screen { delscreen(screen) }
        screen = nil
    }

    public var size: (width: Int, height: Int) {
        (Int(c_cols()), Int(c_lines()))
    }

    public func draw(_ grid: CellGrid) {
        let changed = grid.changedCells(since: previous)
        if previous == nil || previous?.width != grid.width || previous?.height != grid.height {
            wclear(c_stdscr())
        }
        for i in changed {
            let (scalar, style) = (grid.scalars[i], grid.styles[i])
            if scalar == CellGrid.continuation { continue }
            let y = Int32(i / grid.width), x = Int32(i % grid.width)
            var attrs = c_a_normal()
            let look = Theme.standard.look(style.tone)
            if style.bold || (look.bold && colors) { attrs |= c_a_bold() }
            if style.reverse { attrs |= c_a_reverse() }
            if look.dim && colors { attrs |= c_a_dim() }
            let pair: Int16 = colors ? Int16(style.tone.rawValue) + 1 : 0
            if colors { attrs |= c_color_pair(Int32(pair)) }
            let shown: Unicode.Scalar = unicode || scalar.isASCII ? scalar : "?"
            var wch: [wchar_t] = [wchar_t(bitPattern: shown.value), 0]
            // The bottom-right cell returns ERR on terminals that would scroll: ignored.
            _ = c_put_cell(y, x, &wch, attrs, pair)
        }
        previous = grid
        wnoutrefresh(c_stdscr())
        doupdate()
    }

    public func readKey(timeoutMs: Int) -> Key? {
        wtimeout(c_stdscr(), Int32(timeoutMs))
        var wch: wint_t = 0
        let rc = wget_wch(c_stdscr(), &wch)
        if rc == c_err() { return nil }
        if rc == KEY_CODE_YES {
            switch Int32(wch) {
            case c_key_resize():
                previous = nil  // sizes changed: repaint everything
                return .resize
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_ENTER: return .enter
            case KEY_BACKSPACE: return .backspace
            case KEY_F0 + 1: return .f1
            default: return nil
            }
        }
        switch wch {
        case 10, 13: return .enter
        case 27: return .escape
        case 127, 8: return .backspace
        case 9: return .tab
        case 1...26: return .ctrl(Character(Unicode.Scalar(UInt8(wch) + 96)))
        default:
            guard let u = Unicode.Scalar(UInt32(wch)) else { return nil }
            return .char(Character(u))
        }
    }
}
