"""A dcgm-exporter- and vLLM-shaped exporter built on the real prometheus_client library.

Serves, on 127.0.0.1:PORT, per-GPU DCGM gauges labelled with Hostname (as dcgm-exporter does)
and a vLLM end-to-end latency histogram with vLLM's own bucket bounds, observing requests
continuously so a scraper sees the counts grow. Used by edgetop's end-to-end tests.
"""
import random
import sys
import time

from prometheus_client import Gauge, Histogram, start_http_server

port = int(sys.argv[1])
host = sys.argv[2] if len(sys.argv) > 2 else "infer-n01"

util = Gauge("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", ["gpu", "UUID", "Hostname"])
temp = Gauge("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", ["gpu", "UUID", "Hostname"])
used = Gauge("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", ["gpu", "UUID", "Hostname"])
free = Gauge("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", ["gpu", "UUID", "Hostname"])
for g, (u, t) in enumerate([(71, 64), (93, 88)]):
    labels = dict(gpu=str(g), UUID=f"GPU-{g:08d}", Hostname=host)
    util.labels(**labels).set(u)
    temp.labels(**labels).set(t)
    used.labels(**labels).set(30000 + g)
    free.labels(**labels).set(50000)

# vLLM's default buckets for e2e latency (seconds).
buckets = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0]
e2e = Histogram("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.",
                ["model_name"], buckets=buckets)

start_http_server(port, addr="127.0.0.1")
rng = random.Random(7)
while True:
    for _ in range(20):
        e2e.labels(model_name="llama").observe(rng.lognormvariate(-0.2, 0.4))
    time.sleep(0.05)
