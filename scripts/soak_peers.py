#!/usr/bin/env python3
"""The other side of scripts/soak.sh, all on 127.0.0.1:
  - an HTTP server with scrape targets: /good (a valid page), /hang (accepts, never answers),
    /reset (closes with a TCP reset), /broken (an HTML error page), /explode (thousands of new
    label values on every scrape);
  - a StatsD sender (the `statsd` PyPI client) of timings at --statsd-rate lines/s;
  - an OTLP/HTTP JSON sender of GPU gauges (8 points per request) at --otlp-rate requests/s.
Every 5 s it rewrites --counts with what it sent, as `key value` lines; SIGTERM stops the
senders first, writes the final counts, then exits."""
import argparse, http.server, io, json, os, random, signal, socket, socketserver, struct, threading, time, urllib.request
import statsd

ap = argparse.ArgumentParser()
ap.add_argument("--http-port", type=int, required=True)
ap.add_argument("--statsd-port", type=int, required=True)
ap.add_argument("--otlp-port", type=int, required=True)
ap.add_argument("--statsd-rate", type=float, default=500)
ap.add_argument("--otlp-rate", type=float, default=5)
ap.add_argument("--counts", required=True)
a = ap.parse_args()

sent = {"statsd_lines": 0, "otlp_requests": 0, "otlp_points": 0, "otlp_failed": 0, "scrapes_good": 0, "scrapes_explode": 0}
stop = threading.Event()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def page(self, body, ctype="text/plain; version=0.0.4"):
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        if self.path.startswith("/good"):
            sent["scrapes_good"] += 1
            self.page("# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n" + "".join(
                'DCGM_FI_DEV_GPU_UTIL{gpu="%d",Hostname="good-n1"} %d\n' % (g, random.randint(40, 90)) for g in range(4)) +
                "# TYPE DCGM_FI_DEV_GPU_TEMP gauge\n" + "".join(
                'DCGM_FI_DEV_GPU_TEMP{gpu="%d",Hostname="good-n1"} %d\n' % (g, random.randint(50, 70)) for g in range(4)))
        elif self.path.startswith("/hang"):
            time.sleep(3600)
        elif self.path.startswith("/reset"):
            # Linger 0: closing sends a TCP reset. The buffered files hold the socket open
            # too, so they are closed first (else the client would just wait).
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.rfile.close(); self.wfile.close()
            self.connection.close()
            self.rfile, self.wfile = io.BytesIO(), io.BytesIO()  # the handler's own flush lands here
        elif self.path.startswith("/broken"):
            self.page("<html><body><h1>502 Bad Gateway</h1></body></html>\n", "text/html")
        elif self.path.startswith("/explode"):
            sent["scrapes_explode"] += 1
            n = sent["scrapes_explode"]
            self.page("# TYPE request_latency_seconds histogram\n" + "".join(
                'request_latency_seconds_bucket{user="u%d_%d",le="+Inf"} 1\nrequest_latency_seconds_sum{user="u%d_%d"} 0.1\n'
                'request_latency_seconds_count{user="u%d_%d"} 1\n' % (n, i, n, i, n, i) for i in range(3000)))
        else:
            self.send_error(404)

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

def statsd_sender():
    c = statsd.StatsClient("127.0.0.1", a.statsd_port)
    period = 1.0 / a.statsd_rate
    nxt = time.time()
    while not stop.is_set():
        c.timing("inference.latency,region=soak,site=soak1,node=statsd-n1", random.lognormvariate(3.0, 0.4))
        sent["statsd_lines"] += 1
        nxt += period
        d = nxt - time.time()
        if d > 0: time.sleep(d)

def otlp_sender():
    url = "http://127.0.0.1:%d/v1/metrics" % a.otlp_port
    period = 1.0 / a.otlp_rate
    nxt = time.time()
    while not stop.is_set():
        now = str(int(time.time() * 1e9))
        points = [{"timeUnixNano": now, "asDouble": random.uniform(20, 95), "attributes": [{"key": "gpu.index", "value": {"intValue": str(g)}}]} for g in range(8)]
        body = {"resourceMetrics": [{"resource": {"attributes": [
            {"key": "host.name", "value": {"stringValue": "otlp-n1"}},
            {"key": "edgetop.region", "value": {"stringValue": "soak"}},
            {"key": "edgetop.site", "value": {"stringValue": "soak1"}}]},
            "scopeMetrics": [{"metrics": [{"name": "gpu_util", "unit": "%", "gauge": {"dataPoints": points}}]}]}]}
        req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=5).read()
            sent["otlp_requests"] += 1
            sent["otlp_points"] += len(points)
        except Exception:
            sent["otlp_failed"] += 1
        nxt += period
        d = nxt - time.time()
        if d > 0: time.sleep(d)

def write_counts():
    tmp = a.counts + ".tmp"
    with open(tmp, "w") as f:
        f.write("".join("%s %d\n" % kv for kv in sent.items()))
    os.replace(tmp, a.counts)

server = Server(("127.0.0.1", a.http_port), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
senders = [threading.Thread(target=statsd_sender), threading.Thread(target=otlp_sender)]

def finish(*_):
    stop.set()
signal.signal(signal.SIGTERM, finish)
signal.signal(signal.SIGINT, finish)
time.sleep(float(os.environ.get("SOAK_SENDER_DELAY", "3")))  # let edgetop bind its ports
for t in senders: t.start()
while not stop.is_set():
    write_counts()
    stop.wait(5)
for t in senders: t.join()
write_counts()
