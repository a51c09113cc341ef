#!/usr/bin/env python3
"""answer_server.py - a loopback HTTP/1.1 server that answers what the test asks.

Every POST is answered 200 with the body written, in hex, in the request
path: POST /hex/7b7d answers `{}` (Content-Type application/x-amz-json-1.1,
an x-amzn-RequestId). A spec points a client's endpoint_url at
http://127.0.0.1:PORT/hex/<body> to see how the library takes a 2xx answer
of that exact shape over real sockets and libcurl.

Usage: answer_server.py --port 0 --port-file FILE
Listens on 127.0.0.1; writes the port to FILE once ready; runs until killed.
Only the standard library is used.
"""
import argparse
import binascii
import http.server
import os
import socketserver


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        if not path.startswith("/hex/"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = binascii.unhexlify(path[len("/hex/"):])
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "answer-server-1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
