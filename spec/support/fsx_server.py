#!/usr/bin/python3
"""Local Amazon FSx-compatible server for the lua-fsx test suites and demo.

Layer: test support (spec/support/). Nothing in lua/ or src/ depends on it.

It speaks the FSx JSON 1.1 protocol the way AWS does (POST with
X-Amz-Target: AWSSimbaAPIService_v20180301.<Operation>, application/x-amz-json-1.1
bodies, {"__type", "message"} errors) and verifies every SigV4 signature with
botocore's own SigV4Auth, an implementation independent of the one under test.
Requests under /_fsx/ form an unsigned JSON control API (state, request log,
fault injection, clock and lifecycle settings); spec/support/README.md
documents it.

Run with Debian's Python (it has botocore):
    /usr/bin/python3 spec/support/fsx_server.py --port 0 --port-file FILE

Only the standard library and botocore are used.
"""

import argparse
import base64
import calendar
import copy
import datetime
import email.utils
import hmac
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import unicodedata
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.compat
import botocore.credentials

TARGET_PREFIX = "AWSSimbaAPIService_v20180301"
JSON_CT = "application/x-amz-json-1.1"
SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
DEFAULT_SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fsx_seed.json")
MAX_BODY = 10 * 1024 * 1024
MAX_LOG = 100000  # request log entries kept (the oldest go first)
SEED_EPOCH = 1672531200.0  # 2023-01-01T00:00:00Z, creation time of seeded resources

# Operations this server implements; every other model operation is unknown here.
OPERATIONS = (
    "CreateBackup", "DescribeBackups", "DescribeFileSystems", "DescribeVolumes",
    "DeleteBackup", "ListTagsForResource", "TagResource", "UntagResource",
    "CopyBackup", "CreateFileSystemFromBackup", "CreateVolumeFromBackup",
)

FAULT_KINDS = (
    "throttle", "error500", "html503", "reset_before", "reset_after",
    "delay_after", "truncated", "malformed_json", "wrong_content_type",
)
# faults that answer before the operation runs; the others run it first
PRE_FAULTS = ("throttle", "error500", "html503", "reset_before")

HEADERS_OF_INTEREST = (
    "amz-sdk-invocation-id", "amz-sdk-request", "user-agent", "content-type",
    "x-amz-target", "x-amz-date", "content-length", "connection", "expect",
    "x-amz-content-sha256",
)

DEFAULT_CONFIG = {
    "backup_seconds": 2.0,    # CREATING/COPYING -> AVAILABLE
    "restore_seconds": 2.0,   # CREATING -> AVAILABLE/CREATED for restored resources
    "download_seconds": 2.0,  # DOWNLOAD_DATA_FROM_BACKUP of a volume restored on second-generation ONTAP
    "limit": 10000,           # TOTAL_USER_INITIATED_BACKUPS
    "copy_limit": 5,          # TOTAL_IN_PROGRESS_COPY_BACKUPS
    "delay": 0.0,             # seconds slept before every API response
    "clock_skew": 0.0,        # seconds added to the server clock
    "page_size": 100,         # the service's internal maximum page size
    "max_skew_seconds": 300,  # allowed distance between X-Amz-Date and the clock
    # listings that misbehave (0 = off): see spec/support/README.md, "Paging modes"
    "page_overlap": 0,        # each page after the first repeats the last N items of the one before
    "page_repeat": 0,         # every item of a page is listed twice in it
    "endless_pages": 0,       # every page carries a fresh NextToken, forever (empty pages after the end)
}


class ApiError(Exception):
    """An FSx error answer: code (the __type), message, status and the error
    shape's extra members (Parameter, Limit, ResourceARN, ...)."""

    def __init__(self, code, message, status=400, **extra):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra

    def body(self):
        doc = {"__type": self.code, "message": self.message}
        doc.update(self.extra)
        return doc


class ControlError(Exception):
    """A bad control API request (answered with {"error": ...})."""

    def __init__(self, message, status=400):
        Exception.__init__(self, message)
        self.status = status


def jdump(doc):
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def drop_nulls(doc):
    """doc without null members: cjson decodes JSON null as a truthy value,
    so the control API leaves absent fields out instead."""
    if isinstance(doc, dict):
        return {k: drop_nulls(v) for k, v in doc.items() if v is not None}
    if isinstance(doc, list):
        return [drop_nulls(v) for v in doc]
    return doc


def hex17():
    return uuid.uuid4().hex[:17]


def utf16_len(s):
    """Length as AWS (Java) counts it: UTF-16 code units."""
    return len(s.encode("utf-16-le")) // 2


def parse_time(value, default=None):
    """Epoch seconds from a number or an ISO 8601 string (Z or offset)."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise ControlError("bad time value: %r" % (value,))
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            dt = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise ControlError("bad time value: %r" % (value,))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=datetime.timezone.utc)
        return dt.timestamp()
    raise ControlError("bad time value: %r" % (value,))


def deep_merge(base, extra):
    """Returns base updated recursively with extra (dicts merged, rest replaced)."""
    out = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def amz_date(epoch):
    return time.strftime(AMZ_DATE_FORMAT, time.gmtime(epoch))


# ---------------------------------------------------------------------------
# Input validation from botocore's FSx model (what AWS's front end checks)
# ---------------------------------------------------------------------------

class Model:
    """The FSx service model and a validator of request documents against it.

    Constraint violations give ValidationException with Coral's message shape
    ("1 validation error detected: Value 'x' at 'fileSystemId' failed to
    satisfy constraint: ..."); values of the wrong JSON type give
    SerializationException. Unknown members are ignored, as AWS does."""

    def __init__(self):
        # the model vendored in the repository (model/README.md), not Debian's
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                            "model", "fsx", "2018-03-01", "service-2.json")
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.shapes = self.doc["shapes"]
        self.operations = self.doc["operations"]
        self._patterns = {}

    def _matcher(self, pattern):
        found = self._patterns.get(pattern)
        if found is not None:
            return found
        if "\\p{" in pattern:
            found = self._unicode_class_matcher(pattern)
        else:
            rx = re.compile(pattern)
            found = lambda s: rx.fullmatch(s) is not None  # noqa: E731
        self._patterns[pattern] = found
        return found

    @staticmethod
    def _unicode_class_matcher(pattern):
        """Python's re has no \\p{..}: handles the model's one such form,
        ^([<class with \\p{L} \\p{Z} \\p{N} and literals>]*)$, by Unicode category."""
        m = re.fullmatch(r"\^\(\[(.*)\]\*\)\$", pattern)
        if not m:
            raise ValueError("unsupported pattern " + pattern)
        body = m.group(1)
        cats = set(re.findall(r"\\p\{(\w)\}", body))
        rest = re.sub(r"\\p\{\w\}", "", body)
        literals = set(re.sub(r"\\(.)", r"\1", rest))

        def match(s):
            for ch in s:
                if ch in literals or unicodedata.category(ch)[0] in cats:
                    continue
                return False
            return True
        return match

    @staticmethod
    def _camel(name):
        return name[:1].lower() + name[1:]

    @staticmethod
    def _show(value):
        if isinstance(value, list):
            return "[" + ", ".join(Model._show(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join("%s=%s" % (k, Model._show(v)) for k, v in value.items()) + "}"
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def validate(self, operation, params):
        shape_name = self.operations[operation]["input"]["shape"]
        errors = []
        self._check(shape_name, params, "", errors)
        if errors:
            head = "1 validation error detected: " if len(errors) == 1 else \
                "%d validation errors detected: " % len(errors)
            raise ApiError("ValidationException", head + "; ".join(errors))

    def _fail(self, errors, value, path, constraint):
        shown = "'%s'" % self._show(value) if value is not None else "null"
        errors.append("Value %s at '%s' failed to satisfy constraint: %s" % (shown, path, constraint))

    def _serialization(self, path, expected):
        raise ApiError("SerializationException",
                       "Unable to parse the value at '%s' as %s" % (path or "$", expected))

    def _check(self, shape_name, value, path, errors):
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            if not isinstance(value, dict):
                self._serialization(path, "a structure")
            for req in shape.get("required", []):
                if value.get(req) is None:
                    sub = (path + "." if path else "") + self._camel(req)
                    self._fail(errors, None, sub, "Member must not be null")
            for key, member_value in value.items():
                member = shape["members"].get(key)
                if member is None or member_value is None:
                    continue
                sub = (path + "." if path else "") + self._camel(key)
                self._check(member["shape"], member_value, sub, errors)
            return
        if kind == "list":
            if not isinstance(value, list):
                self._serialization(path, "a list")
            self._length(shape, value, len(value), path, errors)
            for i, item in enumerate(value):
                if item is None:
                    continue
                self._check(shape["member"]["shape"], item, "%s.%d.member" % (path, i + 1), errors)
            return
        if kind == "map":
            if not isinstance(value, dict):
                self._serialization(path, "a map")
            for k, v in value.items():
                self._check(shape["key"]["shape"], k, path + ".key", errors)
                self._check(shape["value"]["shape"], v, path + ".value", errors)
            return
        if kind == "string":
            if not isinstance(value, str):
                self._serialization(path, "a string")
            if "enum" in shape and value not in shape["enum"]:
                self._fail(errors, value, path, "Member must satisfy enum value set: [%s]"
                           % ", ".join(shape["enum"]))
                return
            self._length(shape, value, utf16_len(value), path, errors)
            if "pattern" in shape and not self._matcher(shape["pattern"])(value):
                self._fail(errors, value, path, "Member must satisfy regular expression pattern: "
                           + shape["pattern"])
            return
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                self._serialization(path, "an integer")
            if "min" in shape and value < shape["min"]:
                self._fail(errors, value, path, "Member must have value greater than or equal to %d"
                           % shape["min"])
            if "max" in shape and value > shape["max"]:
                self._fail(errors, value, path, "Member must have value less than or equal to %d"
                           % shape["max"])
            return
        if kind in ("double", "float", "timestamp"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._serialization(path, "a number")
            return
        if kind == "boolean":
            if not isinstance(value, bool):
                self._serialization(path, "a boolean")
            return
        if kind == "blob":
            if not isinstance(value, str):
                self._serialization(path, "a blob")
            return

    def _length(self, shape, value, n, path, errors):
        if "min" in shape and n < shape["min"]:
            self._fail(errors, value, path, "Member must have length greater than or equal to %d"
                       % shape["min"])
        if "max" in shape and n > shape["max"]:
            self._fail(errors, value, path, "Member must have length less than or equal to %d"
                       % shape["max"])


# ---------------------------------------------------------------------------
# Signature verification with botocore
# ---------------------------------------------------------------------------

class ExactHeadersSigV4(botocore.auth.SigV4Auth):
    """botocore's SigV4Auth, except that it signs exactly the headers the
    client listed in SignedHeaders. Stock botocore never signs User-Agent,
    Expect or X-Amzn-Trace-Id; AWS accepts them when a client signs them."""

    def __init__(self, credentials, service_name, region_name, signed_names):
        botocore.auth.SigV4Auth.__init__(self, credentials, service_name, region_name)
        self._signed_names = set(signed_names)

    def headers_to_sign(self, request):
        header_map = botocore.compat.HTTPHeaders()
        for name, value in request.headers.items():
            if name.lower() in self._signed_names:
                header_map[name.lower()] = value
        return header_map


def wire_text(value):
    """http.server decodes the request line and headers as latin-1: gives back
    the UTF-8 text the client sent, when it is valid UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def parse_authorization(header):
    """Splits 'AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..'.
    Raises IncompleteSignatureException when a part is missing."""
    header = header.strip()
    algorithm, _, rest = header.partition(" ")
    if algorithm != SIGV4_ALGORITHM:
        raise ApiError("IncompleteSignatureException",
                       "Unsupported AWS 'algorithm': '%s'" % algorithm[:40])
    parts = {}
    for item in rest.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts[key] = value
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not parts.get(k)]
    if missing:
        raise ApiError("IncompleteSignatureException", " ".join(
            "Authorization header requires '%s' parameter." % k for k in missing))
    scope = parts["Credential"].split("/")
    if len(scope) != 5:
        raise ApiError("IncompleteSignatureException",
                       "Credential should be scoped to a valid region, service and terminator: "
                       "'AKID/YYYYMMDD/region/service/aws4_request'.")
    return {
        "access_key": scope[0], "date": scope[1], "region": scope[2],
        "service": scope[3], "terminator": scope[4],
        "signed_headers": parts["SignedHeaders"], "signature": parts["Signature"],
    }


