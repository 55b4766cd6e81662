import ArgumentParser
import EdgeCollector
import EdgeCore
import EdgeViews
import Foundation

/// `edgetop route`: where a user's requests should go, from live or recorded data.
struct Route: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rank the sites for a user at a place by estimated p99: network round trip + the site's observed p99.",
        discussion: """
        The round trip is 5 ms + 1.35 × 2 × great-circle distance at 204 km/ms of fibre. Sites that \
        are down, silent or over capacity are left out. Says for each class whether its tier is met, \
        and where the traffic goes if the best site fails. Takes the same sources as snapshot.
        Exit status: 0 ok, 2 usage or input error (an unknown place among them).
        """
    )

    @OptionGroup var source: SourceOptions

    @Option(help: "Where the user is: a city of the fleet's sites (Lagos, São Paulo, Lagos,NG) or LAT,LON.")
    var from: String

    @Option(name: .customLong("class"), help: "Rank for this workload class (its p99 at each site, its tier).")
    var workload: String?

    @Option(help: "Output format: table or json.")
    var format: String = "table"

    @Option(help: "Seconds to collect before advising (simulated time for the simulator).")
    var duration: Double = 15

    @Option(help: "Show at most N sites.")
    var limit: Int = 10

    func validate() throws {
        guard format == "table" || format == "json" else { throw ValidationError("--format must be table or json") }
        if source.withSim { throw ValidationError("--with-sim runs the simulator beside live sources in the live view and serve, not in route") }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        guard duration.isFinite, duration >= 0, duration <= 86_400 else { throw ValidationError("--duration must be between 0 and 86400 seconds") }
        if let workload, WorkloadClass(exactly: workload) == nil {
            throw ValidationError("unknown class \"\(workload)\" (one of \(WorkloadClass.allCases.dropFirst().map(\.id).joined(separator: ", ")))")
        }
    }

    func run() throws {
        _ = try source.fleetConfig()
        let snap = try source.collectOnce(duration: duration, keepHistory: false).snapshot
        let place: RoutePlace
        do { place = try RoutePlace.resolve(from, in: snap) } catch { throw UserError(description: "\(error)") }
        let advice = RouteAdvice.advise(snap, from: place, workload: workload.flatMap { WorkloadClass(exactly: $0) }, limit: limit)
        let out = format == "json" ? advice.json() : advice.text(width: Terminal.columns() ?? 100)
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
