#ifndef EDGETOP_CNCURSESW_SHIM_H
#define EDGETOP_CNCURSESW_SHIM_H

// The wide-character API (add_wch, setcchar, cchar_t) is only declared when this is set
// before ncurses.h is included.
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <signal.h>
#include <unistd.h>
#include <pthread.h>
#include <string.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

// Macros and C globals do not import usefully into Swift 6 (strict concurrency rejects
// mutable globals such as stdscr and LINES), so wrap them.
static inline WINDOW *c_stdscr(void) { return stdscr; }
static inline int c_lines(void) { return LINES; }
static inline int c_cols(void) { return COLS; }
static inline int c_colors(void) { return COLORS; }
static inline int c_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t c_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }
static inline attr_t c_a_bold(void) { return A_BOLD; }
static inline attr_t c_a_reverse(void) { return A_REVERSE; }
static inline attr_t c_a_dim(void) { return A_DIM; }
static inline attr_t c_a_underline(void) { return A_UNDERLINE; }
static inline attr_t c_a_normal(void) { return A_NORMAL; }
static inline int c_key_resize(void) { return KEY_RESIZE; }
static inline int c_err(void) { return ERR; }

// newterm on the process's own stdout/stdin (C globals Swift 6 will not touch directly).
static inline SCREEN *c_newterm_stdio(void) { return newterm(NULL, stdout, stdin); }

// Whether the locale's character set is UTF-8.
static inline int c_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

// Put one cell (up to a few code points: base + combining) at the cursor with attributes.
static inline int c_put_cell(int y, int x, const wchar_t *wch, attr_t attrs, short pair) {
    cchar_t cc;
    if (setcchar(&cc, wch, attrs, pair, NULL) == ERR) return ERR;
    return mvadd_wch(y, x, &cc);
}

// True when the terminal can address the cursor (TERM=dumb cannot).
static inline int c_has_cursor_addressing(void) {
    char *cup = tigetstr("cup");
    return cup != NULL && cup != (char *)-1;
}

// The UI thread must see SIGWINCH even when the thread that started it had it blocked
// (test runners block it).
static inline void c_unblock_sigwinch(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

// On a crash (a trap, a bad pointer), put the terminal back before the process dies, then let
// the signal do what it would have done. endwin is not async-signal-safe; htop and others make
// the same trade: a usable shell after a crash matters more.
static void c_crash_handler(int sig) {
    endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

static inline void c_install_crash_handlers(void) {
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) signal(sigs[i], c_crash_handler);
}

#endif