# ---------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------

class Fault:
    """One injected fault: kind, trigger (rate, nth or always), operation."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ControlError("a fault must be an object")
        self.kind = spec.get("kind")
        if self.kind not in FAULT_KINDS:
            raise ControlError("unknown fault kind %r (one of %s)" % (self.kind, ", ".join(FAULT_KINDS)))
        self.operation = spec.get("operation")
        self.rate = spec.get("rate")
        nth = spec.get("nth")
        if isinstance(nth, int) and not isinstance(nth, bool):
            nth = [nth]
        if nth is not None and (not isinstance(nth, list) or
                                not all(isinstance(n, int) and n > 0 for n in nth)):
            raise ControlError("fault nth must be a positive integer or a list of them")
        self.nth = set(nth) if nth is not None else None
        if self.rate is not None and (isinstance(self.rate, bool) or
                                      not isinstance(self.rate, (int, float)) or
                                      not 0 <= self.rate <= 1):
            raise ControlError("fault rate must be a number in [0, 1]")
        self.seconds = float(spec.get("seconds", 1.0))
        self.times = spec.get("times")
        self.matched = 0
        self.fired = 0

    def describe(self):
        return {
            "kind": self.kind, "operation": self.operation, "rate": self.rate,
            "nth": sorted(self.nth) if self.nth is not None else None,
            "seconds": self.seconds, "times": self.times,
            "matched": self.matched, "fired": self.fired,
        }


class Store:
    """Everything the server knows, guarded by one lock."""

    def __init__(self, seed_path, region, backup_seconds, extra_regions=()):
        self.lock = threading.RLock()
        self.model = Model()
        self.seed_path = seed_path
        self.region = region
        # every Region this server answers for: the first holds the seeded file
        # systems; backups belong to one Region each (see "Regions" in README.md)
        self.regions = [region] + [r for r in extra_regions if r != region]
        self.request_region = region
        self.startup_config = dict(DEFAULT_CONFIG)
        if backup_seconds is not None:
            self.startup_config["backup_seconds"] = backup_seconds
            self.startup_config["restore_seconds"] = backup_seconds
        self.next_connection = 0
        self.reset()

    # -- clock ---------------------------------------------------------------

    def now(self):
        return time.time() + self.config["clock_skew"]

    # -- reset and seeding ---------------------------------------------------

    def reset(self):
        with self.lock:
            self.config = dict(self.startup_config)
            self.credentials = {}
            self.account_id = "123456789012"
            self.file_systems = {}   # id -> description (insertion ordered)
            self.volumes = {}
            self.svms = {}           # id -> file system id
            self.backups = {}        # id -> internal record
            self.restores = {}       # file system / volume id -> timing record
            self.downloads = {}      # restored volume id -> DOWNLOAD_DATA_FROM_BACKUP timing record
            self.tokens = {}         # (operation, token) -> (fingerprint, result id)
            self.seq = 0
            self.log = []
            self.counters = {
                "requests_total": 0, "by_operation": {}, "by_status": {},
                "bad_signatures": 0, "faults_fired": 0,
            }
            self.connections_seen = set()
            self.faults = []
            self.rng = random.Random(0)
            if self.seed_path:
                with open(self.seed_path, encoding="utf-8") as f:
                    self.seed(json.load(f), initial=True)

    def next_seq(self):
        self.seq += 1
        return self.seq

    def seed(self, doc, initial=False):
        """Adds what doc holds; returns the ids added."""
        if not isinstance(doc, dict):
            raise ControlError("seed must be an object")
        with self.lock:
            if initial:
                self.account_id = doc.get("account_id", self.account_id)
            for cred in doc.get("credentials", []):
                if not cred.get("access_key_id") or not cred.get("secret_access_key"):
                    raise ControlError("a credential needs access_key_id and secret_access_key")
                self.credentials[cred["access_key_id"]] = {
                    "secret": cred["secret_access_key"], "token": cred.get("session_token")}
            added = {"file_systems": [], "volumes": [], "backups": []}
            for fs in doc.get("file_systems", []):
                desc = self._file_system_description(fs)
                self.file_systems[desc["FileSystemId"]] = desc
                added["file_systems"].append(desc["FileSystemId"])
            for svm in doc.get("storage_virtual_machines", []):
                self.svms[svm["StorageVirtualMachineId"]] = svm["FileSystemId"]
            for vol in doc.get("volumes", []):
                desc = self._volume_description(vol)
                self.volumes[desc["VolumeId"]] = desc
                svm = desc.get("OntapConfiguration", {}).get("StorageVirtualMachineId")
                if svm:
                    self.svms.setdefault(svm, desc["FileSystemId"])
                added["volumes"].append(desc["VolumeId"])
            for b in doc.get("backups", []):
                added["backups"].append(self._seed_backup(b))
            return added

    def _file_system_description(self, fs, creation=None):
        if not isinstance(fs, dict) or not fs.get("FileSystemId"):
            raise ControlError("a file system needs FileSystemId")
        fid = fs["FileSystemId"]
        kind = fs.get("FileSystemType", "WINDOWS")
        if kind not in ("WINDOWS", "LUSTRE", "ONTAP", "OPENZFS"):
            raise ControlError("bad FileSystemType %r" % kind)
        region, acct = self.region, self.account_id
        base = {
            "OwnerId": acct,
            "CreationTime": SEED_EPOCH if creation is None else creation,
            "FileSystemId": fid,
            "FileSystemType": kind,
            "Lifecycle": "AVAILABLE",
            "StorageCapacity": {"WINDOWS": 32, "LUSTRE": 1200, "ONTAP": 1024, "OPENZFS": 64}[kind],
            "StorageType": "SSD",
            "VpcId": "vpc-0a1b2c3d4e5f60718",
            "SubnetIds": ["subnet-0a1b2c3d4e5f60718"],
            "NetworkInterfaceIds": ["eni-0a1b2c3d4e5f60718"],
            "DNSName": "%s.fsx.%s.amazonaws.com" % (fid, region),
            "KmsKeyId": "arn:aws:kms:%s:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % (region, acct),
            "ResourceARN": "arn:aws:fsx:%s:%s:file-system/%s" % (region, acct, fid),
            "Tags": [],
        }
        if kind == "WINDOWS":
            base["WindowsConfiguration"] = {
                "DeploymentType": "SINGLE_AZ_2", "ThroughputCapacity": 32,
                "PreferredSubnetId": "subnet-0a1b2c3d4e5f60718",
                "MaintenanceOperationsInProgress": [],
                "WeeklyMaintenanceStartTime": "1:05:00", "DailyAutomaticBackupStartTime": "05:00",
                "AutomaticBackupRetentionDays": 7, "CopyTagsToBackups": False, "Aliases": [],
            }
        elif kind == "LUSTRE":
            base["FileSystemTypeVersion"] = "2.12"
            base["LustreConfiguration"] = {
                "WeeklyMaintenanceStartTime": "2:03:00", "DeploymentType": "PERSISTENT_1",
                "PerUnitStorageThroughput": 200, "MountName": "abcdefgh",
                "DailyAutomaticBackupStartTime": "03:00", "AutomaticBackupRetentionDays": 0,
                "CopyTagsToBackups": False, "DataCompressionType": "NONE",
            }
        elif kind == "ONTAP":
            base["OntapConfiguration"] = {
                "AutomaticBackupRetentionDays": 7, "DailyAutomaticBackupStartTime": "04:00",
                "DeploymentType": "MULTI_AZ_1", "EndpointIpAddressRange": "198.19.255.0/24",
                "PreferredSubnetId": "subnet-0a1b2c3d4e5f60718", "ThroughputCapacity": 128,
                "WeeklyMaintenanceStartTime": "3:04:00",
            }
        else:
            base["OpenZFSConfiguration"] = {
                "AutomaticBackupRetentionDays": 7, "CopyTagsToBackups": False,
                "CopyTagsToVolumes": False, "DailyAutomaticBackupStartTime": "02:00",
                "DeploymentType": "SINGLE_AZ_1", "ThroughputCapacity": 64,
                "WeeklyMaintenanceStartTime": "4:02:00", "RootVolumeId": "fsvol-" + fid[3:].ljust(17, "0")[:17],
            }
        given = dict(fs)
        if "CreationTime" in given:
            given["CreationTime"] = parse_time(given["CreationTime"])
        return deep_merge(base, given)

    def _volume_description(self, vol, creation=None):
        if not isinstance(vol, dict) or not vol.get("VolumeId") or not vol.get("FileSystemId"):
            raise ControlError("a volume needs VolumeId and FileSystemId")
        vid, fid = vol["VolumeId"], vol["FileSystemId"]
        fs = self.file_systems.get(fid)
        if fs is None:
            raise ControlError("volume %s: unknown file system %s" % (vid, fid))
        vtype = "OPENZFS" if fs["FileSystemType"] == "OPENZFS" else "ONTAP"
        name = vol.get("Name", "vol1")
        base = {
            "CreationTime": SEED_EPOCH if creation is None else creation,
            "FileSystemId": fid,
            "Lifecycle": "CREATED" if vtype == "ONTAP" else "AVAILABLE",
            "Name": name,
            "ResourceARN": "arn:aws:fsx:%s:%s:volume/%s/%s" % (self.region, self.account_id, fid, vid),
            "Tags": [],
            "VolumeId": vid,
            "VolumeType": vtype,
        }
        if vtype == "ONTAP":
            base["OntapConfiguration"] = {
                "FlexCacheEndpointType": "NONE", "JunctionPath": "/" + name,
                "SecurityStyle": "UNIX", "SizeInMegabytes": 1024,
                "StorageEfficiencyEnabled": True,
                "StorageVirtualMachineId": "svm-0123456789abcdef0",
                "StorageVirtualMachineRoot": False,
                "TieringPolicy": {"CoolingPeriod": 31, "Name": "AUTO"},
                "UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, vid)),
                "OntapVolumeType": "RW", "SnapshotPolicy": "default",
                "CopyTagsToBackups": False,
            }
        given = dict(vol)
        if "CreationTime" in given:
            given["CreationTime"] = parse_time(given["CreationTime"])
        return deep_merge(base, given)

    def _seed_backup(self, b):
        if not isinstance(b, dict):
            raise ControlError("a backup must be an object")
        bid = b.get("BackupId") or "backup-" + hex17()
        if not re.fullmatch(r"backup-[0-9a-f]{8,}", bid):
            raise ControlError("bad BackupId %r" % bid)
        volume = None
        if b.get("VolumeId"):
            volume = self.volumes.get(b["VolumeId"])
            if volume is None:
                raise ControlError("backup %s: unknown volume %s" % (bid, b["VolumeId"]))
            fs = self.file_systems[volume["FileSystemId"]]
        else:
            fid = b.get("FileSystemId")
            if not fid:
                raise ControlError("backup %s: needs FileSystemId or VolumeId" % bid)
            fs = self.file_systems.get(fid) or self._file_system_description(
                {"FileSystemId": fid, "FileSystemType": b.get("FileSystemType", "WINDOWS")})
        btype = b.get("Type", "USER_INITIATED")
        if btype not in ("AUTOMATIC", "USER_INITIATED", "AWS_BACKUP"):
            raise ControlError("bad backup Type %r" % btype)
        rec = self._new_backup_record(bid, btype, fs, volume, b.get("Tags", []),
                                      parse_time(b.get("CreationTime"), self.now()))
        if "duration" in b:
            rec["duration"] = float(b["duration"])
        else:
            rec["override"] = b.get("Lifecycle", "AVAILABLE")
            rec["progress"] = b.get("ProgressPercent")
            rec["failure"] = (b.get("FailureDetails") or {}).get("Message")
        if rec.get("override") == "DELETED":
            rec["deleted"] = True
        rec["Region"] = b.get("Region", self.region)
        if rec["Region"] not in self.regions:
            raise ControlError("backup %s: the server does not answer for Region %s (start it with "
                               "--extra-region %s)" % (bid, rec["Region"], rec["Region"]))
        if "StorageType" in b:
            rec["FileSystem"]["StorageType"] = b["StorageType"]
        for key in ("KmsKeyId", "SourceBackupId", "SourceBackupRegion"):
            if key in b:
                rec[key] = b[key]
        self.backups[bid] = rec
        return bid

    # -- backups -------------------------------------------------------------

    def _new_backup_record(self, bid, btype, fs, volume, tags, creation, copy_of=None):
        fs_snapshot = copy.deepcopy(fs)
        fs_snapshot.pop("Tags", None)
        return {
            "BackupId": bid, "Type": btype, "CreationTime": creation,
            "mono": time.monotonic(), "duration": self.config["backup_seconds"],
            "override": None, "progress": None, "failure": None, "deleted": False,
            "Tags": copy.deepcopy(tags), "FileSystem": fs_snapshot,
            "Volume": copy.deepcopy(volume), "KmsKeyId": fs.get("KmsKeyId"),
            "copy": copy_of is not None, "seq": self.next_seq(), "token": None,
            "Region": self.request_region,
        }

    def lifecycle(self, rec):
        """(Lifecycle, ProgressPercent) of a backup record at this moment."""
        if rec["deleted"]:
            return "DELETED", rec["progress"] if rec["progress"] is not None else 100
        if rec["override"]:
            default = 100 if rec["override"] == "AVAILABLE" else 0
            return rec["override"], rec["progress"] if rec["progress"] is not None else default
        elapsed = time.monotonic() - rec["mono"]
        if rec["duration"] <= 0 or elapsed >= rec["duration"]:
            return "AVAILABLE", 100
        pct = int(100 * elapsed / rec["duration"])
        return ("COPYING" if rec["copy"] else "CREATING"), min(pct, 99)

    def backup_description(self, rec):
        state, pct = self.lifecycle(rec)
        fs = rec["FileSystem"]
        desc = {
            "BackupId": rec["BackupId"],
            "Lifecycle": state,
            "Type": rec["Type"],
            "ProgressPercent": pct,
            "CreationTime": round(rec["CreationTime"], 3),
            "ResourceARN": "arn:aws:fsx:%s:%s:backup/%s" % (rec["Region"], self.account_id, rec["BackupId"]),
            "Tags": copy.deepcopy(rec["Tags"]),
            "FileSystem": copy.deepcopy(fs),
            "OwnerId": self.account_id,
            "ResourceType": "VOLUME" if rec["Volume"] else "FILE_SYSTEM",
        }
        if rec.get("KmsKeyId"):
            desc["KmsKeyId"] = rec["KmsKeyId"]
        if rec["Volume"]:
            vol = copy.deepcopy(rec["Volume"])
            vol.pop("Tags", None)
            desc["Volume"] = vol
        if state == "FAILED":
            desc["FailureDetails"] = {"Message": rec["failure"] or "The backup failed."}
        for key in ("SourceBackupId", "SourceBackupRegion"):
            if rec.get(key):
                desc[key] = rec[key]
        return desc

    def live_backup(self, bid, region=None):
        """The backup bid of the request's Region (or region), not deleted."""
        rec = self.backups.get(bid)
        if rec is None or rec["deleted"] or rec["Region"] != (region or self.request_region):
            raise ApiError("BackupNotFound", "Backup %s does not exist." % bid)
        return rec

    # -- restored resources --------------------------------------------------

    def refresh_restores(self):
        """Moves restored file systems and volumes to their final lifecycle,
        and the data download of restored second-generation ONTAP volumes
        towards COMPLETED (FSx's DOWNLOAD_DATA_FROM_BACKUP administrative action:
        the volume is CREATED, read-only, until it completes)."""
        now = time.monotonic()
        for rid, info in list(self.restores.items()):
            if now - info["mono"] >= info["duration"]:
                target = self.file_systems.get(rid) or self.volumes.get(rid)
                if target is not None:
                    target["Lifecycle"] = info["final"]
                    if info.get("download") is not None:
                        self.downloads[rid] = {"mono": info["mono"] + info["duration"],
                                               "duration": info["download"],
                                               "requested": info["requested"]}
                del self.restores[rid]
        for vid, info in list(self.downloads.items()):
            vol = self.volumes.get(vid)
            if vol is None:
                del self.downloads[vid]
                continue
            elapsed = now - info["mono"]
            done = info["duration"] <= 0 or elapsed >= info["duration"]
            vol["AdministrativeActions"] = [{
                "AdministrativeActionType": "DOWNLOAD_DATA_FROM_BACKUP",
                "RequestTime": info["requested"],
                "Status": "COMPLETED" if done else "IN_PROGRESS",
                "ProgressPercent": 100 if done else min(99, int(100 * elapsed / info["duration"])),
            }]
            if done:
                del self.downloads[vid]

    def restoring_from(self, bid):
        return [rid for rid, info in self.restores.items() if info["backup"] == bid]

    # -- idempotency -----------------------------------------------------------

    @staticmethod
    def fingerprint(params):
        rest = {k: v for k, v in params.items() if k != "ClientRequestToken"}
        return json.dumps(rest, sort_keys=True)

    def token_lookup(self, operation, params):
        token = params.get("ClientRequestToken")
        if not token:
            return None
        found = self.tokens.get((operation, token))
        if found is None:
            return None
        if found[0] != self.fingerprint(params):
            raise ApiError("IncompatibleParameterError",
                           "The request's parameters do not match the original request "
                           "with the same ClientRequestToken.", Parameter="ClientRequestToken")
        return found[1]

    def token_store(self, operation, params, result):
        token = params.get("ClientRequestToken")
        if token:
            self.tokens[(operation, token)] = (self.fingerprint(params), result)

    # -- faults ----------------------------------------------------------------

    def pick_fault(self, operation):
        """The first fault that fires for this request, or None. Every fault
        whose operation matches counts the request."""
        chosen = None
        for fault in self.faults:
            if fault.operation and fault.operation != operation:
                continue
            fault.matched += 1
            if fault.nth is not None:
                fires = fault.matched in fault.nth
            elif fault.rate is not None:
                fires = self.rng.random() < fault.rate
            else:
                fires = True
            if fires and fault.times is not None and fault.fired >= fault.times:
                fires = False
            if fires and chosen is None:
                fault.fired += 1
                chosen = fault
        if chosen is not None:
            self.counters["faults_fired"] += 1
        return chosen

    # -- snapshots for the control API ---------------------------------------

    def state(self):
        with self.lock:
            self.refresh_restores()
            backups = []
            for rec in sorted(self.backups.values(), key=lambda r: (r["CreationTime"], r["seq"])):
                desc = self.backup_description(rec)
                desc["Region"] = rec["Region"]  # control view only
                if rec["token"]:
                    desc["ClientRequestToken"] = rec["token"]  # control view only
                backups.append(desc)
            counters = copy.deepcopy(self.counters)
            counters["connections"] = len(self.connections_seen)
            counters["faults_injected"] = counters["faults_fired"]
            return {
                "region": self.region,
                "regions": list(self.regions),
                "account_id": self.account_id,
                "config": dict(self.config),
                "backups": backups,
                "file_systems": copy.deepcopy(list(self.file_systems.values())),
                "volumes": copy.deepcopy(list(self.volumes.values())),
                "faults": [f.describe() for f in self.faults],
                "counters": counters,
            }


