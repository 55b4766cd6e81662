import ArgumentParser
import EdgeCollector
import EdgeSources
import Dispatch
import Foundation

/// Where the data comes from and how it is windowed; shared by every command.
struct SourceOptions: ParsableArguments {
    @Option(help: "Seed of the simulated fleet: same seed and --start, same fleet.")
    var seed: UInt64 = 1

    @Option(help: "Simulated request latency samples per second, fleet-wide (GPU gauges come on top).")
    var rate: Double = 100_000

    @Option(help: "Sliding window for latency and rates, seconds (default 60, or the config file's).")
    var window: Double?

    @Option(help: "Expected seconds between a node's reports; 3 missed intervals make it STALE (default: 1 for the simulator, 10 for --replay).")
    var interval: Double?

    @Option(help: "Replay samples from a JSON Lines file instead of the simulator.")
    var replay: String?

    @Option(help: "History kept: standard (fleet and regions 15 min at 1 s and 24 h at 1 min; sites and nodes 3 min and 1 h), full (15 min and 24 h everywhere: ~10× the memory), off.")
    var historyDepth = "standard"

    @Option(help: "Record every sample ingested (any source) to this JSON Lines file, in the replay format.")
    var record: String?

    @Option(help: "Rotate the recording at this size: FILE moves to FILE.1 and a new FILE starts.")
    var recordMaxMb: Double?

    @Option(help: "Replay pace: 1 = real time, 10 = ten times faster, 0 = as fast as possible (the default).")
    var speed: Double = 0

    @Option(help: "Replay only up to this Unix time (snapshot: the fleet at that moment).")
    var at: Double?

    @Option(help: "Start the simulated clock at this Unix time (for reproducible output).")
    var start: Double?

    @Option(help: "Simulate only these regions (comma-separated ids, e.g. OC,WNAM): a smaller fleet.")
    var simRegions: String?

    @Flag(help: "Run the simulated fleet beside the live sources (--scrape, --statsd, --otlp): a load to test them under.")
    var withSim = false

    @Option(help: "Simulate about N times the nodes on every site (4.57: 44,000 nodes); --rate stays the fleet's total.")
    var simScale: Double = 1

    @Option(name: .customLong("scrape"), help: ArgumentHelp(
        "Scrape a Prometheus/OpenMetrics endpoint (dcgm-exporter, vLLM, Triton, TGI, node_exporter). Repeatable.",
        valueName: "URL[,region=R,site=S,node=N,interval=S,timeout=S,tier=MS]"))
    var scrapes: [String] = []

    @Option(help: ArgumentHelp("Receive StatsD/DogStatsD timings on UDP (region/site/node tags place them).",
                               valueName: "HOST:PORT[,region=R,site=S,node=N]"))
    var statsd: String?

    @Option(help: ArgumentHelp("Receive OTLP/HTTP JSON metrics on POST /v1/metrics (host.name / edgetop.* resource attributes place them).",
                               valueName: "HOST:PORT[,region=R,site=S,node=N]"))
    var otlp: String?

    @Option(help: ArgumentHelp("Read the fleet from a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir) instead of collecting.",
                               valueName: "URL[,region_label=L,site_label=L,node_label=L,timeout=S]"))
    var prometheus: String?

    /// The query backend, when --prometheus is given.
    func querySource() throws -> PrometheusQuerySource? {
        let file = try fleetConfig()
        guard let argument = prometheus ?? file?.prometheus else { return nil }
        // Credentials: the config file's, else the environment (never a command-line flag,
        // which other users can read in the process list).
        let auth = file?.prometheusAuthorization ?? ProcessInfo.processInfo.environment["EDGETOP_PROMETHEUS_AUTHORIZATION"]
        do {
            return try PrometheusQuerySource(argument: argument, window: effectiveWindow, config: collectorConfig(), authorization: auth)
        } catch { throw UserError(description: "\(error)") }
    }

    /// One snapshot from the query backend, waiting for its concurrent queries.
    static func blockingSnapshot(_ q: PrometheusQuerySource, at now: Double, scope: QueryScope = .everything) -> (FleetSnapshot, [String]) {
        final class Box: @unchecked Sendable { var value: (FleetSnapshot, [String])? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            box.value = await q.snapshot(at: now, scope: scope)
            done.signal()
        }
        done.wait()
        return box.value!
    }

