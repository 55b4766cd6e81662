import EdgeCollector
import EdgeSources
import Foundation

/// The live sources a command was given (scrape targets, a StatsD listener), started and
/// stopped together.
final class LiveSources: Sendable {
    private let scraper: Scraper?
    private let statsd: StatsDReceiver?
    private let otlp: OTLPReceiver?

    init(options: SourceOptions, collector: Collector) throws {
        let targets = try options.scrapeTargets()
        scraper = targets.isEmpty ? nil : Scraper(targets: targets, collector: collector)
        statsd = try options.statsdOptions().map { StatsDReceiver(options: $0, collector: collector) }
        do { otlp = try options.otlpArgument().map { try OTLPReceiver(argument: $0, collector: collector) } } catch {
            throw UserError(description: "\(error)")
        }
    }

    func start() throws {
        do {
            try statsd?.start()
            try otlp?.start()
        } catch { throw UserError(description: "\(error)") }
        scraper?.start()
    }

    func stop() {
        scraper?.stop()
        statsd?.stop()
        otlp?.stop()
    }

    /// One line per source in trouble, for the status bar.
    var problems: [String] {
        stats.compactMap { s in
            if !s.up && s.failures > 0 { return "\(s.name): \(s.lastError ?? "failing")" }
            if s.invalid > 0 || s.dropped > 0 {
                return "\(s.name): \(s.invalid) invalid, \(s.dropped) dropped\(s.lastError.map { " (\($0))" } ?? "")"
            }
            return nil
        }
    }

    var stats: [SourceStats] {
        (scraper?.sourceStats() ?? []) + (statsd.map { [$0.sourceStats()] } ?? []) + (otlp.map { [$0.sourceStats()] } ?? [])
    }
}
