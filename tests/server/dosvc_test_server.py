#!/usr/bin/env python3
"""dosvc_test_server: the loopback HTTP(S) server the transfer tests download from.

One process serves many tests at once: every fault is chosen per request by query
parameters, so tests never reconfigure the server and never disturb each other. It listens
on 127.0.0.1 only, on ports the OS picks, and it never connects anywhere but loopback.

    python3 dosvc_test_server.py [--https] [--root DIR] [--exit-on-stdin-eof] ...

On start it prints one JSON line and flushes stdout:
    {"http_port": N, "https_port": M|null, "https_unsent_ca_port": U|null,
     "https_other_name_port": O|null, "https_expired_port": E|null,
     "https_drip_handshake_port": D|null, "pid": P, "root": DIR, "cert": PEM|null,
     "refused_port": R}
It stops on SIGTERM/SIGINT, on stdin EOF (with --exit-on-stdin-eof), on GET
/_control/shutdown, and by itself after --max-seconds. README.md next to this file has the
fault catalogue and the control protocol.

Python 3.11 standard library only; HTTPS needs the `openssl` command to make its certificates.
"""

import argparse
import base64
import collections
import email.utils
import functools
import hashlib
import ipaddress
import itertools
import json
import os
import re
import selectors
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

CHUNK = 1024 * 1024        # body write size: big writes keep Python off the benchmark's path
BLOCK = 64 * 1024          # period of generated content (see GeneratedContent)
MAX_GEN_SIZE = 64 << 30    # /gen sizes above 4 GiB are useful; beyond 64 GiB only a typo
LOG_CAPACITY = 200
MAX_COUNTER_KEYS = 10000
MAX_WAIT_SECONDS = 600.0   # longest stall, hang or drip pause a request may ask for
MAX_EXTRA_BYTES = 16 << 20
GEN_LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"
DEFAULT_REALM = "dosvc-test"
# Headers that describe one hop; a proxy must not pass them on (RFC 9110 §7.6.1).
HOP_BY_HOP = {"connection", "proxy-connection", "keep-alive", "proxy-authorization",
              "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"}


class BadRequest(Exception):
    """A request whose parameters make no sense: answered 400 with the reason, so a test
    author sees the typo instead of a silently ignored fault."""


# ---------------------------------------------------------------------------------------
# Content: what a path serves, readable at any offset without holding the body in memory.

