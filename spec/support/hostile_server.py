#!/usr/bin/env python3
"""A loopback HTTP server that misbehaves on purpose (spec/limits_spec.lua,
spec/secrets_spec.lua).

Raw sockets, not http.server, so every byte on the wire is chosen here. One
thread per connection; every response closes its connection. The path of
the request picks the behaviour (a query string is ignored):

  /json/N             200, a valid JSON object of exactly N bytes (Content-Length)
  /big/N              200, N bytes with Content-Length (refused up front by a cap)
  /big-chunked/N      200, N bytes chunked, no length (refused while reading)
  /headers-fast       200 status line, then header lines as fast as possible, forever
  /header-line-endless 200 status line, then one header line that never ends
  /headers-slow       200 status line, then one short header line every 0.2 s, forever
  /body-stall         headers with Content-Length 1000, 10 bytes of body, then silence
  /body-trickle       chunked body, one byte every 0.1 s, forever
  /trickle-body       200 with Content-Length and a valid JSON body of 400 bytes,
                      sent 4 bytes every 0.5 s (50 s in all)
  /trickle-headers    200 status line, then one header line a second for 60 s,
                      then a valid empty JSON body
  /silent             reads the request, never answers
  /repeated-headers   200, one header name three times in three spellings, and a
                      header with a 100-byte name
  /pages-forever      200, a DescribeBackups page of one backup and a NextToken
                      never handed out before, for ever
  /pages-repeat       200, a DescribeBackups page of one backup and the same
                      NextToken every time
  /echo-token         403 UnrecognizedClientException whose message quotes the
                      request's X-Amz-Security-Token bare (as no pattern could spot it), and
                      an X-Echo header holding it; /echo-token/param: an
                      IncompatibleParameterError whose Parameter is the token
  /expired-first      400 ExpiredTokenException while the request's
                      X-Amz-Security-Token starts with "expired", else 200 with a
                      CreateBackup result; every request is logged
  /log                200, {"log": [...]}: of each logged request its security
                      token, amz-sdk-invocation-id, amz-sdk-request, X-Amz-Date
                      and ClientRequestToken
  /skew-error/T       403 InvalidSignatureException "Signature expired" with
                      Date: T (epoch seconds; now without T); logged
  /count              200, {"requests": N}: requests seen so far, this one excluded
  /reset              200, the request count back to 0

Usage: hostile_server.py --port 0 --port-file FILE [--tls CERT KEY]
Writes the bound port to FILE once listening; stops on SIGTERM or SIGINT.
"""
import argparse
import base64
import email.utils
import json
import ssl
import sys
import threading
import time

import loopback

COUNT_LOCK = threading.Lock()
STATE = {"requests": 0, "log": []}
STOP = threading.Event()


def send_head(conn, extra=b""):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                 b"x-amzn-RequestId: hostile-1\r\nConnection: close\r\n" + extra)


def json_of_size(n):
    """A JSON object of exactly n bytes (n >= 16)."""
    base = '{"Backups":[],"Pad":""}'
    pad = max(0, n - len(base))
    return ('{"Backups":[],"Pad":"' + "a" * pad + '"}').encode()


def log_request(headers, params):
    """Appends what /log reports of one request."""
    with COUNT_LOCK:
        STATE["log"].append({
            "token": headers.get("x-amz-security-token", ""),
            "invocation_id": headers.get("amz-sdk-invocation-id"),
            "request": headers.get("amz-sdk-request"), "amz_date": headers.get("x-amz-date"),
            "client_request_token": params.get("ClientRequestToken")})


def wait(seconds):
    """Sleep unless the server is stopping; False when it is."""
    return not STOP.wait(seconds)


