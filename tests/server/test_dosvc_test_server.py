"""Self-test of dosvc_test_server.py: starts it as a subprocess, exactly as a test driver
would, and checks each promise of its README from the client side.

    python3 -m unittest tests/server/test_dosvc_test_server.py        (a few seconds)
    DOSVC_SERVER_BENCH=1 python3 -m unittest tests/server/test_dosvc_test_server.py
        also times a 500 MiB download through a plain socket.
"""

import base64
import hashlib
import http.client
import json
import os
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

SERVER = Path(__file__).with_name("dosvc_test_server.py")
START_TIMEOUT = 20
EXTRA_TEXT = b"dosvc-test-server: bytes beyond the promised length\n"   # what long and late send


def start_server(*args):
    """(process, start-up info) for a server started with args."""
    proc = subprocess.Popen([sys.executable, str(SERVER), *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(START_TIMEOUT):
            proc.kill()
            raise RuntimeError("the server printed nothing")
    line = proc.stdout.readline()
    if not line:
        proc.wait(5)
        raise RuntimeError(f"the server exited with {proc.returncode} before starting")
    return proc, json.loads(line)


def stop_server(proc):
    """Close stdin (enough with --exit-on-stdin-eof), then SIGTERM, and SIGKILL last: only
    the first two let the server remove its temporary directory."""
    proc.stdin.close()
    for stop in (lambda: None, proc.terminate, proc.kill):
        stop()
        try:
            proc.wait(3)
            break
        except subprocess.TimeoutExpired:
            pass
    proc.stdout.close()


def expected_gen(size, seed="0"):
    """The generated body as README.md defines it, written independently of the server."""
    block = b"".join(hashlib.sha256(seed.encode() + i.to_bytes(4, "big")).digest()
                     for i in range(2048))
    out = bytearray()
    for n in range(0, size // 65536 + 1):
        stamp = bytes(a ^ b for a, b in zip(block[:8], n.to_bytes(8, "big")))
        out += stamp + block[8:]
    return bytes(out[:size])


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def unique():
    return uuid.uuid4().hex[:12]


SERVER_PROC = INFO = None


def setUpModule():
    global SERVER_PROC, INFO
    SERVER_PROC, INFO = start_server("--https", "--exit-on-stdin-eof", "--max-seconds", "300")


def tearDownModule():
    stop_server(SERVER_PROC)


class Client:
    """Small helpers over http.client against the shared server."""

    @staticmethod
    def tls_context():
        return ssl.create_default_context(cafile=INFO["cert"])

    @classmethod
    def connection(cls, tls=False, port=None):
        if tls:
            return http.client.HTTPSConnection("127.0.0.1", port or INFO["https_port"],
                                               context=cls.tls_context(), timeout=10)
        return http.client.HTTPConnection("127.0.0.1", port or INFO["http_port"], timeout=10)

    @classmethod
    def request(cls, path, method="GET", headers=None, tls=False):
        """(status, headers as dict, body); a short body raises IncompleteRead."""
        conn = cls.connection(tls)
        try:
            conn.request(method, path, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    @staticmethod
    def raw(request, port=None, timeout=10):
        """Send raw request bytes; (head, body bytes, reset?) read until the server closes."""
        with socket.create_connection(("127.0.0.1", port or INFO["http_port"]), timeout) as s:
            s.sendall(request.encode())
            data, reset = bytearray(), False
            try:
                while chunk := s.recv(65536):
                    data += chunk
            except ConnectionResetError:
                reset = True
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        return head.decode("latin-1"), body, reset

    @staticmethod
    def log(contains):
        status, _, body = Client.request(f"/_control/log?contains={quote(contains)}")
        assert status == 200
        return json.loads(body)


def answer_on_a_kept_connection(s, path, body):
    """Sends GET path on the socket s and reads its answer, which ends with body; its head."""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = bytearray()
    while not data.endswith(body):
        data += s.recv(65536)
    return data.partition(b"\r\n\r\n")[0].decode("latin-1")


def raw_get(path, extra_headers=""):
    return Client.raw(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra_headers}\r\n")


class StartupTest(unittest.TestCase):
    def test_start_line_reports_ports_pid_root_and_cert(self):
        self.assertIsInstance(INFO["http_port"], int)
        self.assertIsInstance(INFO["https_port"], int)
        self.assertEqual(INFO["pid"], SERVER_PROC.pid)
        self.assertTrue(Path(INFO["root"]).is_dir())
        self.assertTrue(Path(INFO["cert"]).is_file())

    def test_refused_port_refuses(self):
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", INFO["refused_port"]), 5).close()

    def test_refused_port_option_prints_a_closed_port(self):
        out = subprocess.run([sys.executable, str(SERVER), "--refused-port"], check=True,
                             capture_output=True, text=True, timeout=10).stdout
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", int(out)), 5).close()

    def test_info_endpoint_repeats_the_start_line(self):
        _, _, body = Client.request("/_control/info")
        self.assertEqual(json.loads(body), INFO)


class ContentTest(unittest.TestCase):
    def test_generated_body_follows_the_documented_formula(self):
        size = 3 * 65536 + 123
        status, headers, body = Client.request("/gen/196731?seed=doc")
        self.assertEqual((status, int(headers["Content-Length"])), (200, size))
        self.assertEqual(body, expected_gen(size, "doc"))
        self.assertNotEqual(body[:65536], body[65536:131072])   # stamped, not periodic

    def test_full_get_matches_hash_endpoint(self):
        _, _, body = Client.request("/gen/2m.bin?seed=s1")
        _, _, digest = Client.request("/hash/gen/2m.bin?seed=s1")
        self.assertEqual(len(body), 2 << 20)
        self.assertEqual(hashlib.sha256(body).hexdigest(), digest.decode())

    def test_size_suffixes_and_name_forms(self):
        for path, size in [("/gen/3k", 3072), ("/gen/1m/setup.exe", 1 << 20), ("/gen/0", 0)]:
            status, headers, body = Client.request(path, "HEAD")
            self.assertEqual((status, int(headers["Content-Length"])), (200, size), path)

    def test_head_reports_length_and_validators_without_body(self):
        status, headers, body = Client.request("/gen/10k?seed=h", "HEAD")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers["Content-Length"], "10240")
        self.assertEqual(headers["Accept-Ranges"], "bytes")
        self.assertIn("ETag", headers)
        self.assertIn("Last-Modified", headers)
        _, again, _ = Client.request("/gen/10k?seed=h", "HEAD")
        self.assertEqual(again["ETag"], headers["ETag"])

    def test_file_from_root_is_served_and_hashed(self):
        folder = Path(INFO["root"]) / "sub"
        folder.mkdir(exist_ok=True)
        data = os.urandom(300000)
        (folder / "payload.bin").write_bytes(data)
        status, headers, body = Client.request("/sub/payload.bin")
        self.assertEqual((status, body), (200, data))
        _, _, digest = Client.request("/hash/sub/payload.bin")
        self.assertEqual(digest.decode(), hashlib.sha256(data).hexdigest())

    def test_missing_file_and_escapes_are_404(self):
        for path in ["/nothing-here", "/../etc/passwd", "/%2e%2e/etc/passwd", "/sub"]:
            self.assertEqual(Client.request(path)[0], 404, path)

    def test_keep_alive_reuses_the_connection(self):
        conn = Client.connection()
        try:
            conn.request("GET", "/gen/1k?ka=" + unique())
            conn.getresponse().read()
            first = conn.sock
            conn.request("GET", "/gen/1k")
            self.assertEqual(conn.getresponse().status, 200)
            self.assertIs(conn.sock, first)
        finally:
            conn.close()


class RangeTest(unittest.TestCase):
    SIZE = 100000
    BODY = expected_gen(100000, "r")
    PATH = "/gen/100000?seed=r"

    def get(self, value, **more):
        return Client.request(self.PATH, headers={"Range": value, **more})

    def test_each_range_form_gets_206_and_content_range(self):
        cases = {"bytes=10-19": (10, 19), "bytes=99990-": (99990, 99999),
                 "bytes=-5": (99995, 99999), "bytes=50-999999": (50, 99999)}
        for value, (first, last) in cases.items():
            status, headers, body = self.get(value)
            self.assertEqual(status, 206, value)
            self.assertEqual(headers["Content-Range"], f"bytes {first}-{last}/{self.SIZE}")
            self.assertEqual(int(headers["Content-Length"]), last - first + 1)
            self.assertEqual(body, self.BODY[first:last + 1], value)

    def test_unsatisfiable_range_is_416_with_size(self):
        for value in ["bytes=100000-", "bytes=-0"]:
            status, headers, _ = self.get(value)
            self.assertEqual(status, 416, value)
            self.assertEqual(headers["Content-Range"], f"bytes */{self.SIZE}")

    def test_malformed_or_multiple_ranges_are_ignored(self):
        for value in ["bytes=5-2", "items=0-1", "bytes=0-1,5-6"]:
            status, _, body = self.get(value)
            self.assertEqual((status, len(body)), (200, self.SIZE), value)

    def test_if_range_honours_only_a_matching_validator(self):
        etag = Client.request(self.PATH, "HEAD")[1]["ETag"]
        self.assertEqual(self.get("bytes=0-9", **{"If-Range": etag})[0], 206)
        status, _, body = self.get("bytes=0-9", **{"If-Range": '"stale"'})
        self.assertEqual((status, len(body)), (200, self.SIZE))


class StatusFaultTest(unittest.TestCase):
    def test_status_faults_answer_with_an_html_page(self):
        for code in [403, 404, 500, 503]:
            status, headers, body = Client.request(f"/gen/1k?fault={code}")
            self.assertEqual(status, code)
            self.assertTrue(headers["Content-Type"].startswith("text/html"))
            self.assertIn(str(code).encode(), body)

    def test_503_carries_retry_after(self):
        _, headers, _ = Client.request("/gen/1k?fault=503&retry_after=7")
        self.assertEqual(headers["Retry-After"], "7")

    def test_416_fault_carries_the_size(self):
        status, headers, _ = Client.request("/gen/1k?fault=416")
        self.assertEqual((status, headers["Content-Range"]), (416, "bytes */1024"))

    def test_unknown_fault_or_bad_parameter_is_400(self):
        self.assertEqual(Client.request("/gen/1k?fault=nonsense")[0], 400)
        self.assertEqual(Client.request("/gen/1k?fault=reset&after=x")[0], 400)
        self.assertEqual(Client.request("/gen/1k?fault=503&retry_after=%0d%0aX:1")[0], 400)

    def test_times_fails_k_requests_then_succeeds_and_reset_clears(self):
        key = unique()
        path = f"/gen/1k?fault=503&times=2&key={key}"
        self.assertEqual([Client.request(path)[0] for _ in range(3)], [503, 503, 200])
        _, _, counters = Client.request("/_control/counters")
        self.assertEqual(json.loads(counters)[key], 3)
        Client.request(f"/_control/reset?key={key}")
        self.assertEqual(Client.request(path)[0], 503)


class BodyFaultTest(unittest.TestCase):
    def test_reset_sends_n_bytes_then_rst(self):
        head, body, reset = raw_get("/gen/1m?fault=reset&after=1000")
        self.assertIn("Content-Length: 1048576", head)
        self.assertTrue(reset)
        self.assertLessEqual(len(body), 1000)

    def test_truncate_sends_n_bytes_then_closes_cleanly(self):
        head, body, reset = raw_get("/gen/1m?fault=truncate&after=1000")
        self.assertIn("Content-Length: 1048576", head)
        self.assertEqual((len(body), reset), (1000, False))
        with self.assertRaises(http.client.IncompleteRead):
            Client.request("/gen/1m?fault=truncate")

    def test_long_sends_bytes_beyond_content_length(self):
        head, body, _ = raw_get("/gen/1000?fault=long&extra=77")
        self.assertIn("Content-Length: 1000", head)
        self.assertEqual(len(body), 1077)
        self.assertEqual(body[:1000], expected_gen(1000))

    def test_long_close_mode_has_no_length_and_more_bytes(self):
        head, body, _ = raw_get("/gen/1000?fault=long&extra=5&mode=close")
        self.assertNotIn("Content-Length", head)
        self.assertIn("Connection: close", head)
        self.assertEqual(len(body), 1005)
        _, headers, _ = Client.request("/gen/1000?fault=long&mode=close", "HEAD")
        self.assertEqual(headers["Content-Length"], "1000")

    def test_chunked_sends_the_body_in_chunks_without_a_length(self):
        head, body, _ = raw_get("/gen/3000?fault=chunked", "Connection: close\r\n")
        self.assertIn("Transfer-Encoding: chunked", head)
        self.assertNotIn("Content-Length", head)
        self.assertEqual(body, b"bb8\r\n" + expected_gen(3000) + b"\r\n0\r\n\r\n")
        status, _, whole = Client.request("/gen/3000?fault=chunked")
        self.assertEqual((status, whole), (200, expected_gen(3000)))

    def test_norange_ignores_range_and_drops_accept_ranges(self):
        status, headers, body = Client.request("/gen/5000?fault=norange",
                                               headers={"Range": "bytes=10-19"})
        self.assertEqual((status, len(body)), (200, 5000))
        self.assertNotIn("Accept-Ranges", headers)
        self.assertNotIn("Content-Range", headers)

    def test_badrange_answers_a_range_other_than_asked(self):
        full = expected_gen(5000)
        status, headers, body = Client.request("/gen/5000?fault=badrange",
                                               headers={"Range": "bytes=100-199"})
        self.assertEqual((status, headers["Content-Range"]), (206, "bytes 101-199/5000"))
        self.assertEqual(body, full[101:200])
        _, headers, body = Client.request("/gen/5000?fault=badrange&what=total",
                                          headers={"Range": "bytes=100-199"})
        self.assertEqual((headers["Content-Range"], body), ("bytes 100-199/5001", full[100:200]))

    def test_drip_is_slow(self):
        began = time.monotonic()
        _, _, body = Client.request("/gen/1000?fault=drip&rate=2000")
        self.assertEqual(len(body), 1000)
        self.assertGreaterEqual(time.monotonic() - began, 0.35)

    def test_stall_sends_headers_then_waits(self):
        conn = Client.connection()
        try:
            began = time.monotonic()
            conn.request("GET", "/gen/100?fault=stall&seconds=0.5&after=10")
            response = conn.getresponse()
            self.assertLess(time.monotonic() - began, 0.4)
            self.assertEqual(len(response.read()), 100)
            self.assertGreaterEqual(time.monotonic() - began, 0.5)
        finally:
            conn.close()

    def test_hang_answers_nothing(self):
        began = time.monotonic()
        head, body, _ = raw_get("/gen/100?fault=hang&seconds=0.3")
        self.assertEqual((head, body), ("", b""))
        self.assertGreaterEqual(time.monotonic() - began, 0.3)

    def test_late_sends_bytes_after_a_whole_answer_and_never_reads_the_next_request(self):
        key = unique()
        with socket.create_connection(("127.0.0.1", INFO["http_port"]), 10) as s:
            head = answer_on_a_kept_connection(s, f"/gen/100?fault=late&seconds=0.3&extra=77&k={key}",
                                               expected_gen(100))
            self.assertNotIn("Connection: close", head)      # the answer keeps the connection
            began = time.monotonic()
            s.sendall(f"GET /gen/10?k={key} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            late = bytearray()
            while chunk := s.recv(65536):
                late += chunk
        self.assertGreaterEqual(time.monotonic() - began, 0.2)
        self.assertEqual(bytes(late), (EXTRA_TEXT * 2)[:77])
        self.assertEqual(len(Client.log(key)), 1)             # the second request was never read

    def test_late_with_no_extra_bytes_only_closes(self):
        head, body, reset = raw_get("/gen/100?fault=late&seconds=0&extra=0")
        self.assertIn("Content-Length: 100", head)
        self.assertEqual((body, reset), (expected_gen(100), False))

    def test_log_says_closed_once_the_server_ended_the_connection(self):
        key = unique()
        with socket.create_connection(("127.0.0.1", INFO["http_port"]), 10) as s:
            s.sendall(f"GET /gen/10?fault=late&seconds=0&extra=0&k={key} HTTP/1.1\r\n"
                      "Host: x\r\n\r\n".encode())
            while s.recv(65536):
                pass
            deadline = time.monotonic() + 10
            while not Client.log(key)[0]["closed"] and time.monotonic() < deadline:
                time.sleep(0.01)
        self.assertTrue(Client.log(key)[0]["closed"])
        conn = Client.connection()
        try:
            conn.request("GET", f"/gen/10?open={key}")
            conn.getresponse().read()
            self.assertFalse(Client.log(f"open={key}")[0]["closed"])   # kept alive
        finally:
            conn.close()

    def test_late_on_request_waits_for_the_next_request_logs_it_unanswered_then_ends(self):
        key = unique()
        with socket.create_connection(("127.0.0.1", INFO["http_port"]), 10) as s:
            answer_on_a_kept_connection(s, f"/gen/100?fault=late&on=request&extra=77&k={key}", expected_gen(100))
            s.settimeout(0.3)
            with self.assertRaises(TimeoutError):     # nothing comes until a request does
                s.recv(1)
            s.settimeout(10)
            s.sendall(f"GET /gen/10?next={key} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            late = bytearray()
            while chunk := s.recv(65536):
                late += chunk
        self.assertEqual(bytes(late), (EXTRA_TEXT * 2)[:77])
        first, second = Client.log(key)
        self.assertEqual((first["unanswered"], first["status"]), (False, 200))
        self.assertEqual((second["target"], second["unanswered"], second["status"]),
                         (f"/gen/10?next={key}", True, None))
        self.assertEqual(second["client_port"], first["client_port"])
        deadline = time.monotonic() + 10
        while not Client.log(key)[1]["closed"] and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertTrue(Client.log(key)[1]["closed"])

    def test_late_answer_sends_that_status_to_the_next_request_then_closes(self):
        key = unique()
        with socket.create_connection(("127.0.0.1", INFO["http_port"]), 10) as s:
            answer_on_a_kept_connection(s, f"/gen/10?fault=late&on=request&answer=408&k={key}", expected_gen(10))
            s.sendall(f"GET /gen/10?next={key} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            answer = bytearray()
            while chunk := s.recv(65536):
                answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"))
        self.assertIn(b"Connection: close\r\n", answer)
        self.assertEqual([(e["unanswered"], e["status"]) for e in Client.log(key)], [(False, 200), (False, 408)])
        self.assertEqual(Client.request("/gen/1?fault=late&on=request&seconds=1")[0], 400)

    def test_interim_answers_come_before_the_answer(self):
        head, rest, _ = Client.raw("GET /gen/10?fault=interim&count=2&code=103 HTTP/1.1\r\nHost: x\r\n"
                                   "Connection: close\r\n\r\n")
        self.assertEqual(head, "HTTP/1.1 103 Early Hints")
        self.assertTrue(rest.startswith(b"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\n"))
        self.assertTrue(rest.endswith(expected_gen(10)))

    @staticmethod
    def first_bytes(path, count):
        """The first count bytes of the server's answer to GET path; then the client hangs up."""
        with socket.create_connection(("127.0.0.1", INFO["http_port"]), 10) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            data = bytearray()
            while len(data) < count and (chunk := s.recv(65536)):
                data += chunk
        return bytes(data[:count])

    def test_endless_interim_answers_never_end(self):
        data = self.first_bytes("/gen/10?fault=interim", 1 << 20)
        self.assertEqual(data, (b"HTTP/1.1 100 Continue\r\n\r\n" * 50000)[:1 << 20])

    def test_trailer_floods_trailer_fields_after_the_last_chunk(self):
        data = self.first_bytes("/gen/5?fault=trailer", 1 << 20)
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"Transfer-Encoding: chunked", head)
        self.assertTrue(body.startswith(b"5\r\n" + expected_gen(5) + b"\r\n0\r\nX-T: a\r\nX-T: a\r\n"))
        self.assertGreater(len(body), 1 << 19)

    def test_trailer_with_a_rate_trickles(self):
        began = time.monotonic()
        data = self.first_bytes("/gen/5?fault=trailer&rate=20", 400)
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(body.startswith(b"5\r\n" + expected_gen(5) + b"\r\n0\r\nX-T: a\r\n"))
        # 400 - len(head) - 4 bytes of body, of which the first 13 came at once
        self.assertGreaterEqual(time.monotonic() - began, (len(body) - 14) / 20 - 0.1)

    def test_chunkext_sends_a_chunk_size_line_that_never_ends(self):
        data = self.first_bytes("/gen/5?fault=chunkext", 1 << 20)
        _, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(body.startswith(b"5;aaaa"))
        self.assertEqual(body[2:].strip(b"a"), b"")

    def test_validators_none_weak_and_weak200(self):
        _, both, _ = Client.request("/gen/1k?seed=v", "HEAD")
        _, none, _ = Client.request("/gen/1k?seed=v&validators=none", "HEAD")
        self.assertNotIn("ETag", none)
        self.assertNotIn("Last-Modified", none)
        _, weak, _ = Client.request("/gen/1k?seed=v&validators=weak", "HEAD")
        self.assertEqual(weak["ETag"], "W/" + both["ETag"])
        self.assertNotIn("Last-Modified", weak)
        _, whole, _ = Client.request("/gen/1k?seed=v&validators=weak200")
        status, part, _ = Client.request("/gen/1k?seed=v&validators=weak200", headers={"Range": "bytes=1-"})
        self.assertEqual((whole["ETag"], whole["Last-Modified"]), ("W/" + both["ETag"], both["Last-Modified"]))
        self.assertEqual((status, part["ETag"], part["Last-Modified"]), (206, both["ETag"], both["Last-Modified"]))
        self.assertEqual(Client.request("/gen/1k?validators=some")[0], 400)

    def test_validators_none_lasts_beyond_times(self):
        key = unique()
        path = f"/gen/1k?validators=none&fault=truncate&after=10&times=1&key={key}"
        with self.assertRaises(http.client.IncompleteRead):
            Client.request(path)
        _, headers, body = Client.request(path)
        self.assertEqual(len(body), 1024)
        self.assertNotIn("ETag", headers)

    def test_novalidator_sends_neither_etag_nor_last_modified(self):
        status, headers, body = Client.request("/gen/1k?fault=novalidator", headers={"Range": "bytes=0-9"})
        self.assertEqual((status, body), (206, expected_gen(1024)[:10]))
        self.assertNotIn("ETag", headers)
        self.assertNotIn("Last-Modified", headers)

    def test_head_is_not_affected_by_body_faults(self):
        status, headers, _ = Client.request("/gen/1k?fault=reset&after=1", "HEAD")
        self.assertEqual((status, headers["Content-Length"]), (200, "1024"))


class HeadFaultTest(unittest.TestCase):
    def test_cuthead_cuts_the_head_inside_a_field_then_closes(self):
        head, body, reset = raw_get("/gen/20000?fault=cuthead")
        self.assertTrue(head.startswith("HTTP/1.1 200 OK\r\nContent-Length: 20000\r\nETag: \""))
        self.assertTrue(head.endswith("\r\nX-Cut: he"))
        self.assertEqual((body, reset), (b"", False))

    def test_cuthead_over_https_ends_with_close_notify(self):
        context = Client.tls_context()
        with socket.create_connection(("127.0.0.1", INFO["https_port"]), 10) as raw:
            # A TCP end without close_notify would raise SSLEOFError here.
            with context.wrap_socket(raw, server_hostname="127.0.0.1",
                                     suppress_ragged_eofs=False) as tls:
                tls.sendall(b"GET /gen/100?fault=cuthead HTTP/1.1\r\nHost: x\r\n\r\n")
                data = bytearray()
                while chunk := tls.recv(65536):
                    data += chunk
        self.assertTrue(data.endswith(b"\r\nX-Cut: he"))

    def test_driphead_sends_the_head_slowly_then_the_body(self):
        began = time.monotonic()
        status, headers, body = Client.request("/gen/100?fault=driphead&rate=1000")
        self.assertEqual((status, body), (200, expected_gen(100)))
        self.assertGreaterEqual(time.monotonic() - began, 0.1)   # a head of over 150 bytes

    def test_if_range_ignore_honours_a_range_whatever_if_range_says(self):
        status, headers, body = Client.request("/gen/1k?if_range=ignore",
                                               headers={"Range": "bytes=10-19", "If-Range": '"stale"'})
        self.assertEqual((status, headers["Content-Range"], body), (206, "bytes 10-19/1024", expected_gen(1024)[10:20]))
        self.assertEqual(Client.request("/gen/1k?if_range=sometimes")[0], 400)


class DripHandshakeTest(unittest.TestCase):
    def test_first_record_is_announced_then_trickles(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        hello = context.wrap_bio(incoming, outgoing)
        with self.assertRaises(ssl.SSLWantReadError):
            hello.do_handshake()
        with socket.create_connection(("127.0.0.1", INFO["https_drip_handshake_port"]), 10) as s:
            s.sendall(outgoing.read())
            began, data = time.monotonic(), bytearray()
            while len(data) < 8:
                data += s.recv(64)
        self.assertEqual(bytes(data[:5]), bytes.fromhex("1603034000"))
        self.assertGreaterEqual(time.monotonic() - began, 0.5)   # 3 bytes, 200 ms apart


class RedirectTest(unittest.TestCase):
    def test_redirect_to_a_url_with_the_code_asked(self):
        target = f"http://127.0.0.1:{INFO['http_port']}/gen/1k"
        for code in [301, 302, 303, 307, 308]:
            status, headers, _ = Client.request(f"/gen/1?fault=redirect&code={code}"
                                                f"&to={quote(target, safe='')}")
            self.assertEqual((status, headers["Location"]), (code, target))

    def test_redirect_chain_counts_down_then_serves(self):
        key = unique()
        url = f"http://127.0.0.1:{INFO['http_port']}/gen/1k?fault=redirect&count=3&k={key}"
        with urllib.request.urlopen(url, timeout=10) as response:
            self.assertEqual((response.status, len(response.read())), (200, 1024))
        self.assertEqual([e["status"] for e in Client.log(key)], [302, 302, 302, 200])

    def test_https_redirects_to_http(self):
        key = unique()
        url = (f"https://127.0.0.1:{INFO['https_port']}/gen/1k?fault=redirect&scheme=http"
               f"&k={key}")
        with urllib.request.urlopen(url, timeout=10, context=Client.tls_context()) as resp:
            self.assertEqual(resp.status, 200)
            self.assertTrue(resp.url.startswith(f"http://127.0.0.1:{INFO['http_port']}/"))
        self.assertEqual([e["scheme"] for e in Client.log(key)], ["https", "http"])

    def test_https_serves_the_same_bytes(self):
        _, _, body = Client.request("/gen/70000?seed=t", tls=True)
        self.assertEqual(body, expected_gen(70000, "t"))


class CertificateTest(unittest.TestCase):
    """The extra HTTPS listeners: each certificate has exactly one fault of its own."""

    X509_V_ERR_CERT_HAS_EXPIRED = 10

    @staticmethod
    def get(port, server_hostname, context):
        """The body of /gen/3000?seed=k on port, its certificate checked by context."""
        with socket.create_connection(("127.0.0.1", port), 10) as raw:
            with context.wrap_socket(raw, server_hostname=server_hostname) as tls:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.sock = tls
                conn.request("GET", "/gen/3000?seed=k")
                return conn.getresponse().read()

    @staticmethod
    def trusting(port):
        """A context that trusts the certificate the listener on port presents."""
        return ssl.create_default_context(cadata=ssl.get_server_certificate(("127.0.0.1", port)))

    def test_other_name_listener_is_valid_for_its_name_only(self):
        port = INFO["https_other_name_port"]
        context = self.trusting(port)
        self.assertEqual(self.get(port, "dosvc-other-name.test", context), expected_gen(3000, "k"))
        with self.assertRaisesRegex(ssl.SSLCertVerificationError, "mismatch"):
            self.get(port, "127.0.0.1", context)

    def test_expired_listener_is_for_127_0_0_1_but_expired(self):
        port = INFO["https_expired_port"]
        pem = ssl.get_server_certificate(("127.0.0.1", port))
        with self.assertRaises(ssl.SSLCertVerificationError) as caught:
            self.get(port, "127.0.0.1", ssl.create_default_context(cadata=pem))
        self.assertEqual(caught.exception.verify_code, self.X509_V_ERR_CERT_HAS_EXPIRED)
        names = subprocess.run(["openssl", "x509", "-noout", "-checkip", "127.0.0.1"], input=pem,
                               capture_output=True, text=True, check=True, timeout=10).stdout
        self.assertIn("does match", names)
        unchecked = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unchecked.check_hostname, unchecked.verify_mode = False, ssl.CERT_NONE
        self.assertEqual(self.get(port, "127.0.0.1", unchecked), expected_gen(3000, "k"))


class AuthTest(unittest.TestCase):
    def test_basic_auth_challenges_until_credentials_are_right(self):
        path = "/gen/1k?fault=auth&user=alice&password=s3cret"
        status, headers, _ = Client.request(path)
        self.assertEqual((status, headers["WWW-Authenticate"]), (401, 'Basic realm="dosvc-test"'))
        wrong = {"Authorization": basic("alice", "nope")}
        self.assertEqual(Client.request(path, headers=wrong)[0], 401)
        right = {"Authorization": basic("alice", "s3cret")}
        self.assertEqual(Client.request(path, headers=right)[:1], (200,))


class ProxyTest(unittest.TestCase):
    def via_proxy(self, url, headers=None, method="GET"):
        conn = Client.connection()
        try:
            conn.request(method, url, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def origin(self, path):
        return f"http://127.0.0.1:{INFO['http_port']}{path}"

    def test_forwards_absolute_form_and_logs_both_hops(self):
        key = unique()
        status, _, body = self.via_proxy(self.origin(f"/gen/2000?k={key}"),
                                         {"X-Custom": "hello", "Range": "bytes=0-99"})
        self.assertEqual((status, body), (206, expected_gen(2000)[:100]))
        proxy_hop, origin_hop = Client.log(key)
        self.assertTrue(proxy_hop["via_proxy"])
        self.assertFalse(origin_hop["via_proxy"])
        self.assertEqual(origin_hop["headers"]["X-Custom"], "hello")
        self.assertEqual(origin_hop["range"], "bytes=0-99")
        self.assertIn("Via", origin_hop["headers"])

    def test_proxy_auth_407_then_pass_without_leaking_credentials(self):
        key = unique()
        url = self.origin(f"/gen/1k?fault=proxyauth&user=p&password=q&k={key}")
        status, headers, _ = self.via_proxy(url)
        self.assertEqual((status, headers["Proxy-Authenticate"]), (407, 'Basic realm="dosvc-test"'))
        status, _, body = self.via_proxy(url, {"Proxy-Authorization": basic("p", "q")})
        self.assertEqual((status, len(body)), (200, 1024))
        entries = Client.log(key)
        self.assertEqual([e["status"] for e in entries], [407, 200, 200])
        self.assertEqual(entries[1]["headers"]["Proxy-Authorization"], basic("p", "q"))
        self.assertNotIn("Proxy-Authorization", entries[2]["headers"])

    def test_refuses_non_loopback_targets(self):
        for url in ["http://192.0.2.1/x", "http://example.invalid/x", "http://[2001:db8::1]/"]:
            self.assertEqual(self.via_proxy(url)[0], 403, url)

    def test_unreachable_target_is_502(self):
        self.assertEqual(self.via_proxy(f"http://127.0.0.1:{INFO['refused_port']}/")[0], 502)

    def test_target_faults_pass_through(self):
        with self.assertRaises(http.client.IncompleteRead):
            self.via_proxy(self.origin("/gen/100k?fault=truncate&after=10"))

    def test_connect_tunnels_https(self):
        conn = http.client.HTTPSConnection("127.0.0.1", INFO["http_port"], timeout=10,
                                           context=Client.tls_context())
        conn.set_tunnel("127.0.0.1", INFO["https_port"])
        key = unique()
        try:
            conn.request("GET", f"/gen/3000?seed=c&k={key}")
            self.assertEqual(conn.getresponse().read(), expected_gen(3000, "c"))
        finally:
            conn.close()
        connect = [e for e in Client.log(f"127.0.0.1:{INFO['https_port']}") if e["method"] == "CONNECT"][-1]
        tunnelled, = Client.log(key)
        self.assertEqual((tunnelled["scheme"], tunnelled["tunnel"]), ("https", connect["id"]))

    def test_requests_not_through_a_tunnel_name_none(self):
        key = unique()
        Client.request(f"/gen/10?k={key}")
        self.assertIsNone(Client.log(key)[0]["tunnel"])


class LogTest(unittest.TestCase):
    def test_log_records_method_range_credentials_and_custom_headers(self):
        key = unique()
        headers = {"Range": "bytes=5-", "Authorization": basic("u", "p"), "X-Test-Id": key}
        Client.request(f"/gen/1k?k={key}", headers=headers)
        Client.request(f"/gen/1k?k={key}", "HEAD")
        get, head = Client.log(key)
        self.assertEqual((get["method"], get["status"], get["range"]), ("GET", 206, "bytes=5-"))
        self.assertEqual(get["headers"]["Authorization"], basic("u", "p"))
        self.assertEqual(get["headers"]["X-Test-Id"], key)
        self.assertEqual((head["method"], head["status"]), ("HEAD", 200))
        _, _, last = Client.request(f"/_control/log?contains={key}&last=1")
        self.assertEqual(json.loads(last)[0]["method"], "HEAD")

    def test_log_fields_keep_the_order_and_repeats_of_the_request_head(self):
        key = unique()
        Client.raw(f"GET /gen/10?k={key} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-B: 2\r\nX-A:  one \r\n"
                   "X-B: 3\r\nConnection: close\r\n\r\n")
        entry, = Client.log(key)
        self.assertEqual(entry["fields"], [["Host", "127.0.0.1"], ["X-B", "2"], ["X-A", "one "], ["X-B", "3"],
                                           ["Connection", "close"]])
        self.assertEqual(entry["headers"]["X-B"], "3")

    def test_control_and_hash_requests_are_not_logged(self):
        key = unique()
        Client.request(f"/hash/gen/1?k={key}")
        Client.request(f"/_control/counters?k={key}")
        self.assertEqual(Client.log(key), [])


class LifetimeTest(unittest.TestCase):
    def assert_stops(self, proc, info, seconds=5):
        self.assertEqual(proc.wait(seconds), 0)
        self.assertFalse(Path(info["root"]).exists())   # its temporary directory is gone
        proc.stdout.close()
        proc.stdin.close()

    def test_exits_on_stdin_eof(self):
        proc, info = start_server("--exit-on-stdin-eof")
        proc.stdin.close()
        self.assert_stops(proc, info)

    def test_exits_on_sigterm(self):
        proc, info = start_server()
        self.assertEqual(Client.request("/gen/1")[0], 200)
        proc.send_signal(signal.SIGTERM)
        self.assert_stops(proc, info)

    def test_exits_by_itself_after_max_seconds(self):
        proc, info = start_server("--max-seconds", "0.5")
        self.assert_stops(proc, info)

    def test_shutdown_endpoint(self):
        proc, info = start_server()
        conn = Client.connection(port=info["http_port"])
        conn.request("GET", "/_control/shutdown")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()
        self.assert_stops(proc, info)


@unittest.skipUnless(os.environ.get("DOSVC_SERVER_BENCH"), "set DOSVC_SERVER_BENCH=1")
class BenchmarkTest(unittest.TestCase):
    def test_stream_500_mib_through_a_plain_socket(self):
        size = 500 << 20
        began = time.monotonic()
        with socket.create_connection(("127.0.0.1", INFO["http_port"]), 10) as sock:
            sock.sendall(b"GET /gen/500m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            buffer = bytearray(1 << 20)
            total = 0
            while count := sock.recv_into(buffer):
                total += count
        seconds = time.monotonic() - began
        self.assertGreater(total, size)
        print(f"\n/gen/500m: {total} bytes in {seconds:.2f} s "
              f"({total / seconds / 1e6:.0f} MB/s)", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
