#!/usr/bin/env python3
"""wire_server.py - a loopback server that answers with scripted raw bytes
(spec/wire_spec.lua).

Every byte of every answer is chosen by the spec: it POSTs a script to
/_control, then each request (any other path) takes the script's next step;
once the script is used up, its last step answers every further request.
One thread per connection; a step ends its connection unless it says keep.

  POST /_control  {"steps": [STEP, ...]}: a new script, the log emptied
  GET  /_stats    {"log": [...]}: of each scripted request its path,
                  amz-sdk-invocation-id, amz-sdk-request, ClientRequestToken,
                  whether it carried Authorization, and its X-Amz-Date

A STEP is {"raw": BASE64, "then": END, "pause": S, "trickle": [N, S],
"extra": BASE64, "extra_after": S}:
  raw       the bytes sent after the request was read
  extra     bytes sent after raw, unasked (a second answer, garbage),
            extra_after seconds later (0 by default)
  pause     seconds to wait (the request read) before sending
  trickle   send N bytes at a time, S seconds apart
  then      "close" (FIN, the default), "reset" (RST), "hang" (keep the
            connection open, silent, until the server stops) or "keep"
            (read the connection's next request, answered by the next step)

Usage: wire_server.py --port 0 --port-file FILE
Writes the bound port to FILE once listening; stops on SIGTERM or SIGINT.
"""
import argparse
import base64
import json
import socket
import struct
import sys
import threading

import loopback

LOCK = threading.Lock()
STATE = {"steps": [], "next": 0, "log": []}
STOP = threading.Event()


def answer(conn, body, status=b"200 OK"):
    conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                 b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def next_step():
    with LOCK:
        steps = STATE["steps"]
        if not steps:
            return None
        step = steps[min(STATE["next"], len(steps) - 1)]
        STATE["next"] += 1
        return step


def handle(conn):
    # a step ending with "keep" serves the connection's next request too
    while handle_one(conn) == "keep":
        pass


def handle_one(conn):
    req = loopback.read_request(conn)
    if req is None:
        return None
    path, headers, body = req
    if path == "/_control":
        ctl = json.loads(body.decode("utf-8"))
        with LOCK:
            STATE["steps"] = ctl.get("steps", [])
            STATE["next"] = 0
            STATE["log"] = []
        answer(conn, b"{}")
        return None
    if path == "/_stats":
        with LOCK:
            answer(conn, json.dumps({"log": STATE["log"]}).encode())
        return None
    try:
        params = json.loads(body.decode("utf-8") or "{}")
    except ValueError:
        params = {}
    if not isinstance(params, dict):
        params = {}
    with LOCK:
        STATE["log"].append({
            "path": path, "invocation_id": headers.get("amz-sdk-invocation-id"),
            "request": headers.get("amz-sdk-request"),
            "client_request_token": params.get("ClientRequestToken"),
            "next_token": params.get("NextToken"),
            "authorization": "authorization" in headers,
            "security_token": headers.get("x-amz-security-token"),
            "amz_date": headers.get("x-amz-date")})
    step = next_step()
    if step is None:
        answer(conn, b'{"__type":"NoScript","message":"no script"}', b"500 No Script")
        return None
    if step.get("pause"):
        if STOP.wait(step["pause"]):
            return None
    raw = base64.b64decode(step.get("raw", ""))
    trickle = step.get("trickle")
    if trickle:
        n, gap = int(trickle[0]), float(trickle[1])
        for i in range(0, len(raw), n):
            conn.sendall(raw[i:i + n])
            if STOP.wait(gap):
                return None
    else:
        conn.sendall(raw)
    if step.get("extra"):
        if STOP.wait(step.get("extra_after", 0)):
            return None
        conn.sendall(base64.b64decode(step["extra"]))
    end = step.get("then", "close")
    if end == "reset":
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif end == "hang":
        STOP.wait()
    return end


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    loopback.serve_raw(handle, args.port, args.port_file, STOP)
    sys.exit(0)


if __name__ == "__main__":
    main()
