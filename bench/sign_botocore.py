#!/usr/bin/python3
"""sign_botocore.py - botocore's SigV4Auth.add_auth on the typical CreateBackup request.

Benchmark program (bench/, not part of the library). Run with Debian's Python
(/usr/bin/python3, which has python3-botocore). Signs the request of
bench/bench.h (same strings) the way botocore signs every API call: one
AWSRequest, add_auth called again and again (it drops the previous
Authorization and X-Amz-Date first, as on a retry). botocore derives the
signing key on every call; it has no cache. The clock is pinned to the
request's X-Amz-Date so the signature can be compared with ours.

Output, one "name value" per line:
    botocore.sign <signatures per CPU second>
    signature <hex>
Usage: sign_botocore.py [seconds]
"""

import datetime
import os
import sys
import time
import types

import botocore.auth
import botocore.awsrequest
import botocore.credentials

BODY = (b'{"FileSystemId":"fs-0123456789abcdef0","ClientRequestToken":'
        b'"5b9c3e0a-6f0e-4a57-9d1c-2f4f7d1f0c11","Tags":[{"Key":"Name","Value":'
        b'"nightly"},{"Key":"Owner","Value":"ops"}]}')
FIXED = datetime.datetime(2024, 1, 15, 12, 0, 0)


class _PinnedDatetime(datetime.datetime):
    """datetime whose utcnow() is the benchmark's fixed X-Amz-Date."""

    @classmethod
    def utcnow(cls):
        return FIXED


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else float(
        os.environ.get("BENCH_SECONDS") or 0.4)
    # only botocore.auth sees the pinned clock
    botocore.auth.datetime = types.SimpleNamespace(datetime=_PinnedDatetime)
    creds = botocore.credentials.Credentials(
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    signer = botocore.auth.SigV4Auth(creds, "fsx", "us-east-1")
    req = botocore.awsrequest.AWSRequest(
        method="POST", url="https://fsx.us-east-1.amazonaws.com/", data=BODY,
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AWSSimbaAPIService_v20180301.CreateBackup"})
    n = 0
    t0 = time.process_time()
    while True:
        for _ in range(200):
            signer.add_auth(req)
        n += 200
        t = time.process_time() - t0
        if t >= seconds:
            break
    print("botocore.sign %.1f" % (n / t))
    print("signature " + req.headers["Authorization"].rsplit("Signature=", 1)[1])


if __name__ == "__main__":
    main()
