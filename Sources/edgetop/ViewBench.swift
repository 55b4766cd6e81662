/// Rendering figures (filled in by the interactive view's benchmarks).
enum ViewBench {
    static func run(quick: Bool) throws {}
}
