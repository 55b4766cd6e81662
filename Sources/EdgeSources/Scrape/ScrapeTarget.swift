import Foundation

/// One HTTP endpoint to scrape, and where its data belongs in the fleet.
public struct ScrapeTarget: Sendable, Equatable {
    public var url: URL
    public var region: String
    public var site: String
    /// The node for samples without a host label; defaults to the URL's host:port.
    public var node: String
    public var interval: Double
    public var timeout: Double
    public var tierMs: Double
    /// Labels that name a sample's node (dcgm-exporter's `Hostname`); the first present wins.
    public var nodeLabels: [String] = ["Hostname", "hostname"]
    /// Labels that name a node's site and region, when a target serves several (config only).
    public var siteLabel: String?
    public var regionLabel: String?
    /// The label whose value is a latency series' workload class (config only).
    public var classLabel: String?
    /// The service whose requests this target's latency measures ("": the node's only one).
    public var service = ""

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `URL[,region=R,site=S,node=N,interval=SECONDS,timeout=SECONDS,tier=MS,service=NAME]`.
    public init(argument: String, defaultInterval: Double = 1) throws {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, let url = URL(string: first), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw ParseError(description: "--scrape \"\(argument.prefix(80))\": expected an http(s) URL, e.g. http://127.0.0.1:9400/metrics,region=WEU,site=fra1")
        }
        self.url = url
        let instance = url.port.map { "\(host):\($0)" } ?? host
        region = "default"; site = instance; node = instance
        interval = defaultInterval; timeout = min(10, defaultInterval)
        tierMs = 500
        for option in parts.dropFirst() {
            let kv = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[1].isEmpty else {
                throw ParseError(description: "--scrape option \"\(option)\": expected key=value")
            }
            switch kv[0] {
            case "region": region = kv[1]
            case "site": site = kv[1]
            case "node": node = kv[1]
            case "service": service = kv[1]
            case "interval", "timeout", "tier":
                guard let v = Double(kv[1]), v.isFinite, v > 0, v <= 3600 else {
                    throw ParseError(description: "--scrape \(kv[0])=\(kv[1]): expected seconds (ms for tier) above 0")
                }
                if kv[0] == "interval" { interval = v } else if kv[0] == "timeout" { timeout = v } else { tierMs = v }
            default:
                throw ParseError(description: "--scrape option \"\(kv[0])\" is unknown (region, site, node, interval, timeout, tier, service)")
            }
        }
        timeout = min(timeout, interval)
    }
}
