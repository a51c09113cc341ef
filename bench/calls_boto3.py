#!/usr/bin/python3
"""calls_boto3.py - create_backup calls per second and client CPU per call, boto3.

Benchmark program (bench/, not part of the library). Run with Debian's Python
(/usr/bin/python3, which has python3-boto3). One client('fsx',
endpoint_url=ENDPOINT) with explicit credentials calls create_backup in a
loop against bench/fixed_server, as ours does in bench/calls_lua.lua.

Usage: calls_boto3.py ENDPOINT [SECONDS]   (default $BENCH_SECONDS or 1)
Output, one "name value" per line:
    boto3.reuse.calls_per_s   calls per wall-clock second
    boto3.reuse.cpu_us        client CPU microseconds per call
                              (time.process_time: user + system)
"""

import os
import sys
import time

import boto3

TAGS = [{"Key": "Name", "Value": "nightly"}, {"Key": "Owner", "Value": "ops"}]


def main():
    endpoint = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else float(
        os.environ.get("BENCH_SECONDS") or 1)
    client = boto3.session.Session().client(
        "fsx", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    def call():
        out = client.create_backup(FileSystemId="fs-0123456789abcdef0", Tags=TAGS)
        if out["Backup"]["BackupId"] != "backup-0a1b2c3d4e5f60718":
            raise SystemExit("calls_boto3: unexpected answer")

    for _ in range(50):  # warm-up: models loaded, connection open
        call()
    n = 0
    w0, c0 = time.monotonic(), time.process_time()
    while True:
        for _ in range(20):
            call()
        n += 20
        w = time.monotonic() - w0
        if w >= seconds:
            break
    cpu = time.process_time() - c0
    print("boto3.reuse.calls_per_s %.1f" % (n / w))
    print("boto3.reuse.cpu_us %.2f" % (cpu / n * 1e6))


if __name__ == "__main__":
    main()
