#!/usr/bin/python3
"""Local container credentials endpoint (ECS / EKS Pod Identity style) for the specs.

Serves on loopback only: GET <any path> answers the credentials JSON
{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"}.
With --token T (or a control change), the Authorization header must equal T, else 401
with {"code": "AccessDenied", "message": ...}.

Control (not part of the protocol):
  POST /_control  JSON {"mode": ..., "expires_in": N, "token": ..., "delay": S}
  GET  /_stats    JSON {"count": N, "last_path": ..., "last_auth_ok": bool}
Modes: normal, hang (no answer for 30 s), slow (the normal answer after `delay` seconds),
garbage (not JSON), error500, partial (no secret), error_echo (500 whose message repeats the
SecretAccessKey of the same body).

Usage: container_server.py --port 0 --port-file FILE [--token T] [--mode M] [--expires-in S]
       [--delay S]
Stops on SIGTERM.
"""
import argparse
import datetime
import json
import secrets
import threading
import time

import loopback  # spec/support/loopback.py, beside this file

STATE = {"mode": "normal", "expires_in": 3600, "token": None, "count": 0, "delay": 1,
         "last_path": None, "last_auth_ok": None, "issued": 0}
LOCK = threading.Lock()


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(loopback.Handler):
    content_type = "application/json"

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                body = json.dumps({k: STATE[k] for k in ("count", "last_path", "last_auth_ok",
                                                          "mode", "issued")})
            return self.send(200, body)
        with LOCK:
            STATE["count"] += 1
            STATE["last_path"] = self.path
            want = STATE["token"]
            ok = want is None or self.headers.get("Authorization") == want
            STATE["last_auth_ok"] = ok
        mode = STATE["mode"]
        if mode == "hang":
            time.sleep(30)
            return
        if mode == "slow":
            time.sleep(STATE["delay"])
        if mode == "error500":
            return self.send(500, json.dumps({"code": "InternalError", "message": "broken"}))
        if mode == "error_echo":
            secret = "container-echo-secret-%s" % secrets.token_hex(8)
            return self.send(500, json.dumps({"code": "InternalError",
                                              "message": "could not hand out " + secret,
                                              "SecretAccessKey": secret}))
        if not ok:
            return self.send(401, json.dumps({"code": "AccessDenied",
                                              "message": "bad authorization token"}))
        if mode == "garbage":
            return self.send(200, "<<<not json>>>", "text/plain")
        with LOCK:
            STATE["issued"] += 1
            n = STATE["issued"]
        body = {
            "AccessKeyId": "ASIACONT%08d" % n,
            "SecretAccessKey": "container-secret-%d-%s" % (n, secrets.token_hex(12)),
            "Token": "container-token-%d-%s" % (n, secrets.token_hex(24)),
            "Expiration": iso(time.time() + STATE["expires_in"]),
            "RoleArn": "arn:aws:iam::123456789012:role/container-role",
        }
        if mode == "partial":
            del body["SecretAccessKey"]
        self.send(200, json.dumps(body))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path != "/_control":
            return self.send(404, "{}")
        ctl = json.loads(body or b"{}")
        with LOCK:
            for key in ("mode", "expires_in", "token", "delay"):
                if key in ctl:
                    STATE[key] = ctl[key]
            if ctl.get("reset"):
                STATE["count"] = 0
        self.send(200, "{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--token")
    ap.add_argument("--mode", default="normal")
    ap.add_argument("--expires-in", type=int, default=3600)
    ap.add_argument("--delay", type=float, default=1)
    args = ap.parse_args()
    STATE.update(mode=args.mode, expires_in=args.expires_in, token=args.token, delay=args.delay)
    loopback.serve(Handler, args.port, args.port_file)


if __name__ == "__main__":
    main()
