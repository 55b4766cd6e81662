import EdgeViews
import Testing

@Suite("Text width and sanitising")
struct TextWidthTests {
    @Test("control characters and escape sequences never pass through")
    func sanitize() {
        #expect(TextWidth.sanitize("a\u{1B}[31mb\u{7}c\u{9B}d\r\n") == "a?[31mb?c?d??")
        #expect(TextWidth.sanitize("evil\u{202E}txt") == "eviltxt")
        #expect(TextWidth.sanitize("Zürich") == "Zürich")
    }

    @Test("wide characters count two cells and are never split")
    func wide() {
        #expect(TextWidth.width("東京") == 4)
        #expect(TextWidth.width("e\u{301}") == 1)
        #expect(TextWidth.fit("東京都庁", 5) == "東京…")
        #expect(TextWidth.width(TextWidth.fit("東京都庁", 5)) == 5)
        #expect(TextWidth.pad("東京", 6) == "東京  ")
        #expect(TextWidth.fit("abcdef", 4, ascii: true) == "abc~")
    }

    @Test("numbers format short and honest", arguments: [
        (0.42, "0.42"), (8.14, "8.1"), (312.4, "312"), (1250, "1.25s"), (42_000, "42s"), (.nan, "-"),
    ])
    func ms(value: Double, text: String) {
        #expect(Formatting.ms(value) == text)
    }
}
