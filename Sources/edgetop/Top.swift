import ArgumentParser

/// The interactive view (built on the same view model as `snapshot`).
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Interactive live view (the default).")
    @OptionGroup var source: SourceOptions
    func run() throws {
        throw UserError(description: "the interactive view is not built yet; use `edgetop snapshot`")
    }
}
