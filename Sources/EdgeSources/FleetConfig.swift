import EdgeCore
import Foundation
import Yams

/// A deployment's sources, from a YAML file (`--config FILE`):
///
/// ```yaml
/// window: 60            # seconds of latency kept
/// interval: 5           # how often nodes report; 3 missed make a node STALE
/// scrape:
///   - url: http://10.0.0.7:9400/metrics   # dcgm-exporter
///     region: WEU
///     site: fra1
///     node_labels: [Hostname, hostname]   # node from these labels (default)
///     site_label: site                    # or the site from a label
///     interval: 5
///     timeout: 2
///     tier_ms: 100
/// statsd: { listen: 127.0.0.1:8125, region: WEU, site: fra1 }
/// otlp: { listen: 127.0.0.1:4318, region: WEU, site: fra1 }
/// classes:                              # override Assets/classes.tsv per class
///   code_completion: { tier_ms: 150, slo_target: 0.995, aliases: [text_completion] }
///   customer_service: { aliases: [chat] } # gen_ai.operation.name, tag or label values
/// ```
///
/// Every problem is reported as `FILE:LINE: reason`, and nothing starts until the file is valid.
public struct FleetConfig: Sendable, Equatable {
    public var window: Double?
    public var interval: Double?
    public var scrape: [ScrapeTarget] = []
    public var statsd: StatsDOptions?
    /// The `--otlp` argument form (`HOST:PORT,region=…`), validated.
    public var otlp: String?
    /// The `--prometheus` argument form (`URL,node_label=…`), validated, and the
    /// `Authorization` header for it (bearer token or basic auth from the file).
    public var prometheus: String?
    public var prometheusAuthorization: String?
    /// Workload classes: the embedded catalog with the file's `classes:` overrides.
    public var classes: ClassCatalog = .embedded

