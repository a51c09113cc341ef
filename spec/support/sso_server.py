#!/usr/bin/python3
"""Local IAM Identity Center portal (GetRoleCredentials) for the specs.

Serves on loopback only: GET /federation/credentials?account_id=A&role_name=R
with the header x-amz-sso_bearer_token. When the token is the one set with
--token (or the control API) and account and role are the ones set with
--account/--role, it answers
{"roleCredentials": {"accessKeyId", "secretAccessKey", "sessionToken",
 "expiration" (epoch milliseconds)}}; a wrong token gets 401
UnauthorizedException, an unknown account or role 403 ForbiddenException,
as the real portal answers.

It also plays SSO OIDC's CreateToken for refreshes: POST /token with JSON
{"grantType": "refresh_token", "clientId", "clientSecret", "refreshToken"}; when
those match --client-id/--client-secret and the current refresh token, it answers
{"accessToken": <new>, "expiresIn": N, "refreshToken": <new>, "tokenType": "Bearer"}
and from then on accepts only the new access token (and the new refresh token);
otherwise 400 {"error": "invalid_grant"}.

Control (not part of the protocol):
  POST /_control  JSON {"mode": ..., "token": ..., "expires_in": N, "reset": true,
                        "fixed": {"accessKeyId": ..., ...} or null}
                  (fixed: answer these role credentials instead of new ones)
  GET  /_stats    JSON {"count": N, "last_query": {...}, "last_token_ok": bool, "issued": N,
                        "refreshes": N, "token": <current access token>,
                        "refresh_token": <current refresh token>}
  (control may also set "refresh_token" and "mode": "refresh_fail" refuses every refresh)
Modes: normal, error500 (500 InternalServerException), error500once (one 500, then
normal), garbage (200 with a body that is not JSON).

Usage: sso_server.py --port 0 --port-file FILE --token T --account A --role R
                     [--client-id C --client-secret S --refresh-token R]
Stops on SIGTERM.
"""
import argparse
import json
import secrets
import threading
import time
from urllib.parse import parse_qs, urlsplit

import loopback  # spec/support/loopback.py, beside this file

STATE = {"mode": "normal", "token": None, "fixed": None, "refreshes": 0,
         "client_id": None, "client_secret": None, "refresh_token": None, "account": None, "role": None, "expires_in": 3600,
         "count": 0, "issued": 0, "last_query": None, "last_token_ok": None}
LOCK = threading.Lock()


class Handler(loopback.Handler):
    content_type = "application/json"

    def send(self, status, body, ctype=None, error_type=None):
        headers = [("x-amzn-ErrorType", error_type)] if error_type else []
        loopback.Handler.send(self, status, body, ctype, headers)

    def error(self, status, code, message):
        self.send(status, json.dumps({"message": message}), error_type=code + ":http://internal/")

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/_stats":
            with LOCK:
                body = json.dumps({k: STATE[k] for k in ("count", "issued", "last_query",
                                                          "last_token_ok", "mode", "refreshes",
                                                          "token", "refresh_token")})
            return self.send(200, body)
        if url.path != "/federation/credentials":
            return self.error(404, "NotFoundException", "no such path")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with LOCK:
            STATE["count"] += 1
            STATE["last_query"] = query
            token_ok = self.headers.get("x-amz-sso_bearer_token") == STATE["token"]
            STATE["last_token_ok"] = token_ok
            mode = STATE["mode"]
            if mode == "error500once":
                STATE["mode"] = "normal"
        if mode in ("error500", "error500once"):
            return self.error(500, "InternalServerException", "broken")
        if not token_ok:
            return self.error(401, "UnauthorizedException", "Session token not found or invalid")
        if query.get("account_id") != STATE["account"] or query.get("role_name") != STATE["role"]:
            return self.error(403, "ForbiddenException", "No access")
        if mode == "garbage":
            return self.send(200, "<<<not json>>>", "text/plain")
        with LOCK:
            STATE["issued"] += 1
            n = STATE["issued"]
        body = {"roleCredentials": dict(STATE["fixed"] or {
            "accessKeyId": "ASIASSO%09d" % n,
            "secretAccessKey": "sso-secret-%d-%s" % (n, secrets.token_hex(12)),
            "sessionToken": "sso-session-token-%d-%s" % (n, secrets.token_hex(24)),
        })}
        body["roleCredentials"]["expiration"] = int((time.time() + STATE["expires_in"]) * 1000)
        self.send(200, json.dumps(body))

    def create_token(self, body):
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        with LOCK:
            ok = (STATE["mode"] != "refresh_fail" and req.get("grantType") == "refresh_token"
                  and req.get("clientId") == STATE["client_id"]
                  and req.get("clientSecret") == STATE["client_secret"]
                  and req.get("refreshToken") == STATE["refresh_token"])
            if ok:
                STATE["refreshes"] += 1
                STATE["token"] = "sso-access-token-refreshed-%d-%s" % (STATE["refreshes"],
                                                                        secrets.token_hex(8))
                STATE["refresh_token"] = "sso-refresh-token-%d-%s" % (STATE["refreshes"],
                                                                      secrets.token_hex(8))
                answer = {"accessToken": STATE["token"], "expiresIn": 3600,
                          "refreshToken": STATE["refresh_token"], "tokenType": "Bearer"}
        if not ok:
            return self.send(400, json.dumps({"error": "invalid_grant",
                                              "error_description": "refresh refused"}))
        return self.send(200, json.dumps(answer))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/token":
            return self.create_token(body)
        if self.path != "/_control":
            return self.error(404, "NotFoundException", "no such path")
        ctl = json.loads(body or b"{}")
        with LOCK:
            for key in ("mode", "token", "expires_in", "fixed", "refresh_token"):
                if key in ctl:
                    STATE[key] = ctl[key]
            if ctl.get("reset"):
                STATE.update(count=0, last_query=None, last_token_ok=None, refreshes=0)
        self.send(200, "{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--account", required=True)
    ap.add_argument("--role", required=True)
    ap.add_argument("--client-id")
    ap.add_argument("--client-secret")
    ap.add_argument("--refresh-token")
    args = ap.parse_args()
    STATE.update(token=args.token, account=args.account, role=args.role,
                 client_id=args.client_id, client_secret=args.client_secret,
                 refresh_token=args.refresh_token)
    loopback.serve(Handler, args.port, args.port_file)


if __name__ == "__main__":
    main()