# ---------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------

def check_tags(tags, path="tags"):
    """FSx rejects user tags in the reserved aws: namespace."""
    for i, tag in enumerate(tags or []):
        key = tag.get("Key", "")
        if key.lower().startswith("aws:"):
            raise ApiError("ValidationException",
                           "1 validation error detected: Value '%s' at '%s.%d.member.key' failed "
                           "to satisfy constraint: Tag keys starting with 'aws:' are reserved "
                           "for system use" % (key, path, i + 1))


def merge_tags(base, extra):
    """base updated with extra; a key in extra replaces the one in base."""
    out = [dict(t) for t in base]
    index = {t["Key"]: i for i, t in enumerate(out)}
    for tag in extra:
        if tag["Key"] in index:
            out[index[tag["Key"]]]["Value"] = tag["Value"]
        else:
            index[tag["Key"]] = len(out)
            out.append(dict(tag))
    return out


# Regions an account must opt in to: FSx makes no cross-Region copies to or from them.
OPT_IN_REGIONS = frozenset((
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2",
    "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
))


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-iso"):
        return "aws-iso"
    return "aws"


def encode_token(operation, after):
    raw = json.dumps({"op": operation, "after": after}, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode()


def decode_token(operation, token):
    try:
        doc = json.loads(base64.b64decode(token.encode(), validate=True).decode())
        if doc.get("op") != operation:
            raise ValueError
        return doc["after"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ApiError("BadRequest", "The NextToken value is not valid.")


def paginate(store, operation, items, key, params, result_key):
    """items sorted by key(item); returns the result with one page and
    NextToken when more remain. The paging modes of the config make the
    listing repeat items across pages or within one, or never end."""
    conf = store.config
    limit = min(params.get("MaxResults") or conf["page_size"], conf["page_size"])
    endless = None
    if params.get("NextToken"):
        after = decode_token(operation, params["NextToken"])
        if isinstance(after, dict):  # an endless-mode token past the real end
            endless = after["endless"]
            items = []
        else:
            items = [it for it in items if key(it) > (tuple(after) if isinstance(after, list) else after)]
    page = items[:limit]
    out = {result_key: list(page)}
    if conf["page_repeat"]:
        out[result_key] = [it for it in page for _ in (0, 1)]
    if len(items) > limit:
        overlap = int(conf["page_overlap"])
        # the next page starts `overlap` items before this one's end (always moving on)
        last = key(page[-1 - overlap] if 0 < overlap < len(page) else page[-1])
        out["NextToken"] = encode_token(operation, list(last) if isinstance(last, tuple) else last)
    elif conf["endless_pages"]:
        n = (endless or 0) + 1
        out["NextToken"] = encode_token(operation, {"endless": n})
    return out


class Operations:
    """The FSx operations; each method gets the validated params and returns
    the response document or raises ApiError. Called with the store locked."""

    def __init__(self, store):
        self.s = store

    # CreateBackup ------------------------------------------------------------

    def CreateBackup(self, p):
        s = self.s
        if bool(p.get("FileSystemId")) == bool(p.get("VolumeId")):
            raise ApiError("BadRequest", "You must specify exactly one of FileSystemId or VolumeId.")
        check_tags(p.get("Tags"))
        prior = s.token_lookup("CreateBackup", p)
        if prior is not None:
            return {"Backup": s.backup_description(s.backups[prior])}
        volume = None
        if p.get("VolumeId"):
            volume = s.volumes.get(p["VolumeId"])
            if volume is None:
                raise ApiError("VolumeNotFound", "Volume %s does not exist." % p["VolumeId"])
            fs = s.file_systems[volume["FileSystemId"]]
            if volume["Lifecycle"] not in ("CREATED", "AVAILABLE"):
                raise ApiError("BadRequest", "Volume %s is not available." % volume["VolumeId"])
            config = volume.get("OntapConfiguration") or volume.get("OpenZFSConfiguration") or {}
            source_tags = volume["Tags"]
        else:
            fs = s.file_systems.get(p["FileSystemId"])
            if fs is None:
                raise ApiError("FileSystemNotFound", "File system %s does not exist." % p["FileSystemId"])
            if fs["FileSystemType"] == "ONTAP":
                raise ApiError("UnsupportedOperation",
                               "Backups of FSx for NetApp ONTAP are taken per volume: specify VolumeId.")
            lustre = fs.get("LustreConfiguration") or {}
            if fs["FileSystemType"] == "LUSTRE" and (
                    not lustre.get("DeploymentType", "").startswith("PERSISTENT")
                    or lustre.get("DataRepositoryConfiguration")):
                raise ApiError("UnsupportedOperation",
                               "Backups are supported only for persistent Lustre file systems "
                               "that are not linked to a data repository.")
            config = (fs.get("WindowsConfiguration") or fs.get("LustreConfiguration")
                      or fs.get("OpenZFSConfiguration") or {})
            source_tags = fs["Tags"]
        if fs["Lifecycle"] != "AVAILABLE":
            raise ApiError("BadRequest", "File system %s is not available (%s)."
                           % (fs["FileSystemId"], fs["Lifecycle"]))
        vid = volume["VolumeId"] if volume else None
        user_backups = 0
        for rec in s.backups.values():
            if rec["deleted"] or rec["Type"] != "USER_INITIATED":
                continue
            user_backups += 1
            same = rec["FileSystem"]["FileSystemId"] == fs["FileSystemId"] and \
                (rec["Volume"] or {}).get("VolumeId") == vid
            if same and not rec["copy"] and s.lifecycle(rec)[0] == "CREATING":
                raise ApiError("BackupInProgress",
                               "Another backup of %s is already under way (%s). Wait for it to "
                               "complete before you start a new one." % (vid or fs["FileSystemId"], rec["BackupId"]))
        if user_backups >= s.config["limit"]:
            raise ApiError("ServiceLimitExceeded",
                           "You have reached the limit of %d user-initiated backups." % s.config["limit"],
                           Limit="TOTAL_USER_INITIATED_BACKUPS")
        if p.get("Tags"):
            tags = p["Tags"]
        elif config.get("CopyTagsToBackups"):
            tags = source_tags
        else:
            tags = []
        bid = "backup-" + hex17()
        s.backups[bid] = s._new_backup_record(bid, "USER_INITIATED", fs, volume, tags, s.now())
        s.backups[bid]["token"] = p.get("ClientRequestToken")
        s.token_store("CreateBackup", p, bid)
        return {"Backup": s.backup_description(s.backups[bid])}

    # DescribeBackups ---------------------------------------------------------

    def DescribeBackups(self, p):
        s = self.s
        recs = [r for r in s.backups.values() if not r["deleted"] and r["Region"] == s.request_region]
        if p.get("BackupIds"):
            live = {r["BackupId"] for r in recs}
            missing = [b for b in p["BackupIds"] if b not in live]
            if missing:
                raise ApiError("BackupNotFound", "Backup(s) not found: %s" % ", ".join(missing))
            wanted = set(p["BackupIds"])
            recs = [r for r in recs if r["BackupId"] in wanted]
        for flt in p.get("Filters") or []:
            name, values = flt.get("Name"), set(flt.get("Values") or [])
            recs = [r for r in recs if self._backup_field(r, name) in values]
        recs.sort(key=lambda r: (r["CreationTime"], r["seq"]))
        out = paginate(s, "DescribeBackups", recs, lambda r: (r["CreationTime"], r["seq"]), p, "Backups")
        out["Backups"] = [s.backup_description(r) for r in out["Backups"]]
        return out

    @staticmethod
    def _backup_field(rec, name):
        fs = rec["FileSystem"]
        if name == "file-system-id":
            return fs["FileSystemId"]
        if name == "backup-type":
            return rec["Type"]
        if name == "file-system-type":
            return fs["FileSystemType"]
        if name == "volume-id":
            return (rec["Volume"] or {}).get("VolumeId")
        if name == "data-repository-type":
            lustre = fs.get("LustreConfiguration") or {}
            return "S3" if lustre.get("DataRepositoryConfiguration") else "NONE"
        return None  # file-cache-id, file-cache-type: backups have none

    # DescribeFileSystems -----------------------------------------------------

    def DescribeFileSystems(self, p):
        s = self.s
        s.refresh_restores()
        items = list(s.file_systems.values())
        if p.get("FileSystemIds"):
            missing = [f for f in p["FileSystemIds"] if f not in s.file_systems]
            if missing:
                raise ApiError("FileSystemNotFound", "File system(s) not found: %s" % ", ".join(missing))
            wanted = set(p["FileSystemIds"])
            items = [f for f in items if f["FileSystemId"] in wanted]
        order = {fid: i for i, fid in enumerate(s.file_systems)}
        out = paginate(s, "DescribeFileSystems", items, lambda f: order[f["FileSystemId"]], p, "FileSystems")
        out["FileSystems"] = copy.deepcopy(out["FileSystems"])
        return out

    # DescribeVolumes ---------------------------------------------------------

    def DescribeVolumes(self, p):
        s = self.s
        s.refresh_restores()
        items = list(s.volumes.values())
        if p.get("VolumeIds"):
            missing = [v for v in p["VolumeIds"] if v not in s.volumes]
            if missing:
                raise ApiError("VolumeNotFound", "Volume(s) not found: %s" % ", ".join(missing))
            wanted = set(p["VolumeIds"])
            items = [v for v in items if v["VolumeId"] in wanted]
        for flt in p.get("Filters") or []:
            name, values = flt.get("Name"), set(flt.get("Values") or [])
            if name == "file-system-id":
                items = [v for v in items if v["FileSystemId"] in values]
            elif name == "storage-virtual-machine-id":
                items = [v for v in items
                         if (v.get("OntapConfiguration") or {}).get("StorageVirtualMachineId") in values]
        order = {vid: i for i, vid in enumerate(s.volumes)}
        out = paginate(s, "DescribeVolumes", items, lambda v: order[v["VolumeId"]], p, "Volumes")
        out["Volumes"] = copy.deepcopy(out["Volumes"])
        return out

    # DeleteBackup ------------------------------------------------------------

    def DeleteBackup(self, p):
        s = self.s
        prior = s.token_lookup("DeleteBackup", p)
        if prior is not None:
            return {"BackupId": prior, "Lifecycle": "DELETED"}
        rec = s.live_backup(p["BackupId"])
        state = s.lifecycle(rec)[0]
        if rec["Type"] == "AWS_BACKUP":
            raise ApiError("BadRequest", "Backup %s was created by AWS Backup: delete it through "
                           "AWS Backup, not Amazon FSx." % rec["BackupId"])
        if state == "CREATING":
            raise ApiError("BackupInProgress", "Backup %s is still being created." % rec["BackupId"])
        if state == "COPYING":
            raise ApiError("BackupBeingCopied", "Backup %s is being copied." % rec["BackupId"],
                           BackupId=rec["BackupId"])
        for rec2 in s.backups.values():
            if rec2.get("SourceBackupId") == rec["BackupId"] and not rec2["deleted"] \
                    and s.lifecycle(rec2)[0] == "COPYING":
                raise ApiError("BackupBeingCopied", "Backup %s is being copied." % rec["BackupId"],
                               BackupId=rec["BackupId"])
        s.refresh_restores()
        restoring = s.restoring_from(rec["BackupId"])
        if restoring:
            raise ApiError("BackupRestoring", "Backup %s is being restored to %s."
                           % (rec["BackupId"], restoring[0]), FileSystemId=restoring[0])
        rec["deleted"] = True
        s.token_store("DeleteBackup", p, rec["BackupId"])
        return {"BackupId": rec["BackupId"], "Lifecycle": "DELETED"}

    # Tagging -----------------------------------------------------------------

    def _resource(self, arn):
        """The tag list owner for an ARN: a file system, volume or backup."""
        s = self.s
        m = re.fullmatch(r"arn:[^:]+:fsx:([^:]*):(\d{12}):([a-z-]+)/(.+)", arn)
        if not m:
            raise ApiError("NotServiceResourceError", "Resource %s is not an Amazon FSx resource." % arn,
                           ResourceARN=arn)
        region, acct, kind, rest = m.groups()
        target = None
        if region in s.regions and acct == s.account_id:
            if kind == "file-system":
                target = s.file_systems.get(rest)
            elif kind == "volume":
                target = s.volumes.get(rest.rpartition("/")[2])
                if target is not None and target["ResourceARN"] != arn:
                    target = None
            elif kind == "backup":
                rec = s.backups.get(rest)
                target = rec if rec is not None and not rec["deleted"] and rec["Region"] == region else None
            elif kind not in ("storage-virtual-machine", "snapshot", "file-cache", "association", "task"):
                raise ApiError("ResourceDoesNotSupportTagging",
                               "Resource %s does not support tagging." % arn, ResourceARN=arn)
        if target is None:
            raise ApiError("ResourceNotFound", "Resource %s does not exist." % arn, ResourceARN=arn)
        return target

    def ListTagsForResource(self, p):
        target = self._resource(p["ResourceARN"])
        tags = list(enumerate(target["Tags"]))
        out = paginate(self.s, "ListTagsForResource", tags, lambda t: t[0], p, "Tags")
        out["Tags"] = [dict(t[1]) for t in out["Tags"]]
        return out

    def TagResource(self, p):
        check_tags(p["Tags"])
        target = self._resource(p["ResourceARN"])
        merged = merge_tags(target["Tags"], p["Tags"])
        if len(merged) > 50:
            raise ApiError("BadRequest", "A resource can have at most 50 tags (this request "
                           "would give %s %d)." % (p["ResourceARN"], len(merged)))
        target["Tags"] = merged
        return {}

    def UntagResource(self, p):
        target = self._resource(p["ResourceARN"])
        drop = set(p["TagKeys"])
        target["Tags"] = [t for t in target["Tags"] if t["Key"] not in drop]
        return {}

    # CopyBackup --------------------------------------------------------------

    def CopyBackup(self, p):
        s = self.s
        check_tags(p.get("Tags"))
        prior = s.token_lookup("CopyBackup", p)
        if prior is not None:
            return {"Backup": s.backup_description(s.backups[prior])}
        dest_region = s.request_region
        src_region = p.get("SourceRegion") or dest_region
        if not re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", src_region):
            raise ApiError("InvalidRegion", "Region %s is not valid." % src_region)
        if src_region != dest_region:
            if partition_of(src_region) != partition_of(dest_region):
                raise ApiError("InvalidRegion", "Cross-Region copies are supported only within "
                               "one partition: %s and %s are not." % (src_region, dest_region))
            for r in (src_region, dest_region):
                if r in OPT_IN_REGIONS:
                    raise ApiError("UnsupportedOperation", "Cross-Region backup copies are not "
                                   "supported in opt-in Regions (%s)." % r)
        if src_region not in s.regions:
            raise ApiError("BackupNotFound", "Backup %s does not exist in %s."
                           % (p["SourceBackupId"], src_region))
        src = s.live_backup(p["SourceBackupId"], src_region)
        if s.lifecycle(src)[0] != "AVAILABLE":
            raise ApiError("SourceBackupUnavailable", "Backup %s is not AVAILABLE." % src["BackupId"],
                           BackupId=src["BackupId"])
        if src["FileSystem"].get("StorageType") == "INTELLIGENT_TIERING":
            raise ApiError("UnsupportedOperation", "Backups of file systems using the "
                           "Intelligent-Tiering storage class cannot be copied.")
        in_flight = sum(1 for r in s.backups.values()
                        if not r["deleted"] and r["copy"] and r["Region"] == dest_region
                        and s.lifecycle(r)[0] == "COPYING")
        if in_flight >= s.config["copy_limit"]:
            raise ApiError("ServiceLimitExceeded", "Too many backup copies in progress.",
                           Limit="TOTAL_IN_PROGRESS_COPY_BACKUPS")
        tags = merge_tags(src["Tags"] if p.get("CopyTags") else [], p.get("Tags") or [])
        if len(tags) > 50:
            raise ApiError("BadRequest", "The copy would have more than 50 tags.")
        bid = "backup-" + hex17()
        rec = s._new_backup_record(bid, src["Type"] if src["Type"] != "AUTOMATIC" else "USER_INITIATED",
                                   src["FileSystem"], src["Volume"], tags, s.now(), copy_of=src["BackupId"])
        rec["SourceBackupId"] = src["BackupId"]
        rec["SourceBackupRegion"] = src_region
        rec["KmsKeyId"] = p.get("KmsKeyId") or src.get("KmsKeyId")
        rec["token"] = p.get("ClientRequestToken")
        s.backups[bid] = rec
        s.token_store("CopyBackup", p, bid)
        return {"Backup": s.backup_description(rec)}

    # CreateFileSystemFromBackup ----------------------------------------------

    def CreateFileSystemFromBackup(self, p):
        s = self.s
        check_tags(p.get("Tags"))
        prior = s.token_lookup("CreateFileSystemFromBackup", p)
        if prior is not None:
            s.refresh_restores()
            return {"FileSystem": copy.deepcopy(s.file_systems[prior])}
        src = s.live_backup(p["BackupId"])
        if s.lifecycle(src)[0] != "AVAILABLE":
            raise ApiError("BadRequest", "Backup %s is not AVAILABLE." % src["BackupId"])
        if src["Volume"]:
            raise ApiError("BadRequest", "Backup %s is a volume backup: use CreateVolumeFromBackup."
                           % src["BackupId"])
        old = src["FileSystem"]
        kind = old["FileSystemType"]
        need = {"WINDOWS": "WindowsConfiguration", "OPENZFS": "OpenZFSConfiguration"}.get(kind)
        if need and not p.get(need):
            raise ApiError("MissingFileSystemConfiguration",
                           "A %s file system needs %s." % (kind, need))
        fid = "fs-" + hex17()
        new = {k: copy.deepcopy(v) for k, v in old.items()
               if k in ("FileSystemType", "StorageCapacity", "StorageType", "FileSystemTypeVersion",
                        "WindowsConfiguration", "LustreConfiguration", "OpenZFSConfiguration")}
        new["FileSystemId"] = fid
        new["SubnetIds"] = p["SubnetIds"]
        new["Tags"] = p.get("Tags") or []
        for key in ("StorageType", "StorageCapacity", "KmsKeyId", "FileSystemTypeVersion"):
            if key in p:
                new[key] = p[key]
        for key in ("WindowsConfiguration", "LustreConfiguration", "OpenZFSConfiguration"):
            if key in p and key in new:
                conf = {k: v for k, v in p[key].items() if k in self._config_members(key)}
                new[key] = deep_merge(new[key], conf)
        desc = s._file_system_description(new, creation=s.now())
        desc["Lifecycle"] = "CREATING"
        s.file_systems[fid] = desc
        s.restores[fid] = {"mono": time.monotonic(), "duration": s.config["restore_seconds"],
                           "final": "AVAILABLE", "backup": src["BackupId"]}
        s.refresh_restores()
        s.token_store("CreateFileSystemFromBackup", p, fid)
        return {"FileSystem": copy.deepcopy(desc)}

    def _config_members(self, key):
        shape = {"WindowsConfiguration": "WindowsFileSystemConfiguration",
                 "LustreConfiguration": "LustreFileSystemConfiguration",
                 "OpenZFSConfiguration": "OpenZFSFileSystemConfiguration"}[key]
        return self.s.model.shapes[shape]["members"]

    # CreateVolumeFromBackup --------------------------------------------------

    def CreateVolumeFromBackup(self, p):
        s = self.s
        check_tags(p.get("Tags"))
        prior = s.token_lookup("CreateVolumeFromBackup", p)
        if prior is not None:
            s.refresh_restores()
            return {"Volume": copy.deepcopy(s.volumes[prior])}
        src = s.live_backup(p["BackupId"])
        if s.lifecycle(src)[0] != "AVAILABLE":
            raise ApiError("BadRequest", "Backup %s is not AVAILABLE." % src["BackupId"])
        if not src["Volume"]:
            raise ApiError("BadRequest", "Backup %s is not a volume backup." % src["BackupId"])
        conf = p.get("OntapConfiguration")
        if not conf:
            raise ApiError("MissingVolumeConfiguration", "CreateVolumeFromBackup needs OntapConfiguration.")
        svm = conf["StorageVirtualMachineId"]
        if svm not in s.svms:
            raise ApiError("StorageVirtualMachineNotFound", "Storage virtual machine %s does not exist." % svm)
        vid = "fsvol-" + hex17()
        ontap = {k: v for k, v in conf.items() if k in s.model.shapes["OntapVolumeConfiguration"]["members"]}
        ontap.setdefault("JunctionPath", "/" + p["Name"])
        desc = s._volume_description({"VolumeId": vid, "FileSystemId": s.svms[svm], "Name": p["Name"],
                                      "Tags": p.get("Tags") or [], "OntapConfiguration": ontap},
                                     creation=s.now())
        final = desc["Lifecycle"]
        desc["Lifecycle"] = "CREATING"
        s.volumes[vid] = desc
        deployment = (s.file_systems[desc["FileSystemId"]].get("OntapConfiguration") or {}).get("DeploymentType", "")
        s.restores[vid] = {"mono": time.monotonic(), "duration": s.config["restore_seconds"],
                           "final": final, "backup": src["BackupId"], "requested": s.now(),
                           "download": s.config["download_seconds"] if deployment.endswith("_2") else None}
        s.refresh_restores()
        s.token_store("CreateVolumeFromBackup", p, vid)
        return {"Volume": copy.deepcopy(desc)}


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, store, verbose=False):
        self.store = store
        self.ops = Operations(store)
        self.verbose = verbose
        # --host ::1 listens on IPv6 loopback
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        ThreadingHTTPServer.__init__(self, address, Handler)


class Dropped(Exception):
    """The connection was closed on purpose (a reset fault)."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fsx-local/1.0"
    sys_version = ""
    timeout = 300  # an idle keep-alive connection is closed after this

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        with self.server.store.lock:
            self.server.store.next_connection += 1
            self.conn_id = self.server.store.next_connection

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fsx_server: %s\n" % (fmt % args))

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.server.store.now(), usegmt=True)

    # -- plumbing --------------------------------------------------------------

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length > 0 else b""

    def send_raw(self, status, body, ctype, headers=(), declared_length=None, close=False):
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if declared_length is None else declared_length))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log_request(status, len(body))

    def reset_connection(self):
        """Closes the socket with RST (SO_LINGER 0), without answering."""
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.rfile.close()
        finally:
            sock.close()
        raise Dropped()

    def handle_one_request(self):
        try:
            BaseHTTPRequestHandler.handle_one_request(self)
        except Dropped:
            self.close_connection = True
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def route(self):
        path = urlsplit(self.path).path
        if path.startswith("/_fsx/") or path == "/_fsx":
            self.control(path)
        else:
            self.api()

    # -- control API ----------------------------------------------------------

    def control(self, path):
        store = self.server.store
        try:
            body = self.read_body()
            doc = {}
            if body.strip():
                try:
                    doc = json.loads(body.decode("utf-8"))
                except ValueError as e:
                    raise ControlError("body is not JSON: %s" % e)
            query = parse_qs(urlsplit(self.path).query)
            result = self.control_route(store, self.command, path, doc, query)
            self.send_raw(200, jdump(drop_nulls(result)), "application/json")
        except ControlError as e:
            self.send_raw(e.status, jdump({"error": str(e)}), "application/json")
        except ValueError as e:
            self.send_raw(400, jdump({"error": str(e)}), "application/json", close=True)

    def control_route(self, store, method, path, doc, query):
        if not isinstance(doc, dict):
            raise ControlError("body must be a JSON object")
        if method == "GET" and path == "/_fsx/state":
            return store.state()
        if method == "GET" and path == "/_fsx/requests":
            with store.lock:
                since = int((query.get("since") or ["0"])[0])
                op = (query.get("operation") or [None])[0]
                reqs = [r for r in store.log if r["seq"] > since and (op is None or r["operation"] == op)]
                return {"requests": copy.deepcopy(reqs)}
        if method == "GET" and path == "/_fsx/health":
            return {"ok": True}
        if method == "POST" and path == "/_fsx/reset":
            store.reset()
            return {"ok": True}
        if method == "GET" and path == "/_fsx/faults":
            with store.lock:
                return {"faults": [f.describe() for f in store.faults]}
        if method == "POST" and path == "/_fsx/faults":
            faults = doc.get("faults", [])
            if faults == {}:
                faults = []  # an empty Lua table encodes as {}
            if not isinstance(faults, list):
                raise ControlError("faults must be a list")
            parsed = [Fault(f) for f in faults]
            with store.lock:
                store.faults = parsed
                store.rng = random.Random(doc.get("seed", 0))
                return {"faults": [f.describe() for f in parsed]}
        if method == "GET" and path == "/_fsx/config":
            with store.lock:
                return dict(store.config)
        if method == "POST" and path == "/_fsx/config":
            with store.lock:
                for key, value in doc.items():
                    if key not in DEFAULT_CONFIG:
                        raise ControlError("unknown config key %r" % key)
                    if isinstance(value, bool) or not isinstance(value, (int, float)):
                        raise ControlError("config %s must be a number" % key)
                for key, value in doc.items():
                    store.config[key] = value
                return dict(store.config)
        if method == "POST" and path == "/_fsx/seed":
            return store.seed(doc)
        if method == "POST" and path.startswith("/_fsx/backup/"):
            return self.control_backup(store, path[len("/_fsx/backup/"):], doc)
        if method == "POST" and path.startswith("/_fsx/resource/"):
            return self.control_resource(store, path[len("/_fsx/resource/"):], doc)
        raise ControlError("no control route %s %s" % (method, path), status=404)

    @staticmethod
    def control_backup(store, bid, doc):
        with store.lock:
            rec = store.backups.get(bid)
            if rec is None:
                raise ControlError("no backup %s" % bid, status=404)
            if "lifecycle" in doc:
                state = doc["lifecycle"]
                if state is not None and state not in store.model.shapes["BackupLifecycle"]["enum"]:
                    raise ControlError("bad lifecycle %r" % state)
                rec["deleted"] = state == "DELETED"
                rec["override"] = None if state in (None, "DELETED") else state
                if state is None:
                    rec["mono"] = time.monotonic()
            if "message" in doc:
                rec["failure"] = doc["message"]
            if "progress" in doc:
                rec["progress"] = doc["progress"]
            if "duration" in doc:
                rec["duration"] = float(doc["duration"])
            if "tags" in doc:
                rec["Tags"] = doc["tags"]
            if "creation_time" in doc:
                rec["CreationTime"] = parse_time(doc["creation_time"])
            return store.backup_description(rec)

    @staticmethod
    def control_resource(store, rid, doc):
        """Lays doc (API names: Lifecycle, LifecycleTransitionReason,
        FailureDetails, AdministrativeActions, ...) over a file system's or a
        volume's description; a restore or download still running for it stops
        moving it on."""
        with store.lock:
            store.refresh_restores()
            table = store.file_systems if rid in store.file_systems else store.volumes
            if rid not in table:
                raise ControlError("no file system or volume %s" % rid, status=404)
            store.restores.pop(rid, None)
            store.downloads.pop(rid, None)
            table[rid] = deep_merge(table[rid], doc)
            return copy.deepcopy(table[rid])

    # -- FSx API --------------------------------------------------------------

    def api(self):
        store = self.server.store
        rid = str(uuid.uuid4())
        try:
            body = self.read_body()
        except ValueError:
            self.send_raw(413, b"", "text/plain", close=True)
            return
        target = self.headers.get("X-Amz-Target", "")
        prefix, _, operation = target.partition(".")
        entry = {
            "time": time.time(), "method": self.command, "path": self.path,
            "operation": operation or None, "target": target or None,
            "connection_id": self.conn_id, "request_id": rid,
            "headers": {h: self.headers.get(h) for h in HEADERS_OF_INTEREST if self.headers.get(h) is not None},
            "session_token": self.headers.get("X-Amz-Security-Token") is not None,
            "signature_ok": None, "signature_error": None, "access_key": None,
            "client_request_token": None, "params": None, "status": None,
            "error": None, "fault": None,
        }
        try:
            params = json.loads(body.decode("utf-8")) if body.strip() else {}
            if isinstance(params, dict):
                entry["params"] = params
                token = params.get("ClientRequestToken")
                entry["client_request_token"] = token if isinstance(token, str) else None
        except ValueError:
            params = None
        with store.lock:
            entry["seq"] = store.next_seq()
            store.log.append(entry)
            if len(store.log) > MAX_LOG:
                del store.log[:len(store.log) - MAX_LOG]
            store.counters["requests_total"] += 1
            by_op = store.counters["by_operation"]
            by_op[entry["operation"] or "-"] = by_op.get(entry["operation"] or "-", 0) + 1
            store.connections_seen.add(self.conn_id)

        fault = None
        try:
            if self.command != "POST":
                raise ApiError("UnknownOperationException", "Only POST is supported.", status=404)
            self.verify_signature(store, body, entry)
            with store.lock:
                fault = store.pick_fault(entry["operation"])
            if fault is not None:
                entry["fault"] = fault.kind
            if fault is not None and fault.kind in PRE_FAULTS:
                self.pre_fault(store, fault, entry, rid)
                return
            status, doc = 200, self.run_operation(store, prefix, operation, params, body,
                                                  entry.get("region") or store.region)
        except ApiError as err:
            status, doc = err.status, err.body()
            entry["error"] = err.code
        payload = jdump(doc)
        headers = [("x-amzn-RequestId", rid)]
        if status != 200:
            headers.append(("x-amzn-ErrorType", doc["__type"]))
        self.finish_api(store, entry, status, payload, headers, fault)

    def run_operation(self, store, prefix, operation, params, body, region):
        if prefix != TARGET_PREFIX or not operation:
            raise ApiError("UnknownOperationException",
                           "The X-Amz-Target %r names no operation of this service." % self.headers.get("X-Amz-Target", ""))
        if operation not in OPERATIONS:
            if operation in store.model.operations:
                raise ApiError("UnknownOperationException",
                               "Operation %s is not implemented by the local FSx server." % operation)
            raise ApiError("UnknownOperationException", "Operation %s is not recognized." % operation)
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype not in (JSON_CT, "application/x-amz-json-1.0", "application/json"):
            raise ApiError("SerializationException",
                           "Unsupported Content-Type %r: expected %s." % (ctype, JSON_CT))
        if params is None:
            try:
                json.loads(body.decode("utf-8"))
                raise ApiError("SerializationException", "The request body must be a JSON object.")
            except (ValueError, UnicodeDecodeError):
                raise ApiError("SerializationException", "Unable to parse the request body as JSON.")
        if not isinstance(params, dict):
            raise ApiError("SerializationException", "The request body must be a JSON object.")
        with store.lock:
            store.request_region = region
            store.model.validate(operation, params)
            return getattr(self.server.ops, operation)(params)

    def verify_signature(self, store, body, entry):
        """Raises ApiError unless the request carries a valid SigV4 signature."""
        auth = self.headers.get("Authorization")
        if not auth:
            raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token")
        try:
            info = parse_authorization(auth)
            entry["access_key"] = info["access_key"]
            with store.lock:
                cred = store.credentials.get(info["access_key"])
                region, max_skew = store.region, store.config["max_skew_seconds"]
                now = store.now()
            token = self.headers.get("X-Amz-Security-Token")
            if cred is None or token != cred["token"]:
                raise ApiError("UnrecognizedClientException",
                               "The security token included in the request is invalid.")
            date = self.headers.get("X-Amz-Date")
            if not date:
                raise ApiError("IncompleteSignatureException",
                               "Authorization header requires existence of either a 'X-Amz-Date' "
                               "or a 'Date' header.")
            try:
                stamp = calendar.timegm(time.strptime(date, AMZ_DATE_FORMAT))
            except ValueError:
                raise ApiError("IncompleteSignatureException",
                               "Date must be in ISO-8601 'basic format'. Got '%s'." % date[:40])
            if info["terminator"] != "aws4_request":
                raise ApiError("InvalidSignatureException", "Credential should be scoped with a valid "
                               "terminator: 'aws4_request', not '%s'." % info["terminator"], status=403)
            if info["date"] != date[:8]:
                raise ApiError("InvalidSignatureException",
                               "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                               "of date from HTTP: '%s' != '%s', from '%s'."
                               % (info["date"], date[:8], date), status=403)
            if info["region"] not in store.regions:
                raise ApiError("InvalidSignatureException", "Credential should be scoped to a valid "
                               "region, not '%s'. " % info["region"], status=403)
            if info["service"] != "fsx":
                raise ApiError("InvalidSignatureException", "Credential should be scoped to correct "
                               "service: 'fsx'. ", status=403)
            names = info["signed_headers"].split(";")
            if "host" not in names:
                raise ApiError("InvalidSignatureException", "'Host' or ':authority' must be a "
                               "'SignedHeader' in the AWS Authorization.", status=403)
            request = botocore.awsrequest.AWSRequest(
                method=self.command,
                url="http://" + (self.headers.get("Host") or "") + wire_text(self.path),
                data=body)
            wanted = set(names)
            for name, value in self.headers.items():
                if name.lower() in wanted:
                    request.headers[name] = wire_text(value)
            request.context["timestamp"] = date
            signer = ExactHeadersSigV4(
                botocore.credentials.Credentials(info["access_key"], cred["secret"], cred["token"]),
                "fsx", info["region"], names)
            canonical = signer.canonical_request(request)
            string_to_sign = signer.string_to_sign(request, canonical)
            expected = signer.signature(string_to_sign, request)
            if not hmac.compare_digest(expected, info["signature"]):
                raise ApiError(
                    "InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided. "
                    "Check your AWS Secret Access Key and signing method. Consult the service "
                    "documentation for details.\n\nThe Canonical String for this request should have "
                    "been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n" % (canonical, string_to_sign),
                    status=403)
            entry["signature_ok"] = True
            entry["region"] = info["region"]
            if stamp < now - max_skew:
                raise ApiError("InvalidSignatureException",
                               "Signature expired: %s is now earlier than %s (%s - %d min.)"
                               % (date, amz_date(now - max_skew), amz_date(now), max_skew // 60), status=403)
            if stamp > now + max_skew:
                raise ApiError("InvalidSignatureException",
                               "Signature not yet current: %s is still later than %s (%s + %d min.)"
                               % (date, amz_date(now + max_skew), amz_date(now), max_skew // 60), status=403)
        except ApiError as err:
            if entry["signature_ok"] is None and err.code == "InvalidSignatureException":
                entry["signature_ok"] = False
            entry["signature_error"] = err.code
            with store.lock:
                store.counters["bad_signatures"] += 1
            raise

    def pre_fault(self, store, fault, entry, rid):
        """Answers (or drops) a request without running the operation."""
        entry["status"] = {"throttle": 400, "error500": 500, "html503": 503}.get(fault.kind)
        self.count_status(store, entry)
        self.sleep_delay(store)
        if fault.kind == "reset_before":
            self.reset_connection()
        if fault.kind == "html503":
            body = (b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
                    b"<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
                    b"</body>\r\n</html>\r\n")
            self.send_raw(503, body, "text/html", [("x-amzn-RequestId", rid)])
            return
        if fault.kind == "throttle":
            err = ApiError("ThrottlingException", "Rate exceeded")
        else:
            err = ApiError("InternalServerError", "An internal error occurred. Please retry.", status=500)
        entry["error"] = err.code
        self.send_raw(err.status, jdump(err.body()), JSON_CT,
                      [("x-amzn-RequestId", rid), ("x-amzn-ErrorType", err.code)])

    @staticmethod
    def count_status(store, entry):
        with store.lock:
            key = str(entry["status"])
            store.counters["by_status"][key] = store.counters["by_status"].get(key, 0) + 1

    @staticmethod
    def sleep_delay(store):
        delay = store.config["delay"]
        if delay > 0:
            time.sleep(delay)

    def finish_api(self, store, entry, status, payload, headers, fault):
        """Sends the answer, altered by a post-processing fault if one fired."""
        kind = fault.kind if fault is not None else None
        if kind in ("malformed_json", "wrong_content_type"):
            status = 200
        entry["status"] = status
        self.count_status(store, entry)
        self.sleep_delay(store)
        if kind == "reset_after":
            self.reset_connection()
        if kind == "delay_after":
            time.sleep(fault.seconds)
        if kind == "truncated":
            sent = payload[:len(payload) // 2]
            self.close_connection = True
            self.send_raw(status, sent, JSON_CT, headers, declared_length=len(payload) + 64)
            self.wfile.flush()
            return
        if kind == "malformed_json":
            self.send_raw(200, payload[:max(1, len(payload) // 2)], JSON_CT, headers[:1])
            return
        if kind == "wrong_content_type":
            self.send_raw(200, b"OK", "text/plain", headers[:1])
            return
        self.send_raw(status, payload, JSON_CT, headers)


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def process_alive(pid):
    """False once pid has exited (a zombie counts as exited)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True


def watch_parent(pid):
    """Stops the server when the test process that started it is gone, so an
    aborted busted run leaves no server behind."""
    while process_alive(pid):
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local FSx-compatible server for lua-fsx tests.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the port here (atomically) once listening")
    ap.add_argument("--seed", default=DEFAULT_SEED, help="seed JSON (default: fsx_seed.json beside this file)")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--extra-region", action="append", default=[],
                    help="another Region to answer for (repeatable): its backups are its own")
    ap.add_argument("--backup-seconds", type=float, default=None)
    ap.add_argument("--print-url", action="store_true", help="print the URL on stdout")
    ap.add_argument("--verbose", action="store_true", help="log every request on stderr")
    ap.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = ap.parse_args(argv)

    store = Store(args.seed, args.region, args.backup_seconds, args.extra_region)
    server = Server((args.host, args.port), store, verbose=args.verbose)
    port = server.server_address[1]

    def on_term(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    if args.port_file:
        write_port_file(args.port_file, port)
    if args.print_url:
        sys.stdout.write("http://%s:%d\n" % (args.host, port))
        sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
