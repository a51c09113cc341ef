#!/usr/bin/env python3
"""raw_http_server.py - a tiny loopback HTTP/1.1 server for spec/c/test_http.c.

Writes the raw bytes of each answer itself so that the tests can exercise
what libcurl sees on the wire: 1xx preambles, odd whitespace, repeated
headers, chunked bodies, oversized answers, stalls, resets and early closes.
Connections are kept alive unless the client asks otherwise, and every
answer carries X-Conn-Id (the number of the connection it came on) so that
a test can tell reuse from reconnection.

Usage: raw_http_server.py --port-file FILE [--port 0] [--tls-cert CERT --tls-key KEY]
Listens on 127.0.0.1 on a free port (plus a TLS port when a certificate is
given) and writes "PORT TLS_PORT" (TLS_PORT 0 without TLS) to FILE once it
is ready. Runs until killed.

Routes (by path, the query is ignored):
  /echo             200, body: request line, the headers as received, a blank
                    line, then the request body
  /status/NNN       status NNN with X-Status and a short body
  /chunked          chunked body "hello chunked world"
  /continue         a "100 Continue" block (with X-Interim) before the 200
  /trim             headers with padded, empty and tight values
  /repeat           X-Rep three times, X-Other in between
  /big/N            N bytes of body with Content-Length
  /bigchunked/N     N bytes of body, chunked in 1000-byte pieces
  /bigheaders/N     N headers of about 40 bytes each
  /hang             reads the request and never answers
  /reset            promises 100000 bytes, sends 1000, then resets (RST)
  /partial          promises 100000 bytes, sends 1000, then closes (FIN)
  /cutheaders       the status line and one header, then closes (no blank line)
  /cutchunked       a chunked body "{}" without its last chunk, then closes
  /nothing          closes without answering
  /extra            200 "asked", then 50 ms later an unasked 200 "unasked" on
                    the same connection, which stays open
"""
import argparse
import os
import socket
import ssl
import struct
import sys
import threading
import time

CONN_LOCK = threading.Lock()
CONN_COUNT = [0]


def next_conn_id():
    with CONN_LOCK:
        CONN_COUNT[0] += 1
        return CONN_COUNT[0]


class Closed(Exception):
    pass


class Conn:
    """Buffered reading of requests from one connection."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed()
        self.buf += data

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
            if not self.buf[:1].isalpha():
                # not HTTP (a TLS hello on the plain port): answer and close
                self.sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                raise Closed()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def response(status, reason, headers, body, conn_id):
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    lines += ["%s: %s" % h for h in headers]
    lines.append("X-Conn-Id: %d" % conn_id)
    if not any(h[0].lower() == "transfer-encoding" for h in headers):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(data, size):
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def handle_one(conn, conn_id):
    """Serves one request; returns False when the connection must close."""
    head = conn.read_head().decode("latin-1")
    lines = head.split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))
    length = 0
    for name, value in headers:
        if name.lower() == "content-length":
            length = int(value)
    body = conn.read_exact(length) if length else b""
    path = target.split("?", 1)[0]
    parts = path.strip("/").split("/")
    keep = not any(n.lower() == "connection" and v.lower() == "close" for n, v in headers)
    sock = conn.sock

    if path == "/echo":
        text = "%s %s\n" % (method, target)
        text += "".join("%s: %s\n" % h for h in headers) + "\n"
        out = response(200, "OK", [("Content-Type", "text/plain")],
                       text.encode("latin-1") + body, conn_id)
    elif parts[0] == "status":
        code = int(parts[1])
        out = response(code, "Whatever", [("X-Status", str(code))],
                       b"status %d" % code, conn_id)
    elif path == "/chunked":
        out = response(200, "OK", [("Transfer-Encoding", "chunked")], b"", conn_id)
        out += b"6\r\nhello \r\n8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n"
    elif path == "/continue":
        out = b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
        out += response(200, "OK", [("X-Final", "yes")], b"after continue", conn_id)
    elif path == "/trim":
        out = ("HTTP/1.1 200 OK\r\nX-Trim:    padded value  \t\r\nX-Empty:\r\n"
               "X-Blank:   \r\nX-Tight:v\r\nX-Colon: a:b\r\nX-Conn-Id: %d\r\n"
               "Content-Length: 2\r\n\r\nok" % conn_id).encode("latin-1")
    elif path == "/repeat":
        out = response(200, "OK", [("X-Rep", "one"), ("X-Rep", "two"), ("X-Other", "mid"),
                                   ("X-Rep", "three")], b"", conn_id)
    elif parts[0] == "big":
        out = response(200, "OK", [], b"x" * int(parts[1]), conn_id)
    elif parts[0] == "bigchunked":
        out = response(200, "OK", [("Transfer-Encoding", "chunked")], b"", conn_id)
        out += chunked(b"y" * int(parts[1]), 1000)
    elif parts[0] == "bigheaders":
        hdrs = [("X-Header-%04d" % i, "v" * 24) for i in range(int(parts[1]))]
        out = response(200, "OK", hdrs, b"", conn_id)
    elif path == "/hang":
        try:
            while True:
                conn.fill()
        except (Closed, OSError):
            return False
    elif path == "/cutheaders":
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n")
        return False
    elif path == "/cutchunked":
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n")
        return False
    elif path in ("/reset", "/partial"):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"z" * 1000)
        if path == "/reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False
    elif path == "/nothing":
        return False
    elif path == "/extra":
        sock.sendall(response(200, "OK", [], b"asked", conn_id))
        time.sleep(0.05)
        out = response(200, "OK", [], b"unasked", conn_id)
    else:
        out = response(404, "Not Found", [], b"no route", conn_id)
    sock.sendall(out)
    return keep


def serve(sock, tls):
    conn_id = next_conn_id()
    try:
        if tls is not None:
            sock = tls.wrap_socket(sock, server_side=True)
        conn = Conn(sock)
        while handle_one(conn, conn_id):
            pass
    except (Closed, OSError, ValueError, ssl.SSLError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def accept_loop(listener, tls):
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=serve, args=(sock, tls), daemon=True).start()


def listen():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0,
                    help="accepted for spec/support/procs.lua; only 0 (a free port) is used")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()

    plain = listen()
    tls_port = 0
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        secure = listen()
        tls_port = secure.getsockname()[1]
        threading.Thread(target=accept_loop, args=(secure, ctx), daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (plain.getsockname()[1], tls_port))
    os.rename(tmp, args.port_file)
    try:
        accept_loop(plain, None)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
