"""Reference endpoint resolutions from botocore's rule-set interpreter.

Reads a JSON array of {"service": "fsx"|"sts", "params": {...}} on stdin and
prints a JSON array of {"url", "properties", "headers"} or {"error": message}.
The rule sets and partitions are the repository's vendored model/ files: only
botocore's interpreter (botocore.endpoint_provider) is used, never its data.
"""
import json
import os
import sys

from botocore.endpoint_provider import EndpointProvider

MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "model")
RULESETS = {
    "fsx": "fsx/2018-03-01/endpoint-rule-set-1.json",
    "sts": "sts/2011-06-15/endpoint-rule-set-1.json",
}


def load(path):
    with open(os.path.join(MODEL, path)) as f:
        return json.load(f)


def main():
    providers = {}
    out = []
    for case in json.load(sys.stdin):
        service = case["service"]
        if service not in providers:
            # the provider mutates partition outputs (adds "name"): one copy each
            providers[service] = EndpointProvider(load(RULESETS[service]), load("partitions.json"))
        try:
            ep = providers[service].resolve_endpoint(**case["params"])
            out.append({"url": ep.url, "properties": ep.properties or {},
                        "headers": ep.headers or {}})
        except Exception as e:  # botocore's EndpointResolutionError and kin
            out.append({"error": str(getattr(e, "kwargs", {}).get("msg", e))})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
