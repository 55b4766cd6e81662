"""Sends request latencies through the real OpenTelemetry Python SDK and its OTLP/HTTP JSON
exporter, as an exponential histogram, to edgetop; prints the exact nearest-rank p50/p99 of
what it sent. Used by edgetop's end-to-end tests.

usage: python3 otlp_sender.py http://127.0.0.1:PORT/v1/metrics
"""
import json
import math
import random
import sys

from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource

exporter = OTLPMetricExporter(endpoint=sys.argv[1], preferred_temporality={Histogram: AggregationTemporality.DELTA})
reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
view = View(instrument_name="http.server.request.duration", aggregation=ExponentialBucketHistogramAggregation(max_size=2048))
resource = Resource.create({"host.name": "otel-n01", "edgetop.region": "WEU", "edgetop.site": "fra1"})
provider = MeterProvider(resource=resource, metric_readers=[reader], views=[view])
meter = provider.get_meter("edgetop.test")
hist = meter.create_histogram("http.server.request.duration", unit="s")
gauge_values = []

rng = random.Random(11)
values = [rng.lognormvariate(-2.8, 0.5) for _ in range(5000)]  # seconds, median ~60 ms
for v in values:
    hist.record(v, {"http.route": "/v1/chat/completions", "edgetop.class": "customer_service"})
provider.force_flush()
provider.shutdown()

ms = sorted(v * 1000 for v in values)
def q(p):
    return ms[max(1, math.ceil(p * len(ms))) - 1]
print(json.dumps({"count": len(ms), "p50": q(0.5), "p99": q(0.99)}))
