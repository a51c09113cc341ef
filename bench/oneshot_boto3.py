#!/usr/bin/python3
"""oneshot_boto3.py - a one-shot script with boto3: create one backup and exit.

Benchmark program (bench/, not part of the library), the boto3 twin of
bench/oneshot.lua: import boto3, build a client from the environment
(credentials and region from AWS_* variables), create one backup, print its
id. Run with Debian's Python (/usr/bin/python3).

Usage: oneshot_boto3.py ENDPOINT [FILE_SYSTEM_ID]
"""

import sys

import boto3


def main():
    client = boto3.client("fsx", endpoint_url=sys.argv[1])
    out = client.create_backup(
        FileSystemId=sys.argv[2] if len(sys.argv) > 2 else "fs-0123456789abcdef0",
        Tags=[{"Key": "Name", "Value": "nightly"}])
    print(out["Backup"]["BackupId"])


if __name__ == "__main__":
    main()
