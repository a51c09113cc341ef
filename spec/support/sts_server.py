#!/usr/bin/python3
"""Local AWS STS (Query protocol) for the credential specs.

Serves on loopback only: POST / with an application/x-www-form-urlencoded body.
  Action=AssumeRole                 must be signed with SigV4 (service "sts") by a known key;
                                    the signature is recomputed with botocore's SigV4Auth over
                                    the headers listed in SignedHeaders, the body and X-Amz-Date.
  Action=AssumeRoleWithWebIdentity  unsigned; WebIdentityToken must equal --web-token.
Answers are the real XML shapes in the namespace https://sts.amazonaws.com/doc/2011-06-15/,
errors are <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
Credentials issued by AssumeRole become known keys themselves (role chaining).

Control (not part of STS):
  POST /_control  JSON {"mode": ..., "expires_in": N, "reset": true, "accept_unknown_keys": bool}
                  (accept_unknown_keys: a well-formed signature by a key this server never issued,
                  e.g. one from the IMDS or container server, is accepted without recomputing it)
  GET  /_stats    JSON {"counts": {action: n}, "last": {...params, signed_by, region...},
                        "errors": [codes sent]}
Modes: normal, hang (no answer for 30 s), garbage (200, not XML), error500 (500
InternalFailure, XML), html500 (500, not XML), throttle (400 Throttling), deny (403
AccessDenied), no_creds (200 XML without Credentials), fail_once (first request 500, then
normal).

Usage: sts_server.py --port 0 --port-file FILE --key AKID:SECRET[:TOKEN] ... [--web-token T]
       [--region R] [--expires-in S] [--mode M]
Stops on SIGTERM.
"""
import argparse
import datetime
import hmac
import json
import secrets
import threading
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import loopback  # spec/support/loopback.py, beside this file

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
STATE = {"mode": "normal", "expires_in": 3600, "keys": {}, "web_token": None, "region": None,
         "counts": {}, "last": {}, "errors": [], "issued": 0, "fail_once_done": False,
         "accept_unknown_keys": False}
LOCK = threading.Lock()


def iso(ts):
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def error_xml(code, message, kind="Sender"):
    return ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n'
            '    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n'
            '</ErrorResponse>\n' % (NS, kind, code, message, secrets.token_hex(8)))