@functools.lru_cache(maxsize=16)
def _generator_tile(seed):
    """The 64 KiB block B of a seed, repeated so that any CHUNK-long window of the periodic
    body is one slice; and B's first 8 bytes as an integer, for the per-block stamp."""
    seed_bytes = seed.encode("utf-8")
    block = b"".join(hashlib.sha256(seed_bytes + i.to_bytes(4, "big")).digest()
                     for i in range(BLOCK // 32))
    return block * (CHUNK // BLOCK + 1), int.from_bytes(block[:8], "big")


class GeneratedContent:
    """Deterministic pseudo-random bytes of any size, computed on the fly (no disk, no RAM).

    B = SHA256(seed || be32(0)) || SHA256(seed || be32(1)) || ... || SHA256(seed || be32(2047))
    is 64 KiB (seed = the UTF-8 `seed` parameter, default "0"). Byte k of the body is
    B[k mod 65536], except that the first 8 bytes of 64 KiB block n = k / 65536 are
    B[0..7] XOR be64(n). The stamp matters: a purely periodic body would hide a client that
    writes a chunk at an offset off by a multiple of 64 KiB.
    """

    def __init__(self, size, seed):
        self.size = size
        self._tile, self._head = _generator_tile(seed)
        seed_id = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]
        self.etag = f'"gen-{size}-{seed_id}"'
        self.last_modified = GEN_LAST_MODIFIED

    def read(self, offset, count):
        """Bytes [offset, offset + count) of the body; count <= CHUNK."""
        count = min(count, CHUNK, self.size - offset)
        inner = offset % BLOCK
        data = bytearray(memoryview(self._tile)[inner:inner + count])
        for block in range(offset // BLOCK, (offset + count - 1) // BLOCK + 1):
            at = block * BLOCK - offset
            low, high = max(at, 0), min(at + 8, count)
            if low < high:
                stamp = ((self._head ^ block) & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
                data[low:high] = stamp[low - at:high - at]
        return data

    def close(self):
        pass


class FileContent:
    """A file under --root. ETag and Last-Modified follow the file, so a test that rewrites
    the file sees the validators change, as a resuming client should."""

    def __init__(self, path):
        self._fd = os.open(path, os.O_RDONLY)
        st = os.fstat(self._fd)
        self.size = st.st_size
        self.etag = f'"file-{st.st_size:x}-{st.st_mtime_ns:x}"'
        self.last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)

    def read(self, offset, count):
        return os.pread(self._fd, min(count, CHUNK), offset)

    def close(self):
        os.close(self._fd)


GEN_PATH = re.compile(r"^/gen/(?P<size>\d{1,12})(?P<unit>[kKmMgG]?)(?:\.\w+|/[\w.\-]+)?$")
UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def open_content(path, params, root):
    """The content a decoded URL path names, or None: /gen/<size>[k|m|g][.ext|/name] is
    generated, anything else is a regular file under root (never outside it)."""
    match = GEN_PATH.match(path)
    if match:
        size = int(match["size"]) * UNITS[match["unit"].lower()]
        if size > MAX_GEN_SIZE:
            raise BadRequest(f"/gen size {size} is above the limit {MAX_GEN_SIZE}")
        return GeneratedContent(size, params.get("seed", "0"))
    parts = [p for p in path.split("/") if p]
    if not parts or any(p in (".", "..") or "\0" in p for p in parts):
        return None
    target = root.joinpath(*parts)
    try:
        if target.resolve().is_relative_to(root.resolve()) and target.is_file():
            return FileContent(target)
    except OSError:
        pass
    return None


def content_sha256(content):
    digest = hashlib.sha256()
    for offset in range(0, content.size, CHUNK):
        digest.update(content.read(offset, CHUNK))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------
# Ranges.

UNSATISFIABLE = "unsatisfiable"


def parse_byte_range(value, size):
    """(first, last) for one satisfiable range; UNSATISFIABLE; or None when the header is to
    be ignored (not bytes, malformed, or several ranges: RFC 9110 §14.2 lets a server serve
    the whole body then, which is simpler than multipart/byteranges)."""
    unit, _, spec = value.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = re.fullmatch(r"\s*(\d*)\s*-\s*(\d*)\s*", spec)
    if not match or match[1] == match[2] == "":
        return None
    if match[1] == "":                          # bytes=-n: the last n bytes
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(size - suffix, 0), size - 1
    first = int(match[1])
    if match[2] and int(match[2]) < first:      # bytes=5-2 is invalid, not unsatisfiable
        return None
    if first >= size:
        return UNSATISFIABLE
    return first, min(int(match[2]) if match[2] else size - 1, size - 1)


def if_range_allows(value, content):
    """If-Range: honour the Range only when the validator still names this content."""
    return value is None or value.strip() in (content.etag, content.last_modified)


# ---------------------------------------------------------------------------------------
# The response plan, and the faults that bend it.

@dataclass
class Plan:
    """What the content route will send. Built from the content and the Range header, then
    handed to each fault in turn; a fault either bends the plan or answers instead."""
    content: object
    status: int = 200
    start: int = 0
    length: int = 0
    content_range: str | None = None
    unsatisfiable: bool = False
    accept_ranges: bool = True
    send_length: bool = True       # False: the body is delimited by closing the connection
    chunked: bool = False          # Transfer-Encoding: chunked, one chunk per write (fault=chunked)
    cut_after: int | None = None   # body bytes to send before the ending (reset/truncate)
    ending: str = "keep"           # keep | close | reset
    extra: int = 0                 # bytes sent after the body (fault=long)
    rate: int | None = None        # bytes per second (fault=drip)
    stall_at: int | None = None
    stall_seconds: float = 0.0
    validators: bool = True        # False: no ETag and no Last-Modified (fault=novalidator)
    validator_form: str = "both"   # the content parameter validators=: both | none | weak | weak200
    head_rate: int | None = None   # the head's bytes per second (fault=driphead)
    interim: int | None = None     # interim answers before the head (fault=interim; 0: endless)
    interim_code: int = 100
    late_seconds: float = 0.0      # ending "late": the pause after the body...
    late_on_request: bool = False  # ...or until the next request has come (on=request)...
    late_extra: int = 0            # ...and the bytes then sent before the close...
    late_answer: int | None = None # ...or an answer with this status instead
    endless: str | None = None     # trailer | chunkext: a chunked body whose framing never ends
    endless_rate: int | None = None   # its bytes per second; None: as fast as possible


def status_phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class ErrorPage:
    """A short answer with a small HTML body: status faults, redirects, auth challenges. It
    carries a Content-Length, so the connection stays usable (keep-alive)."""

    def __init__(self, status, headers=None, text=None):
        self.status = status
        self.headers = headers or {}
        self.body = f"<html><body><h1>{status} {status_phrase(status)}</h1>{text or ''}</body></html>\n".encode()

    def send(self, handler):
        handler.send_response(self.status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(self.body)))
        for name, value in self.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(self.body)


class Hang:
    """No answer at all: read the request, wait, close. For receive-timeout tests."""

    def __init__(self, seconds):
        self.seconds = seconds

    def send(self, handler):
        handler.server.state.stop.wait(self.seconds)
        handler.close_connection = True


class CutHead:
    """The head of the planned answer cut off inside a field (`X-Cut: he`), then the end of
    the connection: a head that never ends. Over HTTPS the end is TLS's close_notify, the end
    only the server can send."""

    def __init__(self, plan):
        self.plan = plan

    def send(self, handler):
        plan = self.plan
        phrase = HTTPStatus(plan.status).phrase
        head = (f"HTTP/1.1 {plan.status} {phrase}\r\nContent-Length: {plan.length}\r\n"
                f"ETag: {plan.content.etag}\r\nX-Cut: he")
        handler.record_status(plan.status)
        handler.wfile.write(head.encode("latin-1"))
        handler.wfile.flush()
        if isinstance(handler.connection, ssl.SSLSocket):
            handler.connection.settimeout(0)     # close_notify out; the client's is not awaited
            try:
                handler.connection.unwrap()
            except (ssl.SSLError, OSError):
                pass
        handler.close_connection = True


class RequestContext:
    """One request's parsed target and headers, with checked accessors for parameters."""

    def __init__(self, handler, target):
        parts = urlsplit(target)
        self.handler = handler
        self.method = handler.command
        self.headers = handler.headers
        self.path = unquote(parts.path)
        self.raw_path = parts.path
        self.pairs = parse_qsl(parts.query, keep_blank_values=True)
        self.params = dict(self.pairs)
        self.faults = [f.strip() for f in self.params.get("fault", "").split(",") if f.strip()]
        self.counter_key = self.params.get("key", target)

    def integer(self, name, default, low, high):
        raw = self.params.get(name)
        if raw is None:
            return default
        if not re.fullmatch(r"\d{1,15}", raw) or not low <= int(raw) <= high:
            raise BadRequest(f"{name}={raw!r}: want an integer in [{low}, {high}]")
        return int(raw)

    def seconds(self, name, default):
        raw = self.params.get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= MAX_WAIT_SECONDS:
            raise BadRequest(f"{name}={raw!r}: want seconds in [0, {MAX_WAIT_SECONDS:g}]")
        return value

    def choice(self, name, values):
        """One of values (the first if the parameter is not given)."""
        value = self.params.get(name, values[0])
        if value not in values:
            raise BadRequest(f"{name}={value!r}: want one of {', '.join(values)}")
        return value

    def text(self, name, default=None, forbid=""):
        """A parameter that goes into a header: printable ASCII only, so no test can split a
        response by accident with an encoded CR LF."""
        value = self.params.get(name, default)
        if value is not None and any(not 0x20 <= ord(c) < 0x7F or c in forbid for c in value):
            raise BadRequest(f"{name}: only printable ASCII is allowed here")
        return value

    def self_url(self, scheme=None, **replace):
        """This URL on this server (the other listener if scheme says so), with some query
        parameters replaced: the Location of redirect chains."""
        state = self.handler.server.state
        scheme = scheme or self.handler.server.scheme
        port = state.https_port if scheme == "https" else state.http_port
        if port is None:
            raise BadRequest("scheme=https needs the server started with --https")
        pairs = [(k, str(replace.pop(k)) if k in replace else v) for k, v in self.pairs]
        pairs += [(k, str(v)) for k, v in replace.items()]
        return f"{scheme}://127.0.0.1:{port}{self.raw_path}?{urlencode(pairs)}"


def basic_credentials(value):
    """(user, password) from a Basic credentials header value, or None."""
    scheme, _, token = (value or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def challenge(ctx, status, ask_header, answer_header):
    """401/407 unless the request carries the credentials the query names."""
    user = ctx.text("user", "user")
    password = ctx.text("password", "password")
    if basic_credentials(ctx.headers.get(answer_header)) == (user, password):
        return None
    realm = ctx.text("realm", DEFAULT_REALM, forbid='"\\')
    return ErrorPage(status, {ask_header: f'Basic realm="{realm}"'})


def fault_status(code):
    def answer(ctx, plan):
        headers = {}
        if code == 503 and "retry_after" in ctx.params:
            headers["Retry-After"] = ctx.text("retry_after")
        if code == 416:
            headers["Content-Range"] = f"bytes */{plan.content.size}"
        if code == 401:
            headers["WWW-Authenticate"] = f'Basic realm="{DEFAULT_REALM}"'
        if code == 407:
            headers["Proxy-Authenticate"] = f'Basic realm="{DEFAULT_REALM}"'
        return ErrorPage(code, headers)
    return answer


def fault_reset(ctx, plan):
    plan.cut_after = ctx.integer("after", plan.length // 2, 0, plan.length)
    plan.ending = "reset"


def fault_truncate(ctx, plan):
    plan.cut_after = ctx.integer("after", plan.length // 2, 0, plan.length)
    plan.ending = "close"


def fault_long(ctx, plan):
    plan.extra = ctx.integer("extra", 1024, 1, MAX_EXTRA_BYTES)
    plan.ending = "close"
    mode = ctx.params.get("mode", "length")
    if mode not in ("length", "close"):
        raise BadRequest("fault=long: mode is length or close")
    if mode == "close" and ctx.method == "GET":
        plan.send_length = False


def fault_chunked(ctx, plan):
    plan.chunked = ctx.method == "GET"


def fault_norange(ctx, plan):
    plan.status, plan.start, plan.length = 200, 0, plan.content.size
    plan.content_range, plan.unsatisfiable, plan.accept_ranges = None, False, False


def fault_badrange(ctx, plan):
    if plan.status != 206:
        return
    size, first, last = plan.content.size, plan.start, plan.start + plan.length - 1
    what = ctx.params.get("what", "start")
    if what not in ("start", "total"):
        raise BadRequest("fault=badrange: what is start or total")
    if what == "start" and first < last:       # honest bytes, but not the ones asked for
        plan.start, plan.length = first + 1, plan.length - 1
        plan.content_range = f"bytes {first + 1}-{last}/{size}"
    else:                                      # the right bytes, the wrong resource length
        plan.content_range = f"bytes {first}-{last}/{size + 1}"


def fault_drip(ctx, plan):
    plan.rate = ctx.integer("rate", 1024, 1, 1 << 30)


def fault_stall(ctx, plan):
    plan.stall_at = ctx.integer("after", 0, 0, plan.length)
    plan.stall_seconds = ctx.seconds("seconds", 5.0)


def fault_hang(ctx, plan):
    return Hang(ctx.seconds("seconds", 5.0))


def fault_cuthead(ctx, plan):
    return CutHead(plan)


def fault_driphead(ctx, plan):
    plan.head_rate = ctx.integer("rate", 10, 1, 1 << 20)


def fault_late(ctx, plan):
    plan.ending = "late"
    on = ctx.params.get("on")
    if on not in (None, "request"):
        raise BadRequest("fault=late: on is request")
    if on and "seconds" in ctx.params:
        raise BadRequest("fault=late: seconds or on=request, not both")
    plan.late_on_request = on == "request"
    plan.late_seconds = ctx.seconds("seconds", 0.4)
    plan.late_extra = ctx.integer("extra", 777, 0, MAX_EXTRA_BYTES)
    plan.late_answer = ctx.integer("answer", None, 400, 599)


def fault_interim(ctx, plan):
    plan.interim = ctx.integer("count", 0, 0, 100000)
    plan.interim_code = ctx.integer("code", 100, 100, 199)


def endless_fault(kind):
    def bend(ctx, plan):
        if ctx.method == "GET":
            plan.chunked, plan.endless = True, kind
            plan.endless_rate = ctx.integer("rate", None, 1, 1 << 30)
    return bend


def fault_novalidator(ctx, plan):
    plan.validators = False


def fault_redirect(ctx, plan):
    count = ctx.integer("count", 1, 0, 50)
    if count == 0:
        return None
    code = ctx.integer("code", 302, 301, 308)
    if code not in (301, 302, 303, 307, 308):
        raise BadRequest("fault=redirect: code is 301, 302, 303, 307 or 308")
    scheme = ctx.params.get("scheme")
    if scheme not in (None, "http", "https"):
        raise BadRequest("fault=redirect: scheme is http or https")
    target = ctx.text("to")
    if count == 1 and target:
        location = target
    else:
        location = ctx.self_url(scheme, count=count - 1)
    return ErrorPage(code, {"Location": location})


class NoContent:
    """204 or 304: the status line and no body (and, for 204, no Content-Length: RFC 9110
    forbids it there)."""

    def __init__(self, status):
        self.status = status

    def send(self, handler):
        handler.send_response(self.status)
        handler.end_headers()


def fault_status_code(ctx, plan):
    """Any status, for the ones 400..599 do not cover: 204 and 304 with no body, a 3xx with
    no Location, else a small page."""
    code = ctx.integer("code", None, 201, 599)
    if code is None or code == 206:
        raise BadRequest("fault=status: code is 201..599 but not 206")
    return NoContent(code) if code in (204, 304) else ErrorPage(code)


def fault_unsatisfiable(ctx, plan):
    """416 with bytes */size to any request whose Range the server would honour."""
    if plan.status == 206 or plan.unsatisfiable:
        return ErrorPage(416, {"Content-Range": f"bytes */{plan.content.size}"})
    return None


def fault_auth(ctx, plan):
    return challenge(ctx, 401, "WWW-Authenticate", "Authorization")


def fault_proxy_only(ctx, plan):
    """proxyauth belongs to the proxy hop; the origin that a proxy forwards to ignores it."""


# The fault catalogue: name -> fn(ctx, plan) returning None (plan bent) or an answer.
FAULTS = {
    "reset": fault_reset,
    "truncate": fault_truncate,
    "long": fault_long,
    "chunked": fault_chunked,
    "norange": fault_norange,
    "badrange": fault_badrange,
    "drip": fault_drip,
    "stall": fault_stall,
    "hang": fault_hang,
    "cuthead": fault_cuthead,
    "driphead": fault_driphead,
    "late": fault_late,
    "interim": fault_interim,
    "trailer": endless_fault("trailer"),
    "chunkext": endless_fault("chunkext"),
    "novalidator": fault_novalidator,
    "redirect": fault_redirect,
    "auth": fault_auth,
    "proxyauth": fault_proxy_only,
    "status": fault_status_code,
    "unsatisfiable": fault_unsatisfiable,
    **{str(code): fault_status(code) for code in range(400, 600)},
}
PROXY_FAULTS = {"proxyauth"}


def check_faults(names):
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        known = ", ".join(n for n in FAULTS if not n.isdigit())
        raise BadRequest(f"unknown fault {unknown[0]!r}; known: 400..599, {known}")


# ---------------------------------------------------------------------------------------
# Shared state: the request log and the per-key counters.

class RequestLog:
    """The last LOG_CAPACITY requests, so tests can assert what a client sent (headers,
    ranges, credentials, proxy form). Control requests are not logged."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = collections.deque(maxlen=LOG_CAPACITY)
        self._next_id = 1

    def begin(self, **fields):
        with self._lock:
            entry = {"id": self._next_id, "time": round(time.time(), 3), "unanswered": False,
                     **fields, "status": None, "closed": False}
            self._next_id += 1
            self._entries.append(entry)
            return entry

    def set_status(self, entry, status):
        with self._lock:
            entry["status"] = status

    def set_closed(self, entry):
        with self._lock:
            entry["closed"] = True

    def snapshot(self, contains=None, last=None):
        with self._lock:
            entries = [dict(e) for e in self._entries
                       if contains is None or contains in e["target"]]
        return entries[-last:] if last else entries

    def clear(self):
        with self._lock:
            self._entries.clear()


class Counters:
    """Per-key request counts for `times=K` ("fail the first K requests, then succeed")."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = collections.OrderedDict()

    def hit(self, key):
        with self._lock:
            count = self._counts.pop(key, 0) + 1
            self._counts[key] = count
            while len(self._counts) > MAX_COUNTER_KEYS:
                self._counts.popitem(last=False)
            return count

    def reset(self, key=None):
        with self._lock:
            if key is None:
                self._counts.clear()
            else:
                self._counts.pop(key, None)

    def snapshot(self):
        with self._lock:
            return dict(self._counts)


@dataclass
class ServerState:
    """What every listener and handler thread shares."""
    root: Path
    log: RequestLog
    counters: Counters
    stop: threading.Event
    idle_timeout: float
    proxy_auth: tuple | None
    verbose: bool
    http_port: int | None = None
    https_port: int | None = None
    https_unsent_ca_port: int | None = None
    https_other_name_port: int | None = None
    https_expired_port: int | None = None
    https_drip_handshake_port: int | None = None
    stop_reason: str = ""
    hash_cache: dict = field(default_factory=dict)   # (etag, size) -> sha256 hex
    tunnels: dict = field(default_factory=dict)      # CONNECT's upstream local port -> its log id

    def request_stop(self, reason):
        if not self.stop.is_set():
            self.stop_reason = reason
            self.stop.set()


def faults_active(state, ctx, layer_faults, prefix=""):
    """False when `times=K` is given and this key has already failed K times."""
    if "times" not in ctx.params or not layer_faults:
        return True
    times = ctx.integer("times", 1, 0, 1000)
    return state.counters.hit(prefix + ctx.counter_key) <= times


# ---------------------------------------------------------------------------------------
# Sending bodies.

class BodyStreamer:
    """Writes a planned body: CHUNK-sized writes normally, small paced writes for drip, one
    pause for stall, and a cut for reset/truncate. Every iteration sends at least one byte,
    so the loop ends; a stopping server abandons it."""

    EXTRA = b"dosvc-test-server: bytes beyond the promised length\n"

    def __init__(self, handler, plan):
        self.wfile = handler.wfile
        self.stop = handler.server.state.stop
        self.plan = plan

    def run(self):
        plan = self.plan
        end = plan.length if plan.cut_after is None else min(plan.cut_after, plan.length)
        stall_pending = plan.stall_at is not None
        began = time.monotonic()
        sent = 0
        while True:
            if stall_pending and sent >= plan.stall_at:
                self.stop.wait(plan.stall_seconds)
                stall_pending = False
            if sent >= end:
                break
            if self.stop.is_set():
                raise ConnectionAbortedError("server stopping")
            count = min(CHUNK, end - sent)
            if stall_pending:
                count = min(count, plan.stall_at - sent)
            if plan.rate:
                count = min(count, max(1, plan.rate // 10))
                self.stop.wait(max(0.0, began + sent / plan.rate - time.monotonic()))
            data = plan.content.read(plan.start + sent, count)
            if not data:
                raise ConnectionAbortedError("content shrank while being served")
            sent += len(data)
            if plan.chunked:
                data = b"%x\r\n%s\r\n" % (len(data), data)
            elif sent >= end and plan.extra:
                # The surplus goes in the same write as the body's end, so that a client sees
                # it arrive with the last bytes it was promised.
                data += self.extra_bytes(plan.extra)
                plan.extra = 0
            self.wfile.write(data)
        if plan.chunked and plan.cut_after is None and plan.endless is None:
            self.wfile.write(b"0\r\n\r\n")
        if plan.extra:
            self.wfile.write(self.extra_bytes(plan.extra))
        return sent

    @classmethod
    def extra_bytes(cls, count):
        return (cls.EXTRA * (count // len(cls.EXTRA) + 1))[:count]


def reset_connection(handler):
    """Abort with a TCP RST: SO_LINGER 0, then close before the server's usual FIN. A short
    pause first lets the bytes already written reach the client."""
    time.sleep(0.05)
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.rfile.close()        # the makefile reference would keep the socket open
    handler.connection.close()
    handler.close_connection = True


# ---------------------------------------------------------------------------------------
# Proxy mode: absolute-form requests and CONNECT, to loopback targets only.

def loopback_target(host, port, default_port):
    """(address, port) for a loopback host; anything else raises PermissionError. Names are
    never resolved (only "localhost" is known), so nothing ever leaves the machine."""
    if host is None:
        raise PermissionError("no target host")
    if host.lower() == "localhost":
        address = "127.0.0.1"
    else:
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError:
            raise PermissionError(f"{host} is not a loopback address") from None
        if not ipaddress.ip_address(host).is_loopback:
            raise PermissionError(f"{host} is not a loopback address")
    return address, port or default_port


class ForwardProxy:
    """A small forward proxy for tests of proxy settings and 407.

    Absolute-form GET/HEAD are sent on to the target with `Connection: close`, and the
    target's answer is relayed byte for byte until it closes, so every fault of the target
    (reset, truncate, long body) reaches the client unchanged. CONNECT opens a raw tunnel
    (HTTPS through the proxy)."""

    def __init__(self, handler):
        self.handler = handler
        self.state = handler.server.state

    def challenge(self, ctx):
        """A 407 answer, or None when the request may pass. The target URL asks for one with
        fault=proxyauth (counted per key with a "proxy:" prefix, apart from the origin's
        count); --proxy-auth asks for one on every proxied request, CONNECT included."""
        if ctx is not None and "proxyauth" in ctx.faults:
            if faults_active(self.state, ctx, ["proxyauth"], prefix="proxy:"):
                return challenge(ctx, 407, "Proxy-Authenticate", "Proxy-Authorization")
            return None
        if self.state.proxy_auth:
            got = basic_credentials(self.handler.headers.get("Proxy-Authorization"))
            if got != self.state.proxy_auth:
                return ErrorPage(407, {"Proxy-Authenticate": f'Basic realm="{DEFAULT_REALM}"'})
        return None

    def open_upstream(self, host, port, default_port, ctx=None):
        """A connection to a loopback target, or None after answering 403, 407 or 502."""
        try:
            address = loopback_target(host, port, default_port)
        except (PermissionError, ValueError) as error:
            ErrorPage(403, text=f"<p>{error}</p>").send(self.handler)
            return None
        answer = self.challenge(ctx)
        if answer:
            answer.send(self.handler)
            return None
        try:
            return socket.create_connection(address, timeout=self.state.idle_timeout)
        except OSError as error:
            ErrorPage(502, text=f"<p>{error}</p>").send(self.handler)
            return None

    def forward(self, ctx, url):
        handler = self.handler
        parts = urlsplit(url)
        if parts.scheme != "http":
            ErrorPage(400, text="<p>https targets go through CONNECT</p>").send(handler)
            return
        upstream = self.open_upstream(parts.hostname, parts.port, 80, ctx)
        if upstream is None:
            return
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        lines = [f"{handler.command} {target} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP]
        lines += ["Via: 1.1 dosvc-test-proxy", "Connection: close", "", ""]
        handler.close_connection = True
        with upstream:
            upstream.sendall("\r\n".join(lines).encode("latin-1"))
            self.relay(upstream)

    def relay(self, upstream):
        handler = self.handler
        try:
            while not self.state.stop.is_set():   # ends at the target's EOF or timeout
                data = upstream.recv(CHUNK)
                if not data:
                    break
                if handler.sent_status is None:
                    match = re.match(rb"HTTP/1\.\d (\d{3})", data)
                    handler.record_status(int(match[1]) if match else 0)
                handler.wfile.write(data)
        except ConnectionResetError:
            reset_connection(handler)
        except TimeoutError:
            if handler.sent_status is None:
                ErrorPage(504).send(handler)

    def tunnel(self, authority):
        handler = self.handler
        host, _, port = authority.rpartition(":")
        if not port.isdigit():
            ErrorPage(400, text="<p>CONNECT wants host:port</p>").send(handler)
            return
        upstream = self.open_upstream(host.strip("[]"), int(port), 443)
        if upstream is None:
            return
        # Known before the client can send anything: a request that comes through the
        # tunnel to one of our listeners names this CONNECT in its log entry.
        tunnels, local_port = self.state.tunnels, upstream.getsockname()[1]
        tunnels[local_port] = handler.log_entry["id"]
        handler.send_response(200, "Connection Established")
        handler.end_headers()
        handler.close_connection = True
        try:
            with upstream:
                self.pump(handler.connection, upstream)
        finally:
            tunnels.pop(local_port, None)

    def pump(self, client, upstream):
        """Copy both ways until either side closes or is idle for the idle timeout."""
        peer = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peer:
                selector.register(sock, selectors.EVENT_READ)
            while not self.state.stop.is_set():
                ready = selector.select(self.state.idle_timeout)
                if not ready:
                    return
                for key, _ in ready:
                    try:
                        data = key.fileobj.recv(CHUNK)
                        if not data:
                            return
                        peer[key.fileobj].sendall(data)
                    except OSError:
                        return


# ---------------------------------------------------------------------------------------
# The request handler: routes, then the content route's plan.

class Handler(BaseHTTPRequestHandler):
    """One connection. Routes: absolute-form -> proxy, /_control/ -> control, /hash/ ->
    sha256 of a body, anything else -> content (generated or from --root) with faults."""

    protocol_version = "HTTP/1.1"      # keep-alive, so clients can reuse connections
    server_version = "dosvc-test-server/1"
    disable_nagle_algorithm = True     # headers and body are separate writes
    sent_status = None                 # status line sent for the current request
    log_entry = None                   # its entry in the request log, if logged

    def setup(self):
        self.timeout = self.server.state.idle_timeout
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()   # here, not in the listener's accept loop

    def finish(self):
        """The connection's end, then its last request's log entry says so: a client that
        reads closed: true will find the end on its side (EOF) too."""
        try:
            super().finish()
        finally:
            try:
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if self.log_entry is not None:
                self.server.state.log.set_closed(self.log_entry)

    def log_message(self, format, *args):
        if self.server.state.verbose:
            super().log_message(format, *args)

    def send_response(self, code, message=None):
        self.record_status(code)
        super().send_response(code, message)

    def record_status(self, code):
        """Into the log before the response leaves: a client that has read the whole
        answer and then asks /_control/log must see its status."""
        self.sent_status = code
        if self.log_entry is not None:
            self.server.state.log.set_status(self.log_entry, code)

    def do_GET(self):
        via_proxy = self.path.startswith(("http://", "https://"))
        ctx = RequestContext(self, self.path)
        if via_proxy:
            route = lambda: ForwardProxy(self).forward(ctx, self.path)
        elif ctx.path.startswith("/_control/"):
            route = lambda: self.control(ctx)
        elif ctx.path.startswith("/hash/"):
            route = lambda: self.hash(ctx)
        else:
            route = lambda: self.content(ctx)
        quiet = not via_proxy and ctx.path.startswith(("/_control/", "/hash/"))
        self.logged(route, via_proxy, quiet)

    do_HEAD = do_GET

    def do_CONNECT(self):
        if self.server.scheme != "http":
            route = lambda: ErrorPage(405).send(self)
        else:
            route = lambda: ForwardProxy(self).tunnel(self.path)
        self.logged(route, via_proxy=True)

    def logged(self, route, via_proxy, quiet=False):
        """Run a route with the request in the log, turning BadRequest into a 400."""
        self.sent_status = None
        self.discard_request_body()
        self.log_entry = None if quiet else self.begin_log_entry(
            self.command, self.path, list(self.headers.items()), via_proxy=via_proxy)
        try:
            route()
        except BadRequest as error:
            ErrorPage(400, text=f"<p>{error}</p>").send(self)

    def begin_log_entry(self, method, target, fields, via_proxy=False, unanswered=False):
        """fields: the request's (name, value) pairs in the order they came."""
        state, headers = self.server.state, dict(fields)
        return state.log.begin(
            method=method, target=target, via_proxy=via_proxy, scheme=self.server.scheme,
            client_port=self.client_address[1], tunnel=state.tunnels.get(self.client_address[1]),
            range=headers.get("Range"), headers=headers, fields=[[name, value] for name, value in fields],
            unanswered=unanswered)

    def discard_request_body(self):
        """GET/HEAD rarely carry a body; one left unread would poison keep-alive."""
        length = self.headers.get("Content-Length", "0")
        if length.isdigit() and 0 < int(length) <= CHUNK:
            self.rfile.read(int(length))
        elif length != "0":
            self.close_connection = True

    # -- content -------------------------------------------------------------------------

    def content(self, ctx):
        state = self.server.state
        check_faults(ctx.faults)
        content = open_content(ctx.path, ctx.params, state.root)
        if content is None:
            ErrorPage(404).send(self)
            return
        try:
            plan = Plan(content, length=content.size, validator_form=ctx.choice(
                "validators", ("both", "none", "weak", "weak200")))
            self.apply_range(ctx, plan)
            answer = self.apply_faults(ctx, plan)
            if answer is None and plan.unsatisfiable:
                answer = ErrorPage(416, {"Content-Range": f"bytes */{content.size}"})
            if answer is not None:
                answer.send(self)
            else:
                self.send_plan(plan)
        finally:
            content.close()

    def apply_range(self, ctx, plan):
        value = self.headers.get("Range")
        if_range = ctx.params.get("if_range")
        if if_range not in (None, "ignore"):
            raise BadRequest("if_range is ignore")
        if value is None or (if_range != "ignore"
                             and not if_range_allows(self.headers.get("If-Range"), plan.content)):
            return
        parsed = parse_byte_range(value, plan.content.size)
        if parsed == UNSATISFIABLE:
            plan.unsatisfiable = True
        elif parsed is not None:
            first, last = parsed
            plan.status, plan.start, plan.length = 206, first, last - first + 1
            plan.content_range = f"bytes {first}-{last}/{plan.content.size}"

    def apply_faults(self, ctx, plan):
        """Each fault in the order given bends the plan, or answers instead (first wins)."""
        origin_faults = [f for f in ctx.faults if f not in PROXY_FAULTS]
        if not faults_active(self.server.state, ctx, origin_faults):
            return None
        for name in origin_faults:
            answer = FAULTS[name](ctx, plan)
            if answer is not None:
                return answer
        return None

    def send_plan(self, plan):
        if plan.interim is not None:
            self.send_interim(plan.interim_code, plan.interim)
        self.send_response(plan.status)
        self.send_header("Content-Type", "application/octet-stream")
        if plan.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif plan.send_length:
            self.send_header("Content-Length", str(plan.length))
        else:
            self.send_header("Connection", "close")
        if plan.accept_ranges:
            self.send_header("Accept-Ranges", "bytes")
        if plan.content_range:
            self.send_header("Content-Range", plan.content_range)
        if plan.validators and plan.validator_form != "none":
            weak = plan.validator_form == "weak" or (plan.validator_form == "weak200" and plan.status == 200)
            if plan.validator_form != "weak":
                self.send_header("Last-Modified", plan.content.last_modified)
            self.send_header("ETag", ("W/" if weak else "") + plan.content.etag)
        if plan.head_rate:
            self.drip_head(plan.head_rate)
        else:
            self.end_headers()
        if self.command == "HEAD":
            return
        if plan.endless == "chunkext":
            self.send_endless(b"5;", b"a", plan.endless_rate)
        BodyStreamer(self, plan).run()
        if plan.endless == "trailer":
            self.send_endless(b"0\r\n", b"X-T: a\r\n", plan.endless_rate)
        if plan.ending == "reset":
            reset_connection(self)
        elif plan.ending == "close":
            self.close_connection = True
        elif plan.ending == "late":
            self.end_late(plan)

    def end_late(self, plan):
        """The ending "late": the answer was whole and kept the connection open; what follows
        answers nothing. The bytes and the end leave in one TCP segment (TCP_CORK holds the
        bytes until the FIN joins them), so a client finds both at once, whatever its speed."""
        self.wfile.flush()
        if plan.late_on_request:
            if not self.read_unanswered_request(answered=plan.late_answer is not None):
                self.close_connection = True
                return
        else:
            self.server.state.stop.wait(plan.late_seconds)
        if hasattr(socket, "TCP_CORK"):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        if plan.late_answer:
            self.record_status(plan.late_answer)
            self.wfile.write(f"HTTP/1.1 {plan.late_answer} {status_phrase(plan.late_answer)}\r\n"
                             "Content-Length: 0\r\nConnection: close\r\n\r\n".encode("latin-1"))
        elif plan.late_extra:
            self.wfile.write(BodyStreamer.extra_bytes(plan.late_extra))
        self.close_connection = True

    def read_unanswered_request(self, answered):
        """Waits (until the server stops) for the next request on this connection and reads its
        head, which goes in the log (unanswered unless answered) and becomes the connection's
        last request; False if the connection ended first."""
        state, sock = self.server.state, self.connection
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while not (isinstance(sock, ssl.SSLSocket) and sock.pending()) and not selector.select(0.1):
                if state.stop.is_set():
                    return False
        lines = []
        while len(lines) < 100 and (line := self.rfile.readline(65537)) not in (b"", b"\r\n", b"\n"):
            lines.append(line.decode("latin-1").rstrip("\r\n"))
        request = lines[0].split(" ") if lines else []
        if len(request) != 3:
            return False
        fields = [(name.strip(), value.strip()) for name, value in
                  (line.split(":", 1) for line in lines[1:] if ":" in line)]
        self.log_entry = self.begin_log_entry(request[0], request[1], fields, unanswered=not answered)
        return True

    def send_interim(self, code, count):
        """count interim answers (1xx) before the head; 0: as many as the client takes."""
        line = f"HTTP/1.1 {code} {status_phrase(code)}\r\n\r\n".encode("latin-1")
        self.record_status(code)
        if not count:
            self.send_endless(b"", line, None)
        self.wfile.write(line * count)

    def send_endless(self, first, unit, rate):
        """first, then unit over and over, at rate bytes per second (a byte at a time) or, rate
        None, as fast as the client takes them; it ends only with an error (the client went)
        or with the server's stop."""
        stop = self.server.state.stop
        self.wfile.write(first)
        if rate:
            stream, began = itertools.cycle(unit), time.monotonic()
            for sent in itertools.count():
                if stop.wait(max(0.0, began + sent / rate - time.monotonic())):
                    break
                self.wfile.write(bytes((next(stream),)))
        else:
            batch = unit * (BLOCK // len(unit))
            while not stop.is_set():
                self.wfile.write(batch)
        raise ConnectionAbortedError("server stopping")

    def drip_head(self, rate):
        """end_headers, with the head written a byte at a time at rate bytes per second."""
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        began = time.monotonic()
        for sent in range(len(head)):
            if self.server.state.stop.wait(max(0.0, began + sent / rate - time.monotonic())):
                raise ConnectionAbortedError("server stopping")
            self.wfile.write(head[sent:sent + 1])

    # -- /hash/ and /_control/ -------------------------------------------------------------

    def hash(self, ctx):
        """sha256 hex of the full body /<path> serves (faults and Range do not apply)."""
        state = self.server.state
        content = open_content(ctx.path[len("/hash"):], ctx.params, state.root)
        if content is None:
            ErrorPage(404).send(self)
            return
        try:
            cache_key = (content.etag, content.size)
            digest = state.hash_cache.get(cache_key)
            if digest is None:
                digest = content_sha256(content)
                if len(state.hash_cache) >= 64:
                    state.hash_cache.clear()
                state.hash_cache[cache_key] = digest
        finally:
            content.close()
        self.send_text(digest, "text/plain")

    def control(self, ctx):
        state = self.server.state
        name = ctx.path[len("/_control/"):]
        if name == "log":
            last = ctx.integer("last", 0, 0, LOG_CAPACITY)
            self.send_json(state.log.snapshot(ctx.params.get("contains"), last))
        elif name == "reset":
            if "key" in ctx.params:
                state.counters.reset(ctx.params["key"])
                state.counters.reset("proxy:" + ctx.params["key"])
            else:
                state.counters.reset()
                state.log.clear()
            self.send_json({"ok": True})
        elif name == "counters":
            self.send_json(state.counters.snapshot())
        elif name == "info":
            self.send_json(self.server.info)
        elif name == "shutdown":
            self.send_json({"ok": True})
            state.request_stop("/_control/shutdown")
        else:
            ErrorPage(404).send(self)

    def send_json(self, value):
        self.send_text(json.dumps(value, indent=1), "application/json")

    def send_text(self, text, content_type):
        body = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


# ---------------------------------------------------------------------------------------
# Listeners, certificate, lifetime.

class Listener(ThreadingHTTPServer):
    """One loopback listener (http or https) on a port the OS picks."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, state, scheme, tls_context=None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state, self.scheme, self.info = state, scheme, {}
        if tls_context:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True,
                                                  do_handshake_on_connect=False)

    def server_bind(self):
        """HTTPServer.server_bind would look up our name (getfqdn); loopback needs none."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def port(self):
        return self.server_address[1]

    def handle_error(self, request, client_address):
        """Clients that hang up mid-body are routine here (tests abort on purpose)."""
        if self.state.verbose:
            super().handle_error(request, client_address)


def openssl(*args, cwd=None):
    subprocess.run(["openssl", *args], check=True, cwd=cwd, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)


def make_certificate(directory, name="cert", subject="127.0.0.1",
                     alt_names="IP:127.0.0.1,DNS:localhost"):
    """A self-signed certificate valid for two days (127.0.0.1 in CN and subjectAltName by
    default), made now with the openssl command: nothing secret is ever checked in.
    Returns (cert, key) paths."""
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={subject}",
            "-keyout", str(key), "-out", str(cert), "-addext", f"subjectAltName={alt_names}")
    return cert, key


def make_unsent_ca_certificate(directory):
    """A certificate for 127.0.0.1 signed by a CA made for it and thrown away: a server that
    presents it alone gives a chain no client can complete. Returns (cert, key) paths."""
    ca_cert, ca_key = directory / "ca.pem", directory / "ca-key.pem"
    csr, cert, key = directory / "leaf.csr", directory / "leaf.pem", directory / "leaf-key.pem"
    ext = directory / "leaf.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=dosvc unsent test CA",
            "-keyout", str(ca_key), "-out", str(ca_cert))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(csr))
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
            "-days", "2", "-extfile", str(ext), "-out", str(cert))
    return cert, key


EXPIRED_NOT_BEFORE, EXPIRED_NOT_AFTER = "20200101000000Z", "20200102000000Z"


def make_expired_certificate(directory):
    """A self-signed certificate for 127.0.0.1 (CN and subjectAltName) that was valid for one
    day in January 2020 only. `openssl req` cannot date a certificate in the past; `openssl
    ca` can, with a throwaway database. Returns (cert, key) paths."""
    ca = directory / "expired-ca"
    ca.mkdir()
    (ca / "index.txt").write_text("")
    (ca / "ca.cnf").write_text("[ca]\ndefault_ca = expired\n"
                               "[expired]\ndatabase = index.txt\nserial = serial\nnew_certs_dir = .\n"
                               "default_md = sha256\npolicy = any\nunique_subject = no\n"
                               "[any]\ncommonName = supplied\n")
    (ca / "leaf.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    cert, key = directory / "expired.pem", directory / "expired-key.pem"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key),
            "-out", "leaf.csr", cwd=ca)
    openssl("ca", "-batch", "-selfsign", "-config", "ca.cnf", "-keyfile", str(key), "-in", "leaf.csr",
            "-startdate", EXPIRED_NOT_BEFORE, "-enddate", EXPIRED_NOT_AFTER, "-create_serial",
            "-extfile", "leaf.ext", "-notext", "-out", str(cert), cwd=ca)
    return cert, key


OTHER_NAME = "dosvc-other-name.test"


class DripHandshakeListener:
    """A loopback port that plays a TLS server whose first record never ends: it reads the
    client's first record (the ClientHello), sends a record header that announces 16 KiB of
    handshake (16 03 03 40 00), then one byte of it every 200 ms, until the client goes or the
    server stops. No request is ever read, so nothing is logged."""

    def __init__(self, state):
        self.state = state
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]

    def serve_forever(self):
        while not self.state.stop.is_set():
            try:
                conn, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self.drip, args=(conn,), name="drip-handshake", daemon=True).start()

    def drip(self, conn):
        def receive(count):
            data = b""
            while len(data) < count and (more := conn.recv(count - len(data))):
                data += more
            return data

        with conn:
            conn.settimeout(self.state.idle_timeout)
            try:
                header = receive(5)
                if len(header) < 5:
                    return
                receive(int.from_bytes(header[3:5], "big"))
                conn.sendall(bytes.fromhex("1603034000"))
                while not self.state.stop.wait(0.2):
                    conn.sendall(b"\x02")
            except OSError:
                pass

    def close(self):
        self.socket.close()


def closed_port():
    """A loopback port nobody listens on (bound, then closed): connecting to it is refused,
    until some other program happens to take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestServer:
    """Owns the listeners, the temporary directory and the reasons to stop."""

    def __init__(self, options):
        self.options = options
        self.workdir = Path(tempfile.mkdtemp(prefix="dosvc-test-server-"))
        root = Path(options.root) if options.root else self.workdir / "root"
        root.mkdir(exist_ok=True)
        proxy_auth = tuple(options.proxy_auth.split(":", 1)) if options.proxy_auth else None
        self.state = ServerState(root=root, log=RequestLog(), counters=Counters(),
                                 stop=threading.Event(), idle_timeout=options.idle_timeout,
                                 proxy_auth=proxy_auth, verbose=options.verbose)
        self.listeners = []
        self.drip_handshake = None
        self.threads = []
        # A socket bound but never listening: connecting to its port is refused, and no
        # other program can take the port while the server lives.
        self.refused = socket.socket()
        self.refused.bind(("127.0.0.1", 0))

    def start(self):
        state, cert = self.state, None
        self.listeners.append(Listener(state, "http"))
        state.http_port = self.listeners[0].port
        if self.options.https:
            cert, key = make_certificate(self.workdir)
            state.https_port = self.add_https_listener(cert, key)
            state.https_unsent_ca_port = self.add_https_listener(*make_unsent_ca_certificate(self.workdir))
            state.https_other_name_port = self.add_https_listener(
                *make_certificate(self.workdir, "other-name", OTHER_NAME, f"DNS:{OTHER_NAME}"))
            state.https_expired_port = self.add_https_listener(*make_expired_certificate(self.workdir))
            self.drip_handshake = DripHandshakeListener(state)
            state.https_drip_handshake_port = self.drip_handshake.port
        info = {"http_port": state.http_port, "https_port": state.https_port,
                "https_unsent_ca_port": state.https_unsent_ca_port,
                "https_other_name_port": state.https_other_name_port,
                "https_expired_port": state.https_expired_port,
                "https_drip_handshake_port": state.https_drip_handshake_port,
                "pid": os.getpid(), "root": str(state.root),
                "cert": str(cert) if cert else None,
                "refused_port": self.refused.getsockname()[1]}
        for listener in self.listeners:
            listener.info = info
            thread = threading.Thread(target=listener.serve_forever, args=(0.2,),
                                      name=f"listener-{listener.scheme}", daemon=True)
            thread.start()
            self.threads.append(thread)
        if self.drip_handshake:
            thread = threading.Thread(target=self.drip_handshake.serve_forever, name="listener-drip-handshake",
                                      daemon=True)
            thread.start()
            self.threads.append(thread)
        return info

    def add_https_listener(self, cert, key):
        """Another HTTPS listener serving the same content with this certificate; its port."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.listeners.append(Listener(self.state, "https", context))
        return self.listeners[-1].port

    def watch_stdin(self):
        def read_to_eof():
            stdin = sys.stdin.buffer
            while stdin.read1(65536):    # ends at EOF: the test that started us is gone
                pass
            self.state.request_stop("stdin EOF")
        threading.Thread(target=read_to_eof, name="stdin-watch", daemon=True).start()

    def wait(self):
        """Block until asked to stop or until --max-seconds; returns the reason."""
        deadline = time.monotonic() + self.options.max_seconds
        while not self.state.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                self.state.request_stop(f"--max-seconds {self.options.max_seconds:g}")
                break
            self.state.stop.wait(min(left, 0.5))
        return self.state.stop_reason

    def close(self):
        self.state.stop.set()
        for listener in self.listeners:
            listener.shutdown()
            listener.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
        if self.drip_handshake:
            self.drip_handshake.close()
        self.refused.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def write_info(info, port_file):
    line = json.dumps(info)
    print(line, flush=True)
    if port_file:
        partial = Path(port_file + ".partial")
        partial.write_text(line + "\n")
        partial.replace(port_file)   # atomic: a polling driver never reads half a line


def parse_options(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="directory served for non-/gen paths "
                        "(default: an empty temporary directory, reported as root)")
    parser.add_argument("--https", action="store_true",
                        help="also listen for HTTPS with a self-signed cert made at start-up")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin reaches EOF (the parent died or closed it)")
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="stop by itself after this long (default 600)")
    parser.add_argument("--idle-timeout", type=float, default=120.0,
                        help="socket timeout of client and proxy connections (default 120)")
    parser.add_argument("--proxy-auth", metavar="USER:PASSWORD",
                        help="require these Basic credentials on every proxied request")
    parser.add_argument("--port-file", help="also write the start-up JSON line to this file")
    parser.add_argument("--refused-port", action="store_true",
                        help="print a closed loopback port number and exit (no server)")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    options = parser.parse_args(argv)
    if options.proxy_auth is not None and ":" not in options.proxy_auth:
        parser.error("--proxy-auth wants USER:PASSWORD")
    if not 0 < options.max_seconds <= 86400:
        parser.error("--max-seconds must be in (0, 86400]")
    return options


def main(argv=None):
    options = parse_options(argv)
    if options.refused_port:
        print(closed_port(), flush=True)
        return 0
    server = TestServer(options)
    try:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda n, _: server.state.request_stop(signal.strsignal(n)))
        write_info(server.start(), options.port_file)
        if options.exit_on_stdin_eof:
            server.watch_stdin()
        reason = server.wait()
        if options.verbose:
            print(f"dosvc_test_server: stopping ({reason})", file=sys.stderr)
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