    @Option(help: "YAML file with scrape targets, placement rules, StatsD and OTLP listeners (see README).")
    var config: String?

    /// The config file, parsed (nil without --config).
    func fleetConfig() throws -> FleetConfig? {
        guard let config else { return nil }
        do { return try FleetConfig(path: config) } catch { throw UserError(description: "\(error)") }
    }

    var effectiveWindow: Double { window ?? (try? fleetConfig())??.window ?? 60 }

    func validate() throws {
        if let window, !(window.isFinite && window >= 1 && window <= 86_400) { throw ValidationError("--window must be between 1 and 86400 seconds") }
        guard rate.isFinite, rate >= 0, rate <= 50_000_000 else { throw ValidationError("--rate must be between 0 and 50000000") }
        if let interval, !(interval.isFinite && interval > 0 && interval <= 3600) {
            throw ValidationError("--interval must be between 0 and 3600 seconds")
        }
        if replay != nil && hasLiveSources { throw ValidationError("--replay cannot be combined with live sources") }
        if withSim && !hasLiveSources { throw ValidationError("--with-sim adds the simulator to live sources: give --scrape, --statsd or --otlp") }
        guard simScale.isFinite, (1...20).contains(simScale) else { throw ValidationError("--sim-scale must be between 1 and 20") }
        if HistoryConfig(depth: historyDepth) == nil { throw ValidationError("--history-depth must be standard, full or off") }
        guard speed.isFinite, speed >= 0, speed <= 10_000 else { throw ValidationError("--speed must be between 0 and 10000") }
        if speed > 0 && replay == nil { throw ValidationError("--speed is for --replay") }
        if at != nil && replay == nil { throw ValidationError("--at is for --replay") }
        if record != nil && speed > 0 { throw ValidationError("--record with --speed would record a replay as it plays; record the source instead") }
        if let at, !(at.isFinite && at > 0) { throw ValidationError("--at must be a Unix time") }
        if record != nil && prometheus != nil { throw ValidationError("--record records what this edgetop collects; --prometheus collects nothing") }
        if let m = recordMaxMb, !(m.isFinite && m >= 1) { throw ValidationError("--record-max-mb must be at least 1") }
        if let record, let replay, URL(fileURLWithPath: record).standardized == URL(fileURLWithPath: replay).standardized {
            throw ValidationError("--record and --replay name the same file")
        }
        if prometheus != nil && (hasLiveSources || replay != nil) {
            throw ValidationError("--prometheus reads a fleet others collect; it cannot be combined with other sources")
        }
        for s in scrapes {
            do { _ = try ScrapeTarget(argument: s) } catch { throw ValidationError("\(error)") }
        }
        if let statsd {
            do { _ = try StatsDOptions(argument: statsd) } catch { throw ValidationError("\(error)") }
        }
        if let otlp {
            do { _ = try OTLPReceiver(argument: otlp, collector: Collector()) } catch { throw ValidationError("\(error)") }
        }
    }

    func collectorConfig() -> CollectorConfig {
        let fromFile = (try? fleetConfig()) ?? nil
        // A recording says how it was collected; a replay judges it the same way unless told.
        let recorded = replay.flatMap { ReplaySource.header(of: $0) }
        return CollectorConfig(windowSeconds: window ?? recorded?.windowSeconds ?? effectiveWindow,
                               subWindows: recorded?.subWindows ?? 6,
                               intervalSeconds: interval ?? fromFile?.interval ?? recorded?.intervalSeconds ?? (replay != nil ? 10 : scrapeInterval),
                               history: HistoryConfig(depth: historyDepth) ?? .standard,
                               classes: fromFile?.classes ?? .embedded)
    }

    /// Starts `--record` on `collector` (nil without it); `close()` it when done.
    func startRecording(_ collector: Collector, start: Double) throws -> Recorder? {
        guard let record else { return nil }
        let recorder: Recorder
        do { recorder = try Recorder(path: record, maxMB: recordMaxMb, collector: collector, start: start) } catch {
            throw UserError(description: "\(error)")
        }
        collector.tap = { recorder.record($0) }
        return recorder
    }

    /// Sources other than the simulator replace it.
    var hasLiveSources: Bool {
        !scrapes.isEmpty || statsd != nil || otlp != nil
            || ((try? fleetConfig()) ?? nil).map { !$0.scrape.isEmpty || $0.statsd != nil || $0.otlp != nil } == true
    }

