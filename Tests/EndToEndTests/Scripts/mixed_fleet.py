"""A mixed real fleet on 127.0.0.1: each node's inference server exposes vLLM's end-to-end
latency histogram through the real prometheus_client (with dcgm-exporter-shaped GPU gauges),
and the application sends one DogStatsD timing per request through the real datadog client —
the same requests, seen by two sources. Used by edgetop's end-to-end tests.

usage: mixed_fleet.py FIRST_PORT NODES STATSD_PORT RESULT_FILE [--no-statsd]
Serves node i on FIRST_PORT + i, waits a moment for the scraper, sends the requests, writes the
exact per-node counts and nearest-rank quantiles of what it sent to RESULT_FILE, keeps serving.
"""
import json
import math
import random
import sys
import time

from datadog import DogStatsd
from prometheus_client import CollectorRegistry, Gauge, Histogram, start_http_server

first_port, nodes, statsd_port, result_file = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
send_statsd = "--no-statsd" not in sys.argv

# vLLM's default buckets for e2e latency (seconds).
BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0]
servers = []
for i in range(nodes):
    host = f"mix-n{i + 1:02d}"
    registry = CollectorRegistry()
    util = Gauge("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", ["gpu", "UUID", "Hostname"], registry=registry)
    temp = Gauge("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", ["gpu", "UUID", "Hostname"], registry=registry)
    for g in range(2):
        labels = dict(gpu=str(g), UUID=f"GPU-{i:04d}{g:04d}", Hostname=host)
        util.labels(**labels).set(60 + 10 * g)
        temp.labels(**labels).set(55 + g)
    e2e = Histogram("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.",
                    ["model_name"], buckets=BUCKETS, registry=registry)
    start_http_server(first_port + i, addr="127.0.0.1", registry=registry)
    servers.append((host, e2e))

time.sleep(1.5)  # edgetop's first scrape sets the baseline that later scrapes are counted from
dog = DogStatsd(host="127.0.0.1", port=statsd_port) if send_statsd else None
rng = random.Random(11)
sent = {host: [] for host, _ in servers}
for round_ in range(30):
    for idx, (host, e2e) in enumerate(servers):
        for _ in range(15 + 5 * idx):
            ms = round(rng.lognormvariate(math.log(250 + 120 * idx), 0.45), 3)
            e2e.labels(model_name="llama").observe(ms / 1000)
            if dog:
                dog.distribution("vllm.request.latency", ms, tags=[f"node:{host}", "region:WEU", "site:mix1"])
            sent[host].append(ms)
    if dog:
        dog.flush()
    time.sleep(0.05)


def q(xs, p):
    xs = sorted(xs)
    return xs[max(1, math.ceil(p * len(xs))) - 1]


with open(result_file + ".tmp", "w") as f:
    json.dump({h: {"count": len(v), "p50": q(v, .5), "p90": q(v, .9), "p99": q(v, .99)} for h, v in sent.items()}, f)
import os
os.rename(result_file + ".tmp", result_file)
while True:
    time.sleep(1)
