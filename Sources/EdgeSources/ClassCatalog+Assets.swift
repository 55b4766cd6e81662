import EdgeAssets
import EdgeCore

extension ClassCatalog {
    /// The catalog of the embedded `Assets/classes.tsv`: what every command starts from
    /// before the config's `classes:` overrides. A broken asset (a build from an edited file)
    /// falls back to the built-in values rather than stopping the tool.
    public static let embedded: ClassCatalog = {
        guard let text = EmbeddedAssets.files["classes.tsv"], let c = try? ClassCatalog(tsv: text) else { return .standard }
        return c
    }()
}