    public struct Invalid: Error, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var reason: String
        /// One line, whatever the file held (a hostile key or value cannot break it).
        public var description: String { PrintableText.line("\(file):\(line): \(reason)") }
    }

    public init(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Invalid(file: path, line: 0, reason: "cannot read the file")
        }
        try self.init(yaml: text, file: path)
    }

    public init(yaml: String, file: String = "config") throws {
        func fail(_ node: Node?, _ reason: String) -> Invalid {
            Invalid(file: file, line: node?.mark?.line ?? 1, reason: reason)
        }
        let root: Node
        do {
            guard let r = try Yams.compose(yaml: yaml) else { throw Invalid(file: file, line: 1, reason: "the file is empty") }
            root = r
        } catch let e as YamlError {
            switch e {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                throw Invalid(file: file, line: mark.line, reason: "YAML: \(problem)")
            default:
                // Yams adds the offending text on the following lines: the first one says it.
                throw Invalid(file: file, line: 1, reason: "YAML: \("\(e)".split(separator: "\n").first ?? "unreadable")")
            }
        }
        guard let top = root.mapping else { throw fail(root, "the top level must be a mapping (window, interval, scrape, statsd, otlp)") }
        func seconds(_ n: Node, _ what: String) throws -> Double {
            guard let v = n.float, v.isFinite, v > 0, v <= 86_400 else { throw fail(n, "\(what) must be a number of seconds above 0") }
            return v
        }
        func text(_ n: Node, _ what: String) throws -> String {
            guard n.scalar != nil, let s = n.string, !s.isEmpty else { throw fail(n, "\(what) must be a non-empty string") }
            return s
        }
        for (k, v) in top {
            guard let key = k.string else { throw fail(k, "keys must be strings") }
            switch key {
            case "window": window = try seconds(v, "window")
            case "interval": interval = try seconds(v, "interval")
            case "scrape":
                guard let list = v.sequence else { throw fail(v, "scrape must be a list of targets") }
                for (i, item) in list.enumerated() {
                    guard let m = item.mapping else { throw fail(item, "scrape[\(i)] must be a mapping with a url") }
                    var options: [String] = []
                    var url: String?
                    var nodeLabels: [String]?
                    var siteLabel: String?, regionLabel: String?, classLabel: String?
                    for (ik, iv) in m {
                        guard let name = ik.string else { throw fail(ik, "keys must be strings") }
                        switch name {
                        case "url": url = try text(iv, "scrape[\(i)].url")
                        case "region", "site", "node", "service": options.append("\(name)=\(try text(iv, "scrape[\(i)].\(name)"))")
                        case "interval", "timeout": options.append("\(name)=\(try seconds(iv, "scrape[\(i)].\(name)"))")
                        case "tier_ms": options.append("tier=\(try seconds(iv, "scrape[\(i)].tier_ms"))")
                        case "node_labels":
                            guard let seq = iv.sequence else { throw fail(iv, "scrape[\(i)].node_labels must be a list") }
                            nodeLabels = try seq.map { try text($0, "scrape[\(i)].node_labels") }
                        case "site_label": siteLabel = try text(iv, "scrape[\(i)].site_label")
                        case "region_label": regionLabel = try text(iv, "scrape[\(i)].region_label")
                        case "class_label": classLabel = try text(iv, "scrape[\(i)].class_label")
                        default: throw fail(ik, "scrape[\(i)]: unknown key \"\(name)\" (url, region, site, node, service, interval, timeout, tier_ms, node_labels, site_label, region_label, class_label)")
                        }
                    }
                    guard let url else { throw fail(item, "scrape[\(i)] has no url") }
                    do {
                        var t = try ScrapeTarget(argument: ([url] + options).joined(separator: ","), defaultInterval: interval ?? 1)
                        if let nodeLabels { t.nodeLabels = nodeLabels }
                        t.siteLabel = siteLabel
                        t.classLabel = classLabel
                        t.regionLabel = regionLabel
                        scrape.append(t)
                    } catch {
                        throw fail(item, "scrape[\(i)]: \(error)")
                    }
                }
            case "prometheus":
                guard let m = v.mapping else { throw fail(v, "prometheus must be a mapping with url") }
                var url: String?
                var options: [String] = []
                for (ik, iv) in m {
                    guard let name = ik.string else { throw fail(ik, "keys must be strings") }
                    switch name {
                    case "url": url = try text(iv, "prometheus.url")
                    case "region_label", "site_label", "node_label": options.append("\(name)=\(try text(iv, "prometheus.\(name)"))")
                    case "timeout": options.append("timeout=\(try seconds(iv, "prometheus.timeout"))")
                    case "bearer_token": prometheusAuthorization = "Bearer " + (try text(iv, "prometheus.bearer_token"))
                    case "bearer_token_file":
                        let path = try text(iv, "prometheus.bearer_token_file")
                        guard let token = try? String(contentsOfFile: path, encoding: .utf8) else {
                            throw fail(iv, "prometheus.bearer_token_file: cannot read \(path)")
                        }
                        prometheusAuthorization = "Bearer " + token.trimmingCharacters(in: .whitespacesAndNewlines)
                    case "basic_auth":
                        guard let auth = iv.mapping, let user = auth["username"]?.string, let pass = auth["password"]?.string else {
                            throw fail(iv, "prometheus.basic_auth needs username and password")
                        }
                        prometheusAuthorization = "Basic " + Data("\(user):\(pass)".utf8).base64EncodedString()
                    default: throw fail(ik, "prometheus: unknown key \"\(name)\" (url, region_label, site_label, node_label, timeout, bearer_token, bearer_token_file, basic_auth)")
                    }
                }
                guard let url, let u = URL(string: url), ["http", "https"].contains(u.scheme?.lowercased() ?? "") else {
                    throw fail(v, "prometheus needs an http(s) url")
                }
                prometheus = ([url] + options).joined(separator: ",")
            case "statsd", "otlp":
                guard let m = v.mapping else { throw fail(v, "\(key) must be a mapping with listen") }
                var listen: String?
                var options: [String] = []
                for (ik, iv) in m {
                    guard let name = ik.string else { throw fail(ik, "keys must be strings") }
                    switch name {
                    case "listen": listen = try text(iv, "\(key).listen")
                    case "region", "site", "node", "service": options.append("\(name)=\(try text(iv, "\(key).\(name)"))")
                    default: throw fail(ik, "\(key): unknown key \"\(name)\" (listen, region, site, node, service)")
                    }
                }
                guard let listen else { throw fail(v, "\(key) has no listen address") }
                let argument = ([listen] + options).joined(separator: ",")
                do {
                    if key == "statsd" { statsd = try StatsDOptions(argument: argument) } else {
                        _ = try StatsDOptions(argument: argument)  // same HOST:PORT,key=value grammar
                        otlp = argument
                    }
                } catch { throw fail(v, "\(error)") }
            case "classes":
                guard let m = v.mapping else { throw fail(v, "classes must map class ids to their settings") }
                for (ck, cv) in m {
                    guard let id = ck.string, let c = WorkloadClass(exactly: id), c != .unclassified else {
                        throw fail(ck, "classes: unknown class \"\(ck.string ?? "")\" (one of \(WorkloadClass.allCases.dropFirst().map(\.id).joined(separator: ", ")))")
                    }
                    guard let settings = cv.mapping else { throw fail(cv, "classes.\(id) must be a mapping (tier_ms, slo_target, rps_per_gpu, resident, aliases)") }
                    var spec = classes[c]
                    for (sk, sv) in settings {
                        let name = sk.string ?? ""
                        switch name {
                        case "tier_ms":
                            if sv.string == "-" || sv.null != nil { spec.tierMs = nil } else { spec.tierMs = try seconds(sv, "classes.\(id).tier_ms") }
                        case "slo_target":
                            guard let t = sv.float, t > 0, t < 1 else { throw fail(sv, "classes.\(id).slo_target must be between 0 and 1, e.g. 0.99") }
                            spec.sloTarget = t
                        case "rps_per_gpu":
                            guard let r = sv.float, r > 0, r.isFinite else { throw fail(sv, "classes.\(id).rps_per_gpu must be a positive number") }
                            spec.rpsPerGPU = r
                        case "resident":
                            guard let b = sv.bool else { throw fail(sv, "classes.\(id).resident must be true or false") }
                            spec.resident = b
                        case "aliases":
                            guard let list = sv.sequence else { throw fail(sv, "classes.\(id).aliases must be a list of names") }
                            for a in list {
                                let name = try text(a, "classes.\(id).aliases")
                                if let other = classes.aliases[name], other != c { throw fail(a, "alias \"\(name)\" already names \(other.id)") }
                                classes.aliases[name] = c
                            }
                        default: throw fail(sk, "classes.\(id): unknown key \"\(name)\" (tier_ms, slo_target, rps_per_gpu, resident, aliases)")
                        }
                    }
                    classes.set(spec)
                }
            default:
                throw fail(k, "unknown key \"\(key)\" (window, interval, scrape, statsd, otlp, prometheus, classes)")
            }
        }
    }
}
