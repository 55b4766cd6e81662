"""An HTTP/1.1 peer on 127.0.0.1 with the answers an HTTP client must survive; used by
edgetop's HTTP client tests. usage: http_peer.py PORT [CERT KEY] (TLS when a cert is given).

  /metrics          a dcgm-exporter-shaped page, Content-Length, keep-alive
  /chunked          the same page, Transfer-Encoding: chunked (odd chunk sizes)
  /gzip             the same page, gzip with Content-Encoding
  /close            the same page, no length: the body ends when the connection closes
  /slow-body        headers and half the body, then nothing for 30 s
  /hang             nothing at all for 30 s
  /bad-length       Content-Length longer than the body, then close
  /connections      how many TCP connections this peer has accepted
"""
import gzip
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = b"".join(
    b'DCGM_FI_DEV_GPU_UTIL{gpu="%d",Hostname="peer-n01"} %d\n' % (g, 40 + g) for g in range(4)
) + b'# TYPE DCGM_FI_DEV_GPU_TEMP gauge\nDCGM_FI_DEV_GPU_TEMP{gpu="0",Hostname="peer-n01"} 61\n'
connections = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        global connections
        with lock:
            connections += 1
        super().setup()

    def head(self, status=200, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/metrics":
            self.head(headers=[("Content-Length", str(len(PAGE)))])
            self.wfile.write(PAGE)
        elif path == "/chunked":
            self.head(headers=[("Transfer-Encoding", "chunked")])
            for i in range(0, len(PAGE), 37):
                part = PAGE[i:i + 37]
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif path == "/gzip":
            body = gzip.compress(PAGE)
            self.head(headers=[("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))])
            self.wfile.write(body)
        elif path == "/close":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(PAGE)
            self.close_connection = True
        elif path == "/slow-body":
            self.head(headers=[("Content-Length", str(len(PAGE)))])
            self.wfile.write(PAGE[: len(PAGE) // 2])
            self.wfile.flush()
            time.sleep(30)
        elif path == "/hang":
            time.sleep(30)
        elif path == "/bad-length":
            self.head(headers=[("Content-Length", str(len(PAGE) + 100))])
            self.wfile.write(PAGE)
            self.wfile.flush()
            self.close_connection = True
        elif path == "/connections":
            body = str(connections).encode()
            self.head(headers=[("Content-Length", str(len(body)))])
            self.wfile.write(body)
        else:
            body = b"no such page\n"
            self.head(404, [("Content-Length", str(len(body)))])
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
if len(sys.argv) > 3:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
