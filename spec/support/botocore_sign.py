#!/usr/bin/python3
"""Reference SigV4 signatures computed by botocore, for comparison with ours.

Layer: test support (spec/support/). Run with Debian's Python:

    /usr/bin/python3 spec/support/botocore_sign.py < requests.json > results.json

stdin: a JSON array of requests
    {"method": "POST", "path": "/", "query": "a=1&b=2",
     "headers": [["Host", "fsx.us-east-1.amazonaws.com"], ["X-Amz-Date", "..."], ...],
     "body": "{}",                 (or "body_hex": "7b7d" for arbitrary bytes)
     "region": "us-east-1", "service": "fsx",
     "access_key_id": "...", "secret_access_key": "...", "session_token": null,
     "amz_date": "20150830T123600Z",
     "payload_hash": null,        (optional hex: used instead of hashing the body)
     "exact_headers": false}      (optional, see below)
stdout: a JSON array, one object per request, in order:
    {"canonical_request", "string_to_sign", "signature", "signed_headers",
     "authorization"}
or {"error": "..."} for a request botocore could not sign.

The request is handed to botocore as given: headers exactly as listed (nothing
added: X-Amz-Date and X-Amz-Security-Token must be in the list if they are to
be signed), request.context["timestamp"] = amz_date, and the stages come from
botocore.auth.SigV4Auth: canonical_request(), string_to_sign(), signature().

What botocore does, so a generator can make requests where it is a correct
reference (url = "http://" + host + path + ("?" + query if query else "")):

* Path: urlsplit(url).path, then remove_dot_segments() ("." segments dropped,
  ".." pops one, and EMPTY SEGMENTS ARE REMOVED, so "//" becomes "/"; a
  trailing "/" is kept; "" becomes "/"), then quote(path, safe="/~"): every
  byte except A-Z a-z 0-9 "-._~/" is percent-encoded as UTF-8 with uppercase
  hex, INCLUDING "%", so an already-encoded path is encoded a second time
  (the AWS rule for services other than S3). Paths must not contain "?" or
  "#" (urlsplit would cut there), nor tab, CR or LF (urlsplit deletes them).
* Query: taken verbatim from the URL and NOT re-encoded: split on "&", each
  pair split at the first "=" (a bare key becomes "key="), pairs sorted by
  (key, value) as Python strings, joined with "&". It is a correct reference
  only for queries that are already canonically encoded (unreserved
  characters raw, everything else %XX with uppercase hex) and have no empty
  pairs ("a&&b" yields a pair with an empty key).
* Headers: names lowercased and sorted; duplicate names joined with ","
  in the order given; values trimmed with " ".join(value.split()), which
  splits on ANY Python whitespace (\\t \\n \\v \\f \\r, \\x1c-\\x1f, \\x85,
  \\xa0 and Unicode spaces), not only the SP/HT of the SigV4 spec, so
  generators should keep values to printable ASCII plus space and tab.
  Stock botocore NEVER signs User-Agent, Expect or X-Amzn-Trace-Id, and
  adds "host" from the URL when no Host header is given (lowercased, default
  port dropped). With "exact_headers": true every listed header is signed
  (User-Agent included) and no host is added, as the test server verifies.
* Payload: sha256 hex of the body (the empty-string hash for no body),
  unless an X-Amz-Content-SHA256 header is listed: then its value is used
  verbatim. "payload_hash" overrides both.
* Credential scope: amz_date[0:8]/region/service/aws4_request; the signing
  key is derived from "AWS4" + secret every time (no cache).
"""

import binascii
import json
import sys

import botocore.auth
import botocore.awsrequest
import botocore.compat
import botocore.credentials


class ExactHeadersSigV4(botocore.auth.SigV4Auth):
    """SigV4Auth signing exactly the request's headers (no blacklist, no
    implicit host)."""

    def headers_to_sign(self, request):
        header_map = botocore.compat.HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


class FixedPayloadSigV4(botocore.auth.SigV4Auth):
    """SigV4Auth with a payload hash given by the caller."""

    payload_hash = None

    def payload(self, request):
        return self.payload_hash


def sign_one(req):
    headers = req.get("headers") or []
    host = req.get("host")
    for name, value in headers:
        if host is None and name.lower() == "host":
            host = value
    if host is None:
        host = "%s.%s.amazonaws.com" % (req.get("service", "fsx"), req.get("region", "us-east-1"))
    url = "http://" + host + (req.get("path") or "")
    if req.get("query"):
        url += "?" + req["query"]
    if req.get("body_hex") is not None:
        body = binascii.unhexlify(req["body_hex"])
    else:
        body = (req.get("body") or "").encode("utf-8")

    request = botocore.awsrequest.AWSRequest(method=req.get("method", "POST"), url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends: repeats are kept
    request.context["timestamp"] = req["amz_date"]

    creds = botocore.credentials.Credentials(
        req["access_key_id"], req["secret_access_key"], req.get("session_token"))
    base = ExactHeadersSigV4 if req.get("exact_headers") else botocore.auth.SigV4Auth
    if req.get("payload_hash"):
        cls = type("PayloadSigV4", (FixedPayloadSigV4, base), {"payload_hash": req["payload_hash"]})
    else:
        cls = base
    signer = cls(creds, req.get("service", "fsx"), req.get("region", "us-east-1"))

    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    signature = signer.signature(string_to_sign, request)
    signed = signer.signed_headers(signer.headers_to_sign(request))
    authorization = "%s Credential=%s, SignedHeaders=%s, Signature=%s" % (
        "AWS4-HMAC-SHA256", signer.scope(request), signed, signature)
    return {
        "canonical_request": canonical,
        "string_to_sign": string_to_sign,
        "signature": signature,
        "signed_headers": signed,
        "authorization": authorization,
    }


def main():
    requests = json.load(sys.stdin)
    if isinstance(requests, dict):
        requests = [requests]
    out = []
    for req in requests:
        try:
            out.append(sign_one(req))
        except Exception as e:  # one bad request must not hide the others
            out.append({"error": "%s: %s" % (type(e).__name__, e)})
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
