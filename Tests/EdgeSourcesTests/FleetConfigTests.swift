import EdgeCore
import EdgeSources
import Testing

@Suite("YAML configuration")
struct FleetConfigTests {
    @Test("a full file: targets with placement rules, listeners, window and interval")
    func valid() throws {
        let c = try FleetConfig(yaml: """
        window: 120
        interval: 5
        scrape:
          - url: http://10.0.0.7:9400/metrics
            region: WEU
            site: fra1
            node_labels: [Hostname]
            interval: 10
            timeout: 3
            tier_ms: 100
          - url: http://10.0.0.8:8000/metrics
            region: WEU
            site_label: pop
            node: vllm-a
        statsd: { listen: 127.0.0.1:8125, region: WEU, site: fra1 }
        otlp:
          listen: 127.0.0.1:4318
          site: fra2
        """)
        #expect(c.window == 120 && c.interval == 5)
        #expect(c.scrape.count == 2)
        #expect(c.scrape[0].region == "WEU" && c.scrape[0].site == "fra1" && c.scrape[0].interval == 10 && c.scrape[0].timeout == 3)
        #expect(c.scrape[0].tierMs == 100 && c.scrape[0].nodeLabels == ["Hostname"])
        #expect(c.scrape[1].siteLabel == "pop" && c.scrape[1].node == "vllm-a" && c.scrape[1].interval == 5)
        #expect(c.statsd?.port == 8125 && c.statsd?.site == "fra1")
        #expect(c.otlp == "127.0.0.1:4318,site=fra2")
    }

    @Test("classes override the embedded catalog; aliases map other names; a scrape target can read the class from a label")
    func classes() throws {
        let c = try FleetConfig(yaml: """
        classes:
          code_completion: { tier_ms: 150, slo_target: 0.995, aliases: [text_completion, llama-code] }
          batch: { rps_per_gpu: 9, resident: true }
        scrape:
          - url: http://10.0.0.8:8000/metrics
            class_label: model_name
        """)
        #expect(c.classes[.codeCompletion].tierMs == 150 && c.classes[.codeCompletion].sloTarget == 0.995)
        #expect(c.classes[.codeCompletion].rpsPerGPU == ClassCatalog.embedded[.codeCompletion].rpsPerGPU, "unset keys keep the asset's value")
        #expect(c.classes[.batch].rpsPerGPU == 9 && c.classes[.batch].resident && c.classes[.batch].tierMs == nil)
        #expect(c.classes.workload(named: "llama-code") == .codeCompletion)
        #expect(c.classes.workload(named: "customer_service") == .customerService)
        #expect(c.classes.workload(named: "speech") == .unclassified)
        #expect(c.scrape[0].classLabel == "model_name")
        #expect(ClassCatalog.embedded == ClassCatalog.standard, "Assets/classes.tsv and the built-in values agree")
    }

    @Test("a query backend with basic auth")
    func prometheusSection() throws {
        let c = try FleetConfig(yaml: "prometheus:\n  url: https://thanos.example:10902\n  node_label: instance\n  basic_auth: { username: ops, password: s3cret }\n")
        #expect(c.prometheus == "https://thanos.example:10902,node_label=instance")
        #expect(c.prometheusAuthorization == "Basic b3BzOnMzY3JldA==")
    }

    @Test("every invalid file names its line and the reason", arguments: [
        ("scrape:\n  - url: http://x/m\n    interval: soon\n", 3, "interval must be a number"),
        ("window: 60\ncolour: blue\n", 2, "unknown key \"colour\""),
        ("scrape:\n  - region: WEU\n", 2, "has no url"),
        ("scrape:\n  - url: ftp://x/m\n", 2, "http(s) URL"),
        ("scrape: [\n", 2, "YAML"),
        ("statsd:\n  listen: nowhere\n", 2, "HOST:PORT"),
        ("- just\n- a list\n", 1, "top level must be a mapping"),
        ("classes:\n  chatbot: { tier_ms: 300 }\n", 2, "unknown class \"chatbot\""),
        ("classes:\n  batch:\n    slo_target: 99\n", 3, "slo_target must be between 0 and 1"),
        ("classes:\n  batch: { aliases: [x] }\n  code_completion: { aliases: [x] }\n", 3, "alias \"x\" already names batch"),
    ])
    func invalid(_ yaml: String, _ line: Int, _ reason: String) {
        do {
            _ = try FleetConfig(yaml: yaml, file: "edge.yml")
            Issue.record("accepted: \(yaml)")
        } catch let e as FleetConfig.Invalid {
            #expect(e.line == line, "\(e)")
            #expect(e.description.hasPrefix("edge.yml:\(line): "))
            #expect(e.reason.contains(reason), "\(e)")
        } catch { Issue.record("unexpected \(error)") }
    }
}