def handle(conn):
    req = loopback.read_request(conn)
    if req is None:
        return
    target, headers, body_in = req
    path = target.split("?", 1)[0]
    counted = path not in ("/count", "/reset", "/log")
    if counted:
        with COUNT_LOCK:
            STATE["requests"] += 1
    parts = path.strip("/").split("/")
    mode, arg = parts[0], (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0)
    if mode == "count":
        body = json.dumps({"requests": STATE["requests"]}).encode()
        send_head(conn, b"Content-Length: %d\r\n\r\n" % len(body))
        conn.sendall(body)
    elif mode == "log":
        body = json.dumps({"log": STATE["log"]}).encode()
        send_head(conn, b"Content-Length: %d\r\n\r\n" % len(body))
        conn.sendall(body)
    elif mode == "reset":
        with COUNT_LOCK:
            STATE["requests"] = 0
            STATE["log"] = []
        send_head(conn, b"Content-Length: 2\r\n\r\n")
        conn.sendall(b"{}")
    elif mode == "json":
        body = json_of_size(arg)
        send_head(conn, b"Content-Length: %d\r\n\r\n" % len(body))
        conn.sendall(body)
    elif mode in ("pages-forever", "pages-repeat"):
        with COUNT_LOCK:
            n = STATE["requests"]
        token = base64.b64encode((b"fresh-%d" % n) if mode == "pages-forever" else b"same-token").decode()
        body = json.dumps({"Backups": [{
            "BackupId": "backup-%017x" % n, "Lifecycle": "AVAILABLE", "Type": "USER_INITIATED",
            "CreationTime": 1700000000 + n}], "NextToken": token}).encode()
        send_head(conn, b"Content-Length: %d\r\n\r\n" % len(body))
        conn.sendall(body)
    elif mode == "expired-first":
        token = headers.get("x-amz-security-token", "")
        try:
            params = json.loads(body_in.decode("utf-8") or "{}")
        except ValueError:
            params = {}
        log_request(headers, params)
        if token.startswith("expired"):
            status = b"400 Bad Request"
            body = json.dumps({"__type": "com.amazonaws.fsx#ExpiredTokenException",
                               "message": "The security token included in the request is expired"})
        else:
            status = b"200 OK"
            body = json.dumps({"Backup": {
                "BackupId": "backup-0123456789abcdef0", "Lifecycle": "CREATING",
                "Type": "USER_INITIATED", "CreationTime": 1700000000,
                "FileSystem": {"FileSystemId": params.get("FileSystemId")}}})
        body = body.encode()
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/x-amz-json-1.1\r\n"
                     b"x-amzn-RequestId: hostile-1\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
    elif mode == "skew-error":
        log_request(headers, {})
        stamp = email.utils.formatdate(float(parts[1]) if len(parts) > 1 else time.time(), usegmt=True)
        body = json.dumps({"__type": "InvalidSignatureException",
                           "message": "Signature expired: 20000101T000000Z is now earlier than "
                                      "20000101T000500Z (20000101T001000Z - 5 min.)"}).encode()
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/x-amz-json-1.1\r\n"
                     b"x-amzn-RequestId: hostile-1\r\nConnection: close\r\nDate: "
                     + stamp.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    elif mode == "echo-token":
        token = headers.get("x-amz-security-token", "")
        if parts[1:] == ["param"]:
            body = json.dumps({"__type": "IncompatibleParameterError", "message": "bad parameter",
                               "Parameter": token}).encode()
        else:
            body = json.dumps({"__type": "UnrecognizedClientException",
                               "message": "The security token <%s> is invalid." % token}).encode()
        conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/x-amz-json-1.1\r\n"
                     b"x-amzn-RequestId: hostile-1\r\nConnection: close\r\nX-Echo: "
                     + headers.get("x-amz-security-token", "").encode("latin-1") + b"\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
    elif mode == "repeated-headers":
        send_head(conn, b"X-Multi: a\r\nx-multi: b\r\nX-MULTI:  c \r\n"
                  + b"X-" + b"Long" * 24 + b"-Name: long\r\nContent-Length: 2\r\n\r\n")
        conn.sendall(b"{}")
    elif mode == "big":
        send_head(conn, b"Content-Length: %d\r\n\r\n" % arg)
        block = b"a" * 65536
        left = arg
        while left > 0:
            conn.sendall(block[:min(left, len(block))])
            left -= min(left, len(block))
    elif mode == "big-chunked":
        send_head(conn, b"Transfer-Encoding: chunked\r\n\r\n")
        block = b"a" * 65536
        left = arg
        while left > 0:
            n = min(left, len(block))
            conn.sendall(b"%x\r\n" % n + block[:n] + b"\r\n")
            left -= n
        conn.sendall(b"0\r\n\r\n")
    elif mode == "headers-fast":
        send_head(conn)
        i = 0
        line = b": " + b"h" * 1000 + b"\r\n"
        while not STOP.is_set():
            conn.sendall(b"X-Filler-%d" % i + line)
            i += 1
    elif mode == "header-line-endless":
        send_head(conn)
        conn.sendall(b"X-Endless: ")
        block = b"h" * 65536
        while not STOP.is_set():
            conn.sendall(block)
    elif mode == "headers-slow":
        send_head(conn)
        i = 0
        while wait(0.2):
            conn.sendall(b"X-Slow-%d: x\r\n" % i)
            i += 1
    elif mode == "body-stall":
        send_head(conn, b"Content-Length: 1000\r\n\r\n")
        conn.sendall(b'{"Backups":')
        while wait(0.5):
            pass
    elif mode == "body-trickle":
        send_head(conn, b"Transfer-Encoding: chunked\r\n\r\n")
        while wait(0.1):
            conn.sendall(b"1\r\n \r\n")
    elif mode == "trickle-body":
        body = json_of_size(400)
        send_head(conn, b"Content-Length: %d\r\n\r\n" % len(body))
        for i in range(0, len(body), 4):
            conn.sendall(body[i:i + 4])
            if not wait(0.5):
                break
    elif mode == "trickle-headers":
        send_head(conn)
        for i in range(60):
            conn.sendall(b"X-Slow-%d: x\r\n" % i)
            if not wait(1):
                break
        conn.sendall(b"Content-Length: 2\r\n\r\n{}")
    elif mode == "silent":
        while wait(0.5):
            pass
    else:
        body = b'{"__type":"NotFound","message":"unknown hostile mode"}'
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % len(body) + body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()

    tls = None
    if args.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls[0], args.tls[1])

    wrap = (lambda conn: tls.wrap_socket(conn, server_side=True)) if tls else None
    loopback.serve_raw(handle, args.port, args.port_file, STOP, wrap)
    sys.exit(0)


if __name__ == "__main__":
    main()