    func statsdOptions() throws -> StatsDOptions? {
        guard let statsd else { return try fleetConfig()?.statsd }
        do { return try StatsDOptions(argument: statsd) } catch { throw UserError(description: "\(error)") }
    }

    func otlpArgument() throws -> String? { try otlp ?? fleetConfig()?.otlp }

    var scrapeInterval: Double { 1 }

    func scrapeTargets() throws -> [ScrapeTarget] {
        let fromFile = try fleetConfig()?.scrape ?? []
        do {
            return try scrapes.map { try ScrapeTarget(argument: $0, defaultInterval: interval ?? scrapeInterval) } + fromFile
        } catch { throw UserError(description: "\(error)") }
    }

    var sourceLabel: String {
        if let p = prometheus ?? ((try? fleetConfig()) ?? nil)?.prometheus { return "prometheus \(p.split(separator: ",").first ?? "")" }
        if let replay { return "replay \(URL(fileURLWithPath: replay).lastPathComponent)" }
        if hasLiveSources {
            var parts: [String] = []
            if !scrapes.isEmpty { parts.append("\(scrapes.count) scrape target\(scrapes.count == 1 ? "" : "s")") }
            if let statsd { parts.append("statsd \(statsd.split(separator: ",").first ?? "")") }
            if let otlp { parts.append("otlp \(otlp.split(separator: ",").first ?? "")") }
            if let config { parts.append(URL(fileURLWithPath: config).lastPathComponent) }
            return parts.joined(separator: " + ")
        }
        return "simulator seed \(seed)"
    }

    /// Loads the embedded topology (narrowed by --sim-regions) or fails with a one-line error.
    func topology() throws -> Topology {
        var t: Topology
        do { t = try Topology.embedded() } catch { throw UserError(description: "embedded topology: \(error)") }
        if let simRegions {
            let wanted = Set(simRegions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = wanted.subtracting(t.regionNames.keys)
            guard unknown.isEmpty else {
                throw UserError(description: "--sim-regions: unknown region \(unknown.sorted().joined(separator: ", ")) (regions: \(t.regionNames.keys.sorted().joined(separator: ", ")))")
            }
            t.sites = t.sites.filter { wanted.contains($0.region) }
        }
        return simScale > 1 ? t.scaled(by: simScale) : t
    }

    /// The simulated fleet of these options (topology, seed, rate), its clock at `start`.
    func simulator(into collector: Collector, start: Double) throws -> FleetSimulator {
        FleetSimulator(topology: try topology(), collector: collector,
                       config: SimulatorConfig(seed: seed, latencySamplesPerSecond: rate), start: start)
    }

    /// The simulated fleet on the wall clock: `history` seconds simulated at once (so the first
    /// view has data), then ticking in the background.
    func runningSimulator(into collector: Collector, history: Double) throws -> SimulatorDriver {
        let now = Date().timeIntervalSince1970
        let sim = try simulator(into: collector, start: now - history)
        sim.advance(to: now)
        let driver = SimulatorDriver(simulator: sim)
        driver.start()
        return driver
    }

    /// Replays `--replay` into `collector`, printing bad lines to stderr; returns the
    /// snapshot time (the last sample's).
    func runReplay(into collector: Collector, path: String) throws -> Double {
        var source = ReplaySource(collector: collector)
        source.until = at
        var printed = 0
        source.onError = { e in
            if printed < 20 {
                FileHandle.standardError.write(Data("edgetop: \(path): \(e)\n".utf8))
            } else if printed == 20 {
                FileHandle.standardError.write(Data("edgetop: \(path): further bad lines are counted, not printed\n".utf8))
            }
            printed += 1
        }
        let outcome: ReplaySource.Outcome
        do { outcome = try source.replay(path: path) } catch { throw UserError(description: "\(error)") }
        if outcome.samples == 0 {
            throw UserError(description: "\(path): no valid sample (\(outcome.errorCount) bad line\(outcome.errorCount == 1 ? "" : "s"))")
        }
        if outcome.errorCount > 0 {
            FileHandle.standardError.write(Data("edgetop: \(path): \(outcome.errorCount) bad line\(outcome.errorCount == 1 ? "" : "s") skipped, \(outcome.samples) samples kept\n".utf8))
        }
        return at ?? outcome.lastTime
    }
}
