"""Shared start-up of the small loopback test servers (spec/support/*_server.py).

Layer: test support. `serve(handler, port, port_file)` binds 127.0.0.1 (port 0
picks a free one), writes the port to port_file through a temp file and a
rename (so a reader never sees a partial number), exits cleanly on SIGTERM,
and serves until then with one daemon thread per connection.
"""

import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    """Base of the http.server test servers: HTTP/1.1 keep-alive, no Nagle
    delay, no request log on stderr, and send() for a whole answer
    (Content-Type, Content-Length, then the extra headers)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    content_type = "application/json"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype=None, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype or self.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def serve(handler, port, port_file):
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


def read_request(conn, max_head=1 << 20):
    """One request on a raw connection: its target (path and query), its
    headers (lowercase names) and its Content-Length body; None when the
    client went away first or sent more than max_head bytes without ending
    the head."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > max_head:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    target = parts[1].decode("latin-1") if len(parts) > 1 else "/"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    length = int(headers.get("content-length", "0") or "0")
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return target, headers, rest


def serve_raw(handle, port, port_file, stop, wrap=None):
    """Raw sockets, for the servers that choose every byte they send: binds
    127.0.0.1, writes the port like `serve`, runs handle(conn) (conn first
    through wrap, e.g. a TLS wrap, when given) in a daemon thread per
    connection and closes conn after it, and returns once SIGTERM or SIGINT
    set the threading.Event stop (the connection threads watch it too)."""

    def serve_one(conn):
        try:
            if wrap is not None:
                conn = wrap(conn)
            conn.settimeout(None)
            handle(conn)
        except (OSError, ValueError):
            pass  # the client hung up, refused our certificate, or sent garbage
        finally:
            try:
                conn.close()
            except OSError:
                pass

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(64)
    lsock.settimeout(0.2)
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(lsock.getsockname()[1]))
    os.replace(tmp, port_file)
    while not stop.is_set():
        try:
            conn, _ = lsock.accept()
        except socket.timeout:
            continue
        except OSError:
            break
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()
    lsock.close()
    # give the connection threads a moment to notice stop
    time.sleep(0.1)
