#!/usr/bin/python3
"""chunked_server.py - a raw loopback HTTP/1.1 server for spec/nginx_spec.lua.

Layer: test support. It writes each answer's bytes itself so the Nginx
transport (lua/fsx/transport/ngx.lua) meets what real servers send: chunked
bodies split across writes with chunk extensions and trailers, Content-Length
bodies, HTTP/1.0 bodies that run until the connection closes, 1xx preambles,
repeated headers, oversized heads and bodies, garbage, stalls and early closes.
Connections are kept alive unless the route or the client says otherwise;
every answer carries X-Conn-Id (the connection's number) so a test can tell
reuse from reconnection.

Usage: chunked_server.py --port-file FILE [--tls-cert CERT --tls-key KEY]
Listens on 127.0.0.1 (plus a TLS port when a certificate is given), writes
"PORT TLS_PORT" (TLS_PORT 0 without TLS) to FILE once ready, runs until killed.

Routes (by path; the query is ignored):
  /cl               200, Content-Length body "hello content-length"
  /chunked          200, chunked "hello chunked world" in pieces, with chunk
                    extensions and a trailer, written in several sends
  /close10          HTTP/1.0 200 without a length: the body runs until close
  /close11          HTTP/1.1 200, Connection: close, no length
  /continue         "100 Continue" before the 200
  /repeat           X-Rep three times (the client joins them with ", ")
  /big/N            N bytes with Content-Length
  /bigchunked/N     N bytes chunked in 1000-byte pieces
  /bigclose/N       N bytes without a length, then close
  /headers/N        N headers of about 40 bytes each
  /nocontent        204 without a body
  /garbage          bytes that are not HTTP
  /badchunk         a chunk size that is not hex
  /conflict         two different Content-Length values
  /hang             reads the request, never answers
  /nothing          closes without answering
  /echo             200, body: the request head as received, then the body
  /stats            200, JSON {"connections": N, "requests": N}
"""
import argparse
import json
import os
import socket
import ssl
import threading
import time

LOCK = threading.Lock()
STATS = {"connections": 0, "requests": 0}


def bump(name):
    with LOCK:
        STATS[name] += 1
        return STATS[name]


class Closed(Exception):
    pass


def read_request(sock, buf):
    """(head bytes, body bytes, rest of buf) of the next request."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise Closed()
        buf += data
    head, buf = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buf) < length:
        data = sock.recv(65536)
        if not data:
            raise Closed()
        buf += data
    return head, buf[:length], buf[length:]


def answer(conn_id, status, body, headers=(), version="HTTP/1.1"):
    lines = ["%s %s" % (version, status), "X-Conn-Id: %d" % conn_id]
    lines.extend(headers)
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def chunked_head(conn_id, extra=()):
    return ("HTTP/1.1 200 OK\r\nX-Conn-Id: %d\r\nTransfer-Encoding: chunked\r\n%s\r\n"
            % (conn_id, "".join(h + "\r\n" for h in extra))).encode()


def route(sock, conn_id, head, body):
    """Write the answer; True when the connection must close afterwards."""
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    path = request_line.split(" ")[1].split("?")[0]
    parts = path.strip("/").split("/")
    name = parts[0]
    n = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if name == "cl":
        sock.sendall(answer(conn_id, "200 OK", b"hello content-length",
                            ["Content-Type: text/plain"]))
    elif name == "chunked":
        pieces = [chunked_head(conn_id, ["Trailer: X-Trailer"]),
                  b"6;ext=1\r\nhello \r", b"\n8 ; name=\"v\"\r\nchunked \r\n",
                  b"5\r\nworld\r\n", b"0\r\nX-Trailer: done\r\n\r\n"]
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(0.02)
    elif name == "close10":
        sock.sendall(b"HTTP/1.0 200 OK\r\nX-Conn-Id: %d\r\n\r\nuntil " % conn_id)
        time.sleep(0.02)
        sock.sendall(b"the close")
        return True
    elif name == "close11":
        sock.sendall(b"HTTP/1.1 200 OK\r\nX-Conn-Id: %d\r\nConnection: close\r\n\r\nbye" % conn_id)
        return True
    elif name == "continue":
        sock.sendall(b"HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n")
        sock.sendall(answer(conn_id, "200 OK", b"after continue"))
    elif name == "repeat":
        sock.sendall(answer(conn_id, "200 OK", b"r",
                            ["X-Rep: a", "X-Other: o", "X-Rep: b", "x-rep:  c  "]))
    elif name == "big":
        sock.sendall(answer(conn_id, "200 OK", b"x" * n))
    elif name == "bigchunked":
        sock.sendall(chunked_head(conn_id))
        left = n
        while left > 0:
            k = min(1000, left)
            sock.sendall(b"%x\r\n" % k + b"y" * k + b"\r\n")
            left -= k
        sock.sendall(b"0\r\n\r\n")
    elif name == "bigclose":
        sock.sendall(b"HTTP/1.1 200 OK\r\nX-Conn-Id: %d\r\nConnection: close\r\n\r\n" % conn_id)
        sock.sendall(b"z" * n)
        return True
    elif name == "headers":
        extra = ["X-Filler-%05d: %s" % (i, "f" * 24) for i in range(n)]
        sock.sendall(answer(conn_id, "200 OK", b"many headers", extra))
    elif name == "nocontent":
        sock.sendall(b"HTTP/1.1 204 No Content\r\nX-Conn-Id: %d\r\n\r\n" % conn_id)
    elif name == "garbage":
        sock.sendall(b"SSH-2.0-OpenSSH\r\nwhat\r\n\r\n")
        return True
    elif name == "badchunk":
        sock.sendall(chunked_head(conn_id) + b"zz\r\nnope\r\n0\r\n\r\n")
        return True
    elif name == "conflict":
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        return True
    elif name == "hang":
        time.sleep(30)
        return True
    elif name == "nothing":
        return True
    elif name == "echo":
        sock.sendall(answer(conn_id, "200 OK", head + b"\r\n\r\n" + body))
    elif name == "stats":
        with LOCK:
            doc = json.dumps(STATS).encode()
        sock.sendall(answer(conn_id, "200 OK", doc, ["Content-Type: application/json"]))
    else:
        sock.sendall(answer(conn_id, "404 Not Found", b"no such route"))
    return b"connection: close" in head.lower()


def serve_connection(sock):
    conn_id = bump("connections")
    buf = b""
    try:
        while True:
            head, body, buf = read_request(sock, buf)
            bump("requests")
            if route(sock, conn_id, head, body):
                break
    except (Closed, OSError, ssl.SSLError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def listen(tls_context=None):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)

    def loop():
        while True:
            sock, _ = srv.accept()

            def run(s=sock):
                if tls_context is not None:
                    try:
                        s.settimeout(10)
                        s = tls_context.wrap_socket(s, server_side=True)
                        s.settimeout(None)
                    except (OSError, ssl.SSLError):
                        s.close()
                        return
                serve_connection(s)
            threading.Thread(target=run, daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    port = listen()
    tls_port = 0
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        tls_port = listen(ctx)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (port, tls_port))
    os.rename(tmp, args.port_file)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
