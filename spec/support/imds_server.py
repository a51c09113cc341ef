#!/usr/bin/python3
"""Local EC2 instance metadata service (IMDSv2) for the credential specs.

Serves on loopback only:
  PUT /latest/api/token                         (needs X-aws-ec2-metadata-token-ttl-seconds)
  GET /latest/meta-data/iam/security-credentials/        role name
  GET /latest/meta-data/iam/security-credentials/<role>  credentials JSON
Every metadata GET needs the issued token in X-aws-ec2-metadata-token (401 otherwise).

Control (not part of IMDS):
  POST /_control  JSON {"mode": ..., "expires_in": N, "role": ...} changes behaviour
  GET  /_stats    JSON counts of requests per kind
Modes: normal, hang (no answer for 30 s, on every request), hang_creds (only the
credentials request hangs), garbage (credentials body is not JSON), error500 (every request
answers 500), no_role (404 for the role list), token_forbidden (403 on the token request,
as an IMDSv1-only service would answer), failure_code (Code "AssumeRoleUnauthorizedAccess").

Usage: imds_server.py --port 0 --port-file FILE [--mode MODE] [--expires-in SECONDS]
Stops on SIGTERM.
"""
import argparse
import datetime
import json
import secrets
import threading
import time

import loopback  # spec/support/loopback.py, beside this file

CREDS_PATH = "/latest/meta-data/iam/security-credentials/"

STATE = {
    "mode": "normal",
    "expires_in": 3600,
    "role": "test-role",
    "tokens": set(),
    "counts": {"token": 0, "role": 0, "creds": 0, "other": 0},
    "issued": 0,
}
LOCK = threading.Lock()


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(loopback.Handler):
    content_type = "text/plain"

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def count(self, kind):
        with LOCK:
            STATE["counts"][kind] += 1

    def hang(self):
        time.sleep(30)

    def do_PUT(self):
        self.read_body()
        if self.path != "/latest/api/token":
            self.count("other")
            return self.send(404, "not found")
        self.count("token")
        mode = STATE["mode"]
        if mode == "hang":
            return self.hang()
        if mode == "error500":
            return self.send(500, "internal error")
        if mode == "token_forbidden":
            return self.send(403, "forbidden")
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.send(400, "missing ttl")
        token = "tok-" + secrets.token_hex(16)
        with LOCK:
            STATE["tokens"].add(token)
        self.send(200, token)

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                body = json.dumps({"counts": STATE["counts"], "mode": STATE["mode"],
                                   "issued": STATE["issued"]})
            return self.send(200, body, "application/json")
        if not self.path.startswith(CREDS_PATH):
            self.count("other")
            return self.send(404, "not found")
        rest = self.path[len(CREDS_PATH):]
        kind = "creds" if rest else "role"
        self.count(kind)
        mode = STATE["mode"]
        if mode == "hang" or (mode == "hang_creds" and kind == "creds"):
            return self.hang()
        if mode == "error500":
            return self.send(500, "internal error")
        if self.headers.get("X-aws-ec2-metadata-token") not in STATE["tokens"]:
            return self.send(401, "unauthorized")
        if kind == "role":
            if mode == "no_role":
                return self.send(404, "not found")
            return self.send(200, STATE["role"])
        if rest != STATE["role"]:
            return self.send(404, "not found")
        if mode == "garbage":
            return self.send(200, "<html>this is not json", "text/html")
        with LOCK:
            STATE["issued"] += 1
            n = STATE["issued"]
        now = time.time()
        body = {
            "Code": "AssumeRoleUnauthorizedAccess" if mode == "failure_code" else "Success",
            "LastUpdated": iso(now),
            "Type": "AWS-HMAC",
            "AccessKeyId": "ASIAIMDS%08d" % n,
            "SecretAccessKey": "imds-secret-%d-%s" % (n, secrets.token_hex(12)),
            "Token": "imds-token-%d-%s" % (n, secrets.token_hex(24)),
            "Expiration": iso(now + STATE["expires_in"]),
        }
        self.send(200, json.dumps(body), "application/json")

    def do_POST(self):
        body = self.read_body()
        if self.path != "/_control":
            return self.send(404, "not found")
        ctl = json.loads(body or b"{}")
        with LOCK:
            for key in ("mode", "expires_in", "role"):
                if key in ctl:
                    STATE[key] = ctl[key]
            if ctl.get("reset"):
                for k in STATE["counts"]:
                    STATE["counts"][k] = 0
        self.send(200, "{}", "application/json")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--mode", default="normal")
    ap.add_argument("--expires-in", type=int, default=3600)
    args = ap.parse_args()
    STATE["mode"] = args.mode
    STATE["expires_in"] = args.expires_in
    loopback.serve(Handler, args.port, args.port_file)


if __name__ == "__main__":
    main()
