#!/usr/bin/env python3
"""canned_server.py - a loopback FSx endpoint that answers each operation
with a body set in advance, byte for byte (spec/cli_spec.lua).

The answers a well-behaved service never gives but a proxy, a fault or a
future API might: a 2xx without the expected member, numbers like 1e999,
strings with control characters. The request is not checked (no signature
verification): only the operation named in X-Amz-Target matters.

Usage: canned_server.py --port-file FILE
Listens on 127.0.0.1 on a free port, writes it to FILE once listening, and
runs until killed.

  POST /_set   body {"Operation": {"status": 200, "body": "<raw text>"}, ...}
               replaces every canned answer
  POST /...    (X-Amz-Target: Service.Operation) the canned answer, or 400
               UnknownOperationException when none is set
"""
import argparse
import http.server
import json
import os
import threading
import uuid

ANSWERS = {}
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/_set":
            with LOCK:
                ANSWERS.clear()
                ANSWERS.update(json.loads(body))
            self.send(200, "{}")
            return
        op = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
        with LOCK:
            answer = ANSWERS.get(op)
        if answer is None:
            self.send(400, json.dumps({"__type": "UnknownOperationException",
                                       "message": "no canned answer for %s" % op}))
            return
        self.send(int(answer.get("status", 200)), answer["body"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