def verify_signature(handler, body):
    """Returns (access key id, region, None) or (None, None, (status, code, message))."""
    auth = handler.headers.get("Authorization")
    if not auth or not auth.startswith("AWS4-HMAC-SHA256 "):
        return None, None, (403, "MissingAuthenticationToken", "Request is missing Authentication Token")
    fields = {}
    for part in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = part.strip().partition("=")
        fields[k] = v
    try:
        akid, date, region, service, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        return None, None, (400, "IncompleteSignature", "Authorization header is malformed")
    amz_date = handler.headers.get("X-Amz-Date")
    if not amz_date or amz_date[:8] != date or term != "aws4_request" or service != "sts":
        return None, None, (400, "IncompleteSignature", "bad credential scope or date")
    if "host" not in signed or "x-amz-date" not in signed:
        return None, None, (400, "IncompleteSignature", "host and x-amz-date must be signed")
    if STATE["region"] and region != STATE["region"]:
        return None, None, (400, "SignatureDoesNotMatch", "unexpected signing region " + region)
    with LOCK:
        key = STATE["keys"].get(akid)
    if key is None:
        if STATE["accept_unknown_keys"]:
            return akid, region, None
        return None, None, (403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    secret, token = key
    if token is not None and handler.headers.get("X-Amz-Security-Token") != token:
        return None, None, (403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    headers = {}
    for name in signed:
        value = handler.headers.get(name)
        if value is None:
            return None, None, (400, "IncompleteSignature", "signed header %s is missing" % name)
        headers[name] = value
    url = "http://%s%s" % (handler.headers.get("Host"), handler.path)
    req = AWSRequest(method=handler.command, url=url, data=body, headers=headers)
    req.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(akid, secret, token), "sts", region)
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    if not hmac.compare_digest(expected, signature):
        return None, None, (403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature you provided.")
    return akid, region, None


class Handler(loopback.Handler):
    content_type = "text/xml"

    def send(self, status, body, ctype=None):
        loopback.Handler.send(self, status, body, ctype,
                              [("x-amzn-RequestId", secrets.token_hex(8))])

    def fail(self, status, code, message, kind="Sender"):
        with LOCK:
            STATE["errors"].append(code)
        self.send(status, error_xml(code, message, kind))

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                body = json.dumps({k: STATE[k] for k in ("counts", "last", "errors", "issued", "mode")})
            return self.send(200, body, "application/json")
        self.send(404, "")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/_control":
            ctl = json.loads(body or b"{}")
            with LOCK:
                for key in ("mode", "expires_in", "accept_unknown_keys"):
                    if key in ctl:
                        STATE[key] = ctl[key]
                if ctl.get("reset"):
                    STATE["counts"] = {}
                    STATE["errors"] = []
                    STATE["last"] = {}
                    STATE["fail_once_done"] = False
            return self.send(200, "{}", "application/json")
        params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = params.get("Action", "")
        with LOCK:
            STATE["counts"][action] = STATE["counts"].get(action, 0) + 1
            STATE["counts"]["total"] = STATE["counts"].get("total", 0) + 1
        mode = STATE["mode"]
        if mode == "hang":
            time.sleep(30)
            return
        if mode == "fail_once" and not STATE["fail_once_done"]:
            STATE["fail_once_done"] = True
            return self.fail(500, "InternalFailure", "try again", "Receiver")
        if mode == "error500":
            return self.fail(500, "InternalFailure", "internal failure", "Receiver")
        if mode == "html500":
            return self.send(500, "<html><body>502 Bad Gateway", "text/html")
        if mode == "throttle":
            return self.fail(400, "Throttling", "Rate exceeded")
        if mode == "deny":
            return self.fail(403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole")
        if params.get("Version") != "2011-06-15":
            return self.fail(400, "InvalidAction", "bad Version")
        last = {k: v for k, v in params.items() if k != "WebIdentityToken"}
        last["user_agent"] = self.headers.get("User-Agent")
        if action == "AssumeRole":
            akid, region, err = verify_signature(self, body)
            if err:
                return self.fail(*err)
            last["signed_by"] = akid
            last["region"] = region
            last["verified"] = akid in STATE["keys"]
        elif action == "AssumeRoleWithWebIdentity":
            if self.headers.get("Authorization"):
                return self.fail(400, "InvalidParameterValue", "web identity calls are unsigned")
            ok = params.get("WebIdentityToken") == STATE["web_token"]
            last["token_ok"] = ok
            if not ok:
                with LOCK:
                    STATE["last"] = last
                return self.fail(400, "InvalidIdentityToken", "Couldn't verify the token")
        else:
            return self.fail(400, "InvalidAction", "unknown action")
        for required in ("RoleArn", "RoleSessionName"):
            if not params.get(required):
                return self.fail(400, "ValidationError", "%s is required" % required)
        with LOCK:
            STATE["last"] = last
            STATE["issued"] += 1
            n = STATE["issued"]
        if mode == "garbage":
            return self.send(200, "this is { not xml", "text/plain")
        duration = int(params.get("DurationSeconds") or STATE["expires_in"])
        expires = time.time() + min(duration, STATE["expires_in"])
        akid = "ASIASTS%09d" % n
        secret = "sts-secret-%d-%s" % (n, secrets.token_hex(12))
        token = "sts-token-%d-%s" % (n, secrets.token_hex(24))
        with LOCK:
            STATE["keys"][akid] = (secret, token)
        creds = ("    <Credentials>\n      <AccessKeyId>%s</AccessKeyId>\n"
                 "      <SecretAccessKey>%s</SecretAccessKey>\n      <SessionToken>%s</SessionToken>\n"
                 "      <Expiration>%s</Expiration>\n    </Credentials>\n" % (akid, secret, token, iso(expires)))
        if mode == "no_creds":
            creds = ""
        role_arn = params["RoleArn"]
        user = ("    <AssumedRoleUser>\n      <Arn>%s/%s</Arn>\n      <AssumedRoleId>AROA%s:%s</AssumedRoleId>\n"
                "    </AssumedRoleUser>\n" % (role_arn.replace(":role/", ":assumed-role/"),
                                              params["RoleSessionName"], n, params["RoleSessionName"]))
        if action == "AssumeRole":
            result = creds + user + "    <PackedPolicySize>6</PackedPolicySize>\n"
        else:
            result = ("    <SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>\n"
                      "    <Audience>sts.amazonaws.com</Audience>\n" + user + creds +
                      "    <Provider>oidc.example.com</Provider>\n")
        xml = ('<%sResponse xmlns="%s">\n  <%sResult>\n%s  </%sResult>\n  <ResponseMetadata>\n'
               '    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n</%sResponse>\n'
               % (action, NS, action, result, action, secrets.token_hex(8), action))
        self.send(200, xml)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--key", action="append", default=[], help="AKID:SECRET[:TOKEN]")
    ap.add_argument("--web-token")
    ap.add_argument("--region")
    ap.add_argument("--mode", default="normal")
    ap.add_argument("--expires-in", type=int, default=3600)
    args = ap.parse_args()
    for spec in args.key:
        parts = spec.split(":", 2)
        STATE["keys"][parts[0]] = (parts[1], parts[2] if len(parts) > 2 else None)
    STATE.update(mode=args.mode, expires_in=args.expires_in, web_token=args.web_token,
                 region=args.region)
    loopback.serve(Handler, args.port, args.port_file)


if __name__ == "__main__":
    main()
