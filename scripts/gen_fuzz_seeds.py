#!/usr/bin/env python3
"""Builds Tests/EdgeFuzzingTests/Corpus/seeds/<target>/ seed inputs from the test fixtures (whose
sources and licenses are in Tests/EdgeSourcesTests/Fixtures/SOURCES.md) plus a few hand-written
cases. Its output is committed; rerun it only to change the seeds."""
import gzip, json, os, shutil, zlib
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests/EdgeSourcesTests/Fixtures")
OUT = os.path.join(ROOT, "Tests/EdgeFuzzingTests/Corpus/seeds")

def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def files(sub, exts, limit=16384):
    for dp, _, fs in os.walk(os.path.join(FIX, sub)):
        for f in sorted(fs):
            p = os.path.join(dp, f)
            if f.endswith(exts) and os.path.getsize(p) <= limit:
                yield f, open(p, "rb").read()

shutil.rmtree(OUT, ignore_errors=True)
for f, b in files("prometheus-text", (".prom", ".txt")): put("exposition", f, b)
for f, b in list(files("openmetrics-parser-tests", (".txt",)))[:60]: put("exposition", "om_" + f, b)
for sub in ["statsd"]:
    n = 0
    for f, b in files(sub, (".jsonl",), 1 << 20):
        for line in b.decode().splitlines():
            case = json.loads(line)
            if isinstance(case.get("input"), str) and case["input"]:
                put("statsd", "%s_%03d.txt" % (f.split(".")[0][:12], n), case["input"]); n += 1
for f, b in files("otlp-json", (".json",)):
    if f != "index.json": put("otlp", f, b)
for f, b in files("prometheus-api", (".json",)):
    if f != "index.json": put("promapi", f, b)
replay = open(os.path.join(FIX, "replay-mixed.jsonl"), "rb").read()
put("replay", "replay-mixed.jsonl", replay)
put("replay", "recording.jsonl",
    '{"schema":"edgetop.recording/1","start":1764230400,"window_s":60,"interval_s":1}\n'
    '{"source":{"id":1,"name":"vllm","kind":"scrape","service":"llm"}}\n'
    '{"placement":{"region":"weu","site":"fra1","node":"fra1-n01","lat":50.1,"lon":8.7,"tier_ms":100,"gpus":4,"class":"code_completion"}}\n'
    '{"t":1764230400.5,"region":"weu","site":"fra1","node":"fra1-n01","metric":"latency_ms","value":12.5,"weight":3,"src":1,"class":"code_completion"}\n'
    '{"t":1764230401,"region":"weu","site":"fra1","node":"fra1-n01","metric":"gpu_util","gpu":2,"value":87}\n')
put("config", "scrape.yaml",
    "window: 60\ninterval: 5\nscrape:\n  - url: http://127.0.0.1:9400/metrics\n    region: weu\n    site: fra1\n    node: fra1-n01\n"
    "    class_label: model_name\n  - url: http://127.0.0.1:8000/metrics\n    interval: 2\n    timeout: 1\n")
put("config", "receivers.yaml", "statsd: 127.0.0.1:8125,region=weu,site=fra1\notlp: 127.0.0.1:4318\n")
put("config", "prometheus.yaml", "prometheus:\n  url: http://127.0.0.1:9090\n  node_label: instance\n  bearer_token: abc\n")
put("config", "classes.yaml", "classes:\n  code_completion:\n    tier_ms: 150\n    slo_target: 0.995\n    aliases: [chat, completion]\n")
body = b"# TYPE up gauge\nup 1\n"
for name, resp in {
    "length.http": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
    "chunked.http": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n# TYP\r\n10\r\nE up gauge\nup 1\n\r\n0\r\nX-Trailer: 1\r\n\r\n",
    "close.http": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body,
    "gzip.http": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(gzip.compress(body)) + gzip.compress(body),
    "nobody.http": b"HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n",
    "request.http": b"GET /api/v1/snapshot?history=15m&view=sites HTTP/1.1\r\nHost: x\r\n\r\n",
}.items():
    put("http", name, b"\x07" + resp)  # the first byte picks the split point
put("gzip", "gzip.bin", gzip.compress(body * 20))
put("gzip", "zlib.bin", zlib.compress(body * 20))
put("gzip", "empty.gz", gzip.compress(b""))
print("seeds:", {t: len(os.listdir(os.path.join(OUT, t))) for t in sorted(os.listdir(OUT))})
