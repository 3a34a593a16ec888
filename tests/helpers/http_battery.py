#!/usr/bin/env python3
"""Malformed-request battery against a running `quorum-backup-agent serve`.

Used by tests/integration/http_battery.sh; python3 standard library only,
raw sockets. What it does, against an agent on 127.0.0.1 that has one real
backup (and the job that made it):

  * 100 half-open (slowloris) connections from two other loopback
    addresses (127.0.0.2 and 127.0.0.3, 50 each: under the default per-IP
    limit of 64, as a small botnet would stay), each sending a partial
    request a few bytes a second: a third in the request line, a third in
    the headers, a third in a body. Those in the headers or the body are
    held during the whole battery and must then be closed by the agent
    conn_timeout seconds after they opened (the agent bounds the time a
    client has to send a request); those still in the request line,
    idle_timeout seconds after (the time to send a request line).
  * /readyz every 50 ms from 127.0.0.1, in its own process: each answer
    must be 200 (no [node] sections and no restore: the agent is ready)
    and complete within READYZ_LIMIT (2 s): a starved probe is one that
    gets no answer, or one kubelet's probe timeout would miss. The
    latencies are printed (unloaded: a few ms); the bound does not depend
    on the machine's speed, as a bound of 100 ms would with both cores
    busy (seen: 278 ms under ASan with two busy loops).
  * The battery: generated malformed requests (bad methods, unknown paths,
    bad and traversal-like ids, bad query values, huge and broken headers,
    bodies over max_body, chunked and other transfer codings, bad tokens,
    garbage request lines, missing Host), each on its own connection with
    a 5 s limit. Every reply must be 4xx (the exact status where the agent
    decides it), or the connection closed without a reply; never 2xx or
    3xx, never 5xx (save 505 for an HTTP major version other than 1, which
    libmicrohttpd answers by itself as RFC 9110 says), never a hang.
    Requests to mutating routes carry a bad token, a bad parameter or a bad
    body: none may start a job or change a file (the shell script compares
    the trees before and after). The battery runs in rounds for about 5 s
    (--seconds), so that /readyz is watched under it; every reply of every
    round is judged. Two things libmicrohttpd hides from the agent are sent
    only where what it passes on must be refused by itself: a raw NUL in a
    header line (the value ends there) and a header line with an empty
    name (dropped).
  * The per-IP limit: 64 connections from 127.0.0.4 are held, the 65th
    from that address is closed without a reply, and 127.0.0.5 is still
    served (refused, not starved).
  * Idle connections: one that has sent nothing, and one kept alive after
    a reply, are closed by the agent idle_timeout seconds later (not
    conn_timeout): an idle client does not keep its slot.
  * Too many query arguments: 1,000 and 5,000 of them (which libmicrohttpd
    could not record in conn_memory: it closed the connection without a
    reply) get 414 with the agent's JSON error, on both listeners and on
    a mutating route, which starts nothing; 100 are still served.
  * An idle flood: 600 connections from 10 other loopback addresses
    (127.0.0.2 to 127.0.0.11, 60 each: more than max_connections, 512,
    under per_ip_limit, 64), sending nothing, each opened again as soon
    as the agent closes it (0.1 s later when the agent refused it at once,
    over max_connections: a reconnect storm would measure the CPU, not
    the connection slots), for about 10 s. They take every connection of
    the API listener, so /v1/status may go unanswered meanwhile (asked
    about once a second: counted, not judged), but /readyz on the probe
    listener (probe_listen), asked every 50 ms, must answer 200 within
    READYZ_LIMIT throughout; once the flood stops, /v1/status answers
    again.

Prints the figures and exits 0, or prints every failure and exits 1.
"""

import argparse
import multiprocessing
import random
import select
import signal
import socket
import sys
import time
import urllib.parse

HOST = "127.0.0.1"
REQ_TIMEOUT = 5.0          # per battery request
READYZ_EVERY = 0.05
READYZ_LIMIT = 2.0
SLOW_ADDRS = ("127.0.0.2", "127.0.0.3")
SLOW_PER_ADDR = 50
PERIP_ADDR = "127.0.0.4"
OTHER_ADDR = "127.0.0.5"
PER_IP_LIMIT = 64          # the agent's default [agent] per_ip_limit
MAX_RUN = 120.0            # no loop of this program runs longer
FLOOD_ADDRS = tuple("127.0.0.%d" % i for i in range(2, 12))
FLOOD_PER_ADDR = 60        # 600 in all: over max_connections (512)
FLOOD_SECONDS = 10.0
QUERY_ARGS = (1000, 5000)  # libmicrohttpd closed without a reply from ~900
QUERY_ARGS_SERVED = 100    # the agent's own limit: still served
PROBE_TIMEOUT = 5.0        # the probe listener's idle and request timeout

CLOSED = "closed"
ANY4XX = "any4xx"          # libmicrohttpd decides: any 4xx or closed


# ---- one request on its own connection -----------------------------------

def exchange(port, head, body=b"", halfclose=False, timeout=REQ_TIMEOUT,
             source=None):
    """Send head (then body, in pieces, stopping as soon as a reply comes)
    and read one reply. Returns (status or CLOSED or "hang", seconds)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect((HOST, port))
        buf = b""
        try:
            s.sendall(head)
            view = memoryview(body)
            while view:
                r, _, _ = select.select([s], [], [], 0)
                if r:          # an early reply (413, 411...): stop sending
                    break
                n = s.send(view[:16384])
                view = view[n:]
            if halfclose:
                s.shutdown(socket.SHUT_WR)
        except OSError:    # EPIPE, ECONNRESET, ENOTCONN: the agent
            pass           # answered early and closed: read its reply
        head_req = head.startswith(b"HEAD ")
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "hang", time.monotonic() - t0
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return "hang", time.monotonic() - t0
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            st = parse_reply(buf, no_body=head_req)
            if st is not None:
                return st, time.monotonic() - t0
        st = parse_reply(buf, eof=True, no_body=head_req)
        return (st if st is not None else CLOSED), time.monotonic() - t0
    finally:
        s.close()


def parse_reply(buf, eof=False, no_body=False):
    """The status once a whole reply is in buf (headers and Content-Length
    bytes, none after a HEAD), else None; at EOF whatever status line
    there is."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if eof and buf.startswith(b"HTTP/"):
            return int(buf.split(b" ", 2)[1])
        return None
    lines = buf[:end].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise ValueError("not an HTTP reply: %r" % buf[:80])
    status = int(parts[1])
    length = 0
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length" and not no_body:
            length = int(v.strip())
    if len(buf) - (end + 4) >= length or eof:
        return status
    return None


# ---- background processes: readyz monitor, slowloris ---------------------

def readyz_monitor(port, stop, out):
    """Every 50 ms: GET /readyz on a new connection (as a kubelet probe
    does), whole reply within READYZ_LIMIT, status 200. Reports the count, the
    worst and the 99th percentile latency, and the bad answers."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    n, worst, bad, lat = 0, 0.0, [], []
    t_end = time.monotonic() + MAX_RUN
    req = (b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Connection: close\r\n\r\n")
    while not stop.is_set() and time.monotonic() < t_end:
        t_next = time.monotonic() + READYZ_EVERY
        try:
            st, dt = exchange(port, req, timeout=2.0)
        except Exception as e:   # noqa: BLE001 - reported as a failure
            st, dt = "error %s" % e, 0.0
        n += 1
        worst = max(worst, dt)
        lat.append(dt)
        if st != 200 or dt > READYZ_LIMIT:
            bad.append("readyz #%d: %s in %.1f ms" % (n, st, dt * 1000))
        time.sleep(max(0.0, t_next - time.monotonic()))
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0.0
    out.send((n, worst, bad, p99))
    out.close()


def slowloris(port, hold_max, stop, out):
    """100 connections trickling a partial request, a few bytes a second,
    until the agent closes them or hold_max seconds pass. Reports, for each,
    how many seconds after its connect the agent closed it (None: open)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    conns = []
    for i in range(SLOW_PER_ADDR * len(SLOW_ADDRS)):
        src = SLOW_ADDRS[i % len(SLOW_ADDRS)]
        kind = i % 3
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.connect((HOST, port))
        s.setblocking(False)
        if kind == 0:      # the request line, a byte at a time
            first, more = b"GET /hea", b"l"
        elif kind == 1:    # endless headers
            first = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            more = b"X-S: a\r\n"
        else:              # a body that never ends (under max_body)
            first = (b"POST /v1/prune HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Length: 60000\r\n\r\n")
            more = b"abc"
        s.send(first)
        conns.append([s, more, time.monotonic(), None])
    out.send(("opened", len(conns)))
    t0 = time.monotonic()
    while time.monotonic() - t0 < hold_max:
        live = [c for c in conns if c[3] is None]
        if not live:
            break
        for c in live:
            s = c[0]
            try:
                data = s.recv(4096)
                if data == b"":
                    c[3] = time.monotonic() - c[2]
                    continue
                # Any reply to a partial request is wrong: note it.
                c[3] = -(time.monotonic() - c[2])
                continue
            except BlockingIOError:
                pass
            except OSError:
                c[3] = time.monotonic() - c[2]
                continue
            try:
                s.send(c[1])
            except OSError:
                c[3] = time.monotonic() - c[2]
        # Reports on request: how many of those past their request line
        # are open now.
        while out.poll():
            if out.recv() == "count":
                out.send(("open", sum(1 for i, c in enumerate(conns)
                                      if c[3] is None and i % 3)))
        if stop.is_set():
            break
        time.sleep(1.0)
    out.send(("done", [c[3] for c in conns]))
    for c in conns:
        c[0].close()


# ---- the generator -------------------------------------------------------

ROUTES = [
    ("GET", "/healthz", False), ("GET", "/readyz", False),
    ("GET", "/metrics", False), ("GET", "/v1/status", True),
    ("GET", "/v1/backups", True), ("GET", "/v1/backups/{id}", True),
    ("DELETE", "/v1/backups/{id}", True),
    ("GET", "/v1/backups/{id}/archive", True),
    ("GET", "/v1/backups/{id}/metadata", True),
    ("POST", "/v1/backups/{id}/verify", True), ("POST", "/v1/prune", True),
    ("POST", "/v1/archive", True), ("POST", "/v1/unpack", True),
    ("POST", "/v1/rollback", True), ("GET", "/v1/jobs", True),
    ("GET", "/v1/jobs/{id}", True), ("GET", "/v1/history", True),
    ("POST", "/v1/quiesce", True), ("POST", "/v1/resume", True),
    ("POST", "/v1/lease", True), ("DELETE", "/v1/lease", True),
]


def decoded_path(target):
    """The path as the agent sees it: percent-decoded, query cut off; a
    decoded NUL is kept as a character the agent refuses (it does not end
    the path)."""
    path = target.split(b"?", 1)[0]
    return urllib.parse.unquote_to_bytes(path).replace(b"\0", b"\x7f")


def seg_match(pattern, path):
    p = pattern.encode().split(b"/")
    q = path.split(b"/")
    if len(p) != len(q):
        return False
    for a, b in zip(p, q):
        if a == b"{id}":
            if not b or len(b) >= 512:
                return False
        elif a != b:
            return False
    return True


def route_expect(method, target, token_ok):
    """What the agent's router answers for a request it does not route to
    a handler; "FOUND" when it would run one (the caller must then know
    what the handler answers)."""
    path = decoded_path(target)
    known = False
    for m, pat, _ in ROUTES:
        if seg_match(pat, path):
            known = True
            if m.encode() == method:
                return "FOUND"
    if path.startswith(b"/v1/") and not token_ok:
        return {401}
    if known:
        return {405}
    if path.startswith(b"/v1/backups/") or path.startswith(b"/v1/jobs/"):
        return {400}
    return {404}


class Gen:
    def __init__(self, token, backup, job, max_body):
        self.token = token.encode()
        self.backup = backup.encode()
        self.job = job.encode()
        self.max_body = max_body
        self.cases = []
        self.valid_auth = b"Bearer " + self.token

    def add(self, cat, method, target, expect, auth=None, headers=(),
            host=True, version=b"HTTP/1.1", body=b"", raw=None,
            halfclose=False, note=b""):
        if raw is None:
            lines = [method + b" " + target + b" " + version]
            if host:
                lines.append(b"Host: 127.0.0.1")
            if auth is not None:
                lines.append(b"Authorization: " + auth)
            lines.extend(headers)
            head = b"\r\n".join(lines) + b"\r\n\r\n"
        else:
            head = raw
        if expect == "FOUND":
            raise AssertionError("generator: %r %r reaches a handler with "
                                 "no expectation" % (method, target))
        self.cases.append({"cat": cat, "head": head, "body": body,
                           "expect": expect, "halfclose": halfclose,
                           "label": (raw[:60] if raw is not None else
                                     (method + b" " + target)[:100] +
                                     (b" " + note if note else b""))})

    def tokens(self):
        """(label, Authorization value or None, is the valid token)."""
        t = self.token
        return [
            ("none", None, False), ("valid", self.valid_auth, True),
            ("wrong", b"Bearer wrong-token", False),
        ]

    def bad_tokens(self):
        t = self.token
        return [
            None, b"Bearer wrong-token", b"Bearer ", b"Bearer",
            b"Bearer " + t + b"x", b"Bearer " + t[:-1], b"Bearer x" + t,
            b"Bearer " + b"t" * 10240, b"Bearer " + b"A" * 4097,
            "Bearer tök€".encode(), b"Bearer \xff\xfe\xfd",
            b"Basic dXNlcjpwYXNz", b"Basic " + __import__("base64")
            .b64encode(b"agent:" + t), b"Digest username=\"x\"",
            b"Token " + t, t, b"Bearer " + t.upper() + b"Z",
            b"Bearer\t" + t + b"q",
        ]

    def concrete_paths(self):
        b, j = self.backup, self.job
        return [
            b"/healthz", b"/readyz", b"/metrics", b"/v1/status",
            b"/v1/backups", b"/v1/backups/" + b, b"/v1/backups/" + b +
            b"/archive", b"/v1/backups/" + b + b"/verify", b"/v1/prune",
            b"/v1/archive", b"/v1/unpack?backup=" + b, b"/v1/rollback",
            b"/v1/jobs", b"/v1/jobs/" + j, b"/v1/history", b"/v1/quiesce",
            b"/v1/resume", b"/v1/lease?holder=battery",
        ]

    def build(self):
        b, j = self.backup, self.job
        # 1. Methods no route has (any case, garbage tokens), on every path.
        methods = [b"PUT", b"PATCH", b"TRACE", b"OPTIONS", b"PROPFIND",
                   b"MKCOL", b"LOCK", b"BREW", b"get", b"post", b"delete",
                   b"Post", b"DELET", b"POSTT", b"HEAD", b"G@T", b"P*ST",
                   b"X" * 300]
        for m in methods:
            for p in self.concrete_paths():
                for _, auth, ok in self.tokens():
                    self.add("method", m, p, route_expect(m, p, ok), auth)
        for p in (b"/v1/archive", b"/healthz", b"/v1/backups/" + b):
            for m in (b"CONNECT", b"G\x01T", "PÖST".encode()):
                self.add("method", m, p, ANY4XX, self.valid_auth)

        # 2. Unknown paths, with the usual methods and each token.
        unknown = [
            b"/", b"/v1", b"/v1/", b"/v2/status", b"/v1/statuses",
            b"/V1/status", b"/v1/status/", b"/healthz/", b"/healthz/x",
            b"/.env", b"/admin", b"/v1/backups/x/y/z", b"/v1/jobs/",
            b"/v1/lease/x", b"/metrics/../v1/status", b"/%2e%2e/etc/passwd",
            b"/../../etc/passwd", b"//v1//status", b"/v1//backups",
            b"/v1/archive/", b"/v1/archive;x", b"/v1/archive%3Bx",
            b"/v1/archive%00", b"/v1/prune%2F", b"/v1/backups",
            b"/v1/archive/..", b"/v1/./archive", b"/healthz%00/x",
            b"/%00", b"/\\v1\\archive", b"/v1/backups//", b"*",
            b"http://127.0.0.1/v1/archive", b"/" + b"a" * 4000,
            "/v1/ärchive".encode(), b"/v1/%C3%A4rchive",
        ]
        for p in unknown:
            for m in (b"GET", b"POST", b"DELETE"):
                for _, auth, ok in self.tokens():
                    e = route_expect(m, p, ok)
                    if e == "FOUND":
                        continue   # a real route (GET /v1/backups): not bad
                    self.add("path", m, p, e, auth)

        # 3. Bad and traversal-like ids on every route that takes one.
        ids = [
            b"..%2F..%2Fetc", b"..%2F..%2F..%2F..%2Fetc%2Fpasswd",
            b"..%2Fvictim", b"..%2F..%2Fvictim", b"..%2F..%2F..%2Fvictim",
            b"%2e%2e", b"%2E%2E%2F%2E%2E%2Fetc", b"..", b".", b"%2e",
            b"...", b"%00", b"a%00b", b + b"%00", b + b"%00x",
            b + b"%00.tar.zst", b"%2F", b"%2f%2f", b"a%2Fb",
            b + b"%2F..%2F..%2Fvictim", b + b"..", b + b"%2e%2e",
            b"x" * 600, b"9" * 5000, "ü€".encode(), b"%C3%BC", b"%FF%FE",
            b"%", b"%G0", b"%2", b"\\", b"..\\..\\etc", b"%5C..%5C..",
            b + b"\\..", b"%20" + b, b + b"%20", b"%0d%0aX-Injected:%20x",
            b + b".tar.zst", b + b".json", b"LATEST", b"latest%00",
            b"latest.", b"*", b"-1", b"%2e%2e%2fvictim",
            b"..%252F..%252Fetc", b"%u002e%u002e",
        ]
        id_routes = [
            (b"GET", b"/v1/backups/%s", b""),
            (b"DELETE", b"/v1/backups/%s", b"?force=1"),
            (b"GET", b"/v1/backups/%s/archive", b""),
            (b"POST", b"/v1/backups/%s/verify", b""),
        ]
        for i in ids:
            for m, pat, q in id_routes:
                target = pat.replace(b"%s", i) + q
                for _, auth, ok in self.tokens():
                    e = route_expect(m, target, ok)
                    if e == "FOUND":
                        e = {400} if ok else {401}
                    self.add("id", m, target, e, auth)
        job_ids = [b"..", b"%2e%2e", b"..%2F..%2Fetc", b"%00", j + b"%00x",
                   j + b"%00", b"j" * 65, b"jT0%2F..", b"j-<x>", b"j;1",
                   b"%6a%2e", j + b"x", b"*", "jü".encode(), b"j%20"]
        for i in job_ids:
            for q in (b"", b"?wait=1"):
                target = b"/v1/jobs/" + i + q
                for _, auth, ok in self.tokens():
                    e = route_expect(b"GET", target, ok)
                    if e == "FOUND":
                        e = {400} if ok else {401}
                    self.add("id", b"GET", target, e, auth)

        # 4. Bad query values, with the valid token (the value must be the
        # refusal) and a wrong one. Every value of a repeated parameter is
        # bad, whichever the agent reads.
        waits = [b"-1", b"-0.5", b"3601", b"1e999", b"-1e999", b"abc",
                 b"nan", b"NaN", b"inf", b"-inf", b"", b"1s", b"%00",
                 b"1%00", b"10abc", b"99999999999999999999", b"--1",
                 b"1%201", b"1,5", b"%FF", b"1e", b"0x",
                 b"abc&wait=-1", b"-1&wait=abc"]
        jobroutes = [b"/v1/archive?", b"/v1/prune?", b"/v1/rollback?",
                     b"/v1/resume?", b"/v1/backups/" + b + b"/verify?",
                     b"/v1/unpack?backup=" + b + b"&"]
        for w in waits:
            for r in jobroutes:
                for auth, e in ((self.valid_auth, {400}),
                                (b"Bearer wrong-token", {401})):
                    self.add("query", b"POST", r + b"wait=" + w, e, auth)
            self.add("query", b"GET", b"/v1/jobs/" + j + b"?wait=" + w,
                     {400}, self.valid_auth)
        bools = [b"maybe", b"2", b"yes", b"TRUE", b"", b"on", b"-1",
                 b"1%00", b"%00", b"1x", b"maybe&force=yes"]
        for v in bools:
            for auth, e in ((self.valid_auth, {400}),
                            (None, {401})):
                self.add("query", b"DELETE",
                         b"/v1/backups/" + b + b"?force=" + v, e, auth)
                self.add("query", b"POST", b"/v1/unpack?backup=" + b +
                         b"&force=" + v, e, auth)
                self.add("query", b"POST", b"/v1/unpack?backup=" + b +
                         b"&force=1&in_place=" + v, e, auth)
                self.add("query", b"POST", b"/v1/archive?quiesce=" + v,
                         e, auth)
                self.add("query", b"GET", b"/v1/status?fresh=" + v,
                         e, auth)
        backups = [b"../x", b"..%2Fx", b"", b"%00", b + b"%00",
                   b"..%2F..%2Fvictim", b"x" * 300, b"/etc/passwd",
                   b"..&backup=..%2Fx", b"LATEST"]
        for v in backups:
            for auth, e in ((self.valid_auth, {400}), (None, {401})):
                self.add("query", b"POST", b"/v1/unpack?backup=" + v, e,
                         auth)
        self.add("query", b"POST", b"/v1/unpack", {400}, self.valid_auth)
        for v in (b"0", b"-1", b"604801", b"99999999999999999999", b"1.5",
                  b"abc", b"", b"1%00"):
            for auth, e in ((self.valid_auth, {400}), (None, {401})):
                self.add("query", b"POST", b"/v1/quiesce?hold=" + v, e,
                         auth)
        holders = [b"", b"bad!name", b"a%20b", b"x" * 129, b"%00",
                   b"ctl%00evil", "ctlü".encode(), b"a/b", b"..%2F"]
        for v in holders:
            for auth, e in ((self.valid_auth, {400}), (None, {401})):
                self.add("query", b"POST", b"/v1/lease?holder=" + v +
                         b"&ttl=60", e, auth)
        for v in (b"0", b"-1", b"86401", b"abc", b"", b"1.5", b"60%00"):
            for auth, e in ((self.valid_auth, {400}), (None, {401})):
                self.add("query", b"POST", b"/v1/lease?holder=battery"
                         b"&ttl=" + v, e, auth)
        self.add("query", b"POST", b"/v1/lease", {400}, self.valid_auth)

        # 5. Every bad token on every authenticated route, the request
        # otherwise well formed: the token is the only refusal.
        authed = [
            (b"POST", b"/v1/archive"), (b"POST", b"/v1/prune"),
            (b"POST", b"/v1/rollback"), (b"POST", b"/v1/resume"),
            (b"POST", b"/v1/unpack?backup=" + b),
            (b"DELETE", b"/v1/backups/" + b + b"?force=1"),
            (b"POST", b"/v1/backups/" + b + b"/verify"),
            (b"POST", b"/v1/lease?holder=battery&ttl=60"),
            (b"DELETE", b"/v1/lease?holder=battery"),
            (b"POST", b"/v1/quiesce"), (b"GET", b"/v1/status"),
            (b"GET", b"/v1/backups"), (b"GET", b"/v1/backups/" + b),
            (b"GET", b"/v1/backups/" + b + b"/archive"),
            (b"GET", b"/v1/jobs"), (b"GET", b"/v1/jobs/" + j),
            (b"GET", b"/v1/history"),
        ]
        t_valid = self.token
        for m, p in authed:
            for t in self.bad_tokens():
                self.add("token", m, p, {401}, t)
            # Two Authorization headers: refused as malformed, whichever
            # of them holds the token.
            self.add("token", m, p, {400}, b"Bearer wrong",
                     headers=[b"Authorization: Basic eDp5"])
            self.add("token", m, p, {400}, b"Bearer " + t_valid,
                     headers=[b"Authorization: Bearer wrong"])
            # Two lease holders named: refused as malformed too.
            self.add("token", m, p, {400}, b"Bearer " + t_valid,
                     headers=[b"X-Quorum-Backup-Holder: a",
                              b"X-Quorum-Backup-Holder: b"])
            # Header lines libmicrohttpd cuts at a NUL or drops (an empty
            # name): what it keeps must be refused on its own.
            self.add("token", m, p, {401}, b"Bearer wrong\0" + t_valid,
                     note=b"NUL")
            self.add("token", m, p, {401}, None,
                     headers=[b"X-Nul: a\0b"], note=b"NUL")
            self.add("token", m, p, {401}, None,
                     headers=[b": " + self.valid_auth], note=b"no name")

        # 6. Headers: too large, too many, broken, Host missing or twice.
        hdr_routes = [(b"POST", b"/v1/archive"),
                      (b"DELETE", b"/v1/backups/" + b + b"?force=1"),
                      (b"POST", b"/v1/prune"), (b"GET", b"/healthz"),
                      (b"GET", b"/readyz"), (b"GET", b"/v1/status")]
        big = [
            ([b"X-Big: " + b"a" * 65536], {431}),
            ([b"X-H%d: v" % i for i in range(1000)], {431}),
            ([b"X-H%d: %s" % (i, b"v" * 700) for i in range(100)], {431}),
            ([b"X" * 70000 + b": v"], {431}),
            ([b"Cookie: " + b"c=" * 40000], {431}),
        ]
        broken = [
            ([b"X-A : space-before-colon"], {400}),
            ([b"no-colon-here"], {400}),
            ([b"H\xc3\xa9: non-ascii-name"], {400}),
            ([b"X(A): bad-token-char"], {400}),
            ([b"Host: second.example"], {400}),
        ]
        for m, p in hdr_routes:
            for auth in (self.valid_auth, None):
                for hs, e in big + broken:
                    self.add("header", m, p, e, auth, headers=hs,
                             note=hs[0][:30])
                self.add("header", m, p, {400}, auth, host=False,
                         note=b"no Host")

        # 7. Bodies: over max_body (413), and transfer codings: the API
        # takes no body, and a coding other than a Content-Length is
        # refused before it is read (411).
        over = self.max_body + 1
        body_routes = [(b"POST", b"/v1/archive", None),
                       (b"POST", b"/v1/archive", b"Bearer wrong"),
                       (b"POST", b"/v1/archive?wait=abc", self.valid_auth),
                       (b"DELETE", b"/v1/backups/" + b + b"?force=1", None),
                       (b"POST", b"/v1/prune", b"Bearer wrong"),
                       (b"GET", b"/v1/status", self.valid_auth),
                       (b"GET", b"/healthz", None)]

        def chunked(n, size=10000):
            out = b""
            while n > 0:
                k = min(n, size)
                out += b"%x\r\n" % k + b"x" * k + b"\r\n"
                n -= k
            return out + b"0\r\n\r\n"
        te = b"Transfer-Encoding: "
        for m, p, auth in body_routes:
            for n in (over, 200000, 1000000):
                self.add("body", m, p, {413}, auth,
                         headers=[b"Content-Length: %d" % n],
                         body=b"x" * n)
            for cl in (b"1000000000000", b"99999999999999999999999"):
                self.add("body", m, p, {413}, auth,
                         headers=[b"Content-Length: " + cl])
            for cl in (b"abc", b"-1", b"1 2", b"0x10", b""):
                self.add("body", m, p, {400}, auth,
                         headers=[b"Content-Length: " + cl])
            self.add("body", m, p, {400}, auth,
                     headers=[b"Content-Length: 0",
                              b"Content-Length: 100000"])
            codings = [
                (b"chunked", chunked(200000)), (b"chunked", chunked(10)),
                (b"chunked", b"XYZ\r\nabc\r\n0\r\n\r\n"),
                (b"chunked", b"-5\r\nabc\r\n0\r\n\r\n"),
                (b"chunked", b"FFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"),
                (b"chunked", b"3;" + b"e" * 70000 + b"\r\nabc\r\n0\r\n\r\n"),
                (b"chunked", b"0\r\n" + b"X-T: a\r\n" * 3000 + b"\r\n"),
                (b"gzip", b"abc"), (b"identity", b""),
                (b"gzip, chunked", chunked(3)),
                (b"chunked, gzip", chunked(3)), (b"Chunked", chunked(3)),
                (b"chunkedx", chunked(3)), (b"", b""),
            ]
            for coding, data in codings:
                self.add("body", m, p, {411}, auth,
                         headers=[te + coding], body=data, note=coding)
            self.add("body", m, p, {411}, auth,
                     headers=[b"Content-Length: 3", te + b"chunked"],
                     body=chunked(3))
            # Incomplete bodies, then the client half-closes: the agent
            # must close, not wait.
            self.add("body", m, p, {CLOSED, 400}, auth,
                     headers=[b"Content-Length: 100"], body=b"abc",
                     halfclose=True)

        # 8. Request lines: HTTP/0.9, garbage, bad versions, no Host.
        lines = [
            b"GET /\r\n", b"GET /healthz\r\n\r\n", b"POST /v1/archive\r\n\r\n",
            b"GET /v1/backups/" + b + b"\r\n\r\n", b"\r\n\r\n",
            b"\r\n" * 1000, b"GET\r\n\r\n", b"GET  HTTP/1.1\r\n\r\n",
            b" / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n",
            b"get /healthz http/1.1\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/1.x\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTPS/1.1\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/11\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/1.1.1\r\nHost: x\r\n\r\n",
            b"GET /healthz HTTP/ 1.1\r\nHost: x\r\n\r\n",
            b"POST /v1/archive\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /v1/archive?" + b"q=1&" * 20000 + b" HTTP/1.1\r\n\r\n",
            bytes.fromhex("16030100a5010000a10303") + b"\0" * 160,
            b"\x00\x01\x02\x03\r\n\r\n", b"\xff" * 100 + b"\r\n\r\n",
        ]
        for ln in lines:
            self.add("line", b"", b"", ANY4XX, raw=ln, halfclose=True)
        for v in (b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0", b"HTTP/9.9"):
            for p in (b"/healthz", b"/v1/archive"):
                self.add("version", b"POST" if p == b"/v1/archive" else
                         b"GET", p, {505, 400}, b"Bearer wrong", version=v)
        self.add("version", b"", b"", {505, 400, CLOSED},
                 raw=b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", halfclose=True)
        rng = random.Random(7)
        for k in range(60):
            n = rng.choice((1, 5, 40, 300, 2000))
            junk = bytes(rng.randrange(256) for _ in range(n))
            self.add("line", b"", b"", ANY4XX, raw=junk + b"\r\n\r\n",
                     halfclose=True)
        # HTTP/1.0 needs no Host; an HTTP/1.1 request does (RFC 9112 3.2).
        for m, p in ((b"GET", b"/healthz"), (b"GET", b"/metrics"),
                     (b"POST", b"/v1/archive"), (b"GET", b"/v1/status")):
            for auth in (None, self.valid_auth):
                self.add("line", m, p, {400}, auth, host=False)
        return self.cases


# ---- the battery ---------------------------------------------------------

def judge(case, got):
    """None when the reply is acceptable, else why not."""
    e = case["expect"]
    if got == "hang":
        return "no reply and not closed within %.0f s" % REQ_TIMEOUT
    if got == CLOSED:
        if e == ANY4XX or CLOSED in e:
            return None
        return "closed without a reply, expected %s" % sorted(e)
    if 200 <= got < 400:
        return "%d: a success for a bad request" % got
    if got >= 500 and not (got == 505 and isinstance(e, set) and 505 in e):
        return "%d: a server error" % got
    if e == ANY4XX:
        return None if 400 <= got < 500 else "%d" % got
    if got not in e:
        return "%d, expected %s" % (got, sorted(x for x in e if x != CLOSED))
    return None


def run_battery(port, cases, workers):
    import concurrent.futures
    results = [None] * len(cases)

    def one(i):
        c = cases[i]
        try:
            st, dt = exchange(port, c["head"], c["body"], c["halfclose"])
        except Exception as e:   # noqa: BLE001 - reported as a failure
            st, dt = "error %s" % e, 0.0
        results[i] = (st, dt)
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        list(ex.map(one, range(len(cases))))
    return results


def per_ip_check(port):
    """64 connections from one address held; the 65th is refused (closed
    without a reply); another address is served meanwhile."""
    held, problems = [], []
    try:
        for _ in range(PER_IP_LIMIT):
            s = socket.socket()
            s.bind((PERIP_ADDR, 0))
            s.connect((HOST, port))
            s.sendall(b"GET /hea")          # a request that never ends
            held.append(s)
        time.sleep(0.5)                    # the agent has accepted them all
        req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        st, dt = exchange(port, req, timeout=3.0, source=PERIP_ADDR)
        if st != CLOSED:
            problems.append("connection %d from %s: %s (expected refused)"
                            % (PER_IP_LIMIT + 1, PERIP_ADDR, st))
        refused_in = dt
        st, dt2 = exchange(port, req, timeout=3.0, source=OTHER_ADDR)
        if st != 200:
            problems.append("%s while %s held %d: %s" % (
                OTHER_ADDR, PERIP_ADDR, PER_IP_LIMIT, st))
    finally:
        for s in held:
            s.close()
    # The address is served again once its connections are gone.
    t_end = time.monotonic() + 5
    while True:
        st, _ = exchange(port, req, timeout=3.0, source=PERIP_ADDR)
        if st == 200 or time.monotonic() > t_end:
            break
        time.sleep(0.1)
    if st != 200:
        problems.append("%s not served again after its connections closed:"
                        " %s" % (PERIP_ADDR, st))
    return refused_in, dt2, problems


# ---- idle connections, query arguments, the probe listener ---------------

def fetch(port, req, timeout=5.0):
    """One request on its own connection: (status, body) once the whole
    reply is in, (CLOSED, b"") if the connection closed without one,
    ("hang", b"") after timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    buf = b""
    try:
        s.connect((HOST, port))
        try:
            s.sendall(req)
        except OSError:
            pass           # answered early and closed: read the reply
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "hang", b""
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return "hang", b""
            except ConnectionResetError:
                chunk = b""
            buf += chunk
            st = parse_reply(buf, eof=not chunk)
            if st is not None:
                end = buf.find(b"\r\n\r\n")
                return st, (buf[end + 4:] if end >= 0 else b"")
            if not chunk:
                return CLOSED, b""
    except OSError as e:
        return "error %s" % e, b""
    finally:
        s.close()


def closed_after(port, first):
    """Seconds until the agent closes a connection on which the client
    sent first (and read its reply, if first is a request), then nothing."""
    s = socket.create_connection((HOST, port))
    s.settimeout(MAX_RUN)
    try:
        if first:
            s.sendall(first)
            buf = b""
            while parse_reply(buf) is None:
                chunk = s.recv(65536)
                if not chunk:
                    return 0.0
                buf += chunk
        t0 = time.monotonic()
        try:
            while s.recv(65536):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
        return time.monotonic() - t0
    finally:
        s.close()


def idle_check(port, probe_port, idle, conn_timeout):
    """A connection that sent nothing, and one kept alive after a reply,
    are closed idle seconds later (and not much before): not after
    conn_timeout."""
    import concurrent.futures
    problems, got = [], {}
    keep = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    checks = {"api, nothing sent": (port, None),
              "api, kept alive after a reply": (port, keep),
              "probe, kept alive after a reply": (probe_port, keep)}
    with concurrent.futures.ThreadPoolExecutor(len(checks)) as ex:
        futs = {k: ex.submit(closed_after, p, f) for k, (p, f) in
                checks.items()}
        for k, f in futs.items():
            got[k] = f.result()
    for k, t in got.items():
        limit = idle if k.startswith("api") else PROBE_TIMEOUT
        if not limit - 1 <= t <= limit + 2:
            problems.append("idle connection (%s) closed after %.1f s, not "
                            "about %.0f s (idle_timeout; conn_timeout is "
                            "%.0f s)" % (k, t, limit, conn_timeout))
    return got, problems


def query_args_check(port, probe_port, token):
    """Too many query arguments: 414 with the agent's JSON error, never a
    close; under the limit, served."""
    import json
    problems, seen = [], []
    auth = b"Authorization: Bearer " + token.encode() + b"\r\n"

    def req(method, path, n, extra=b""):
        q = b"&".join(b"a%d=1" % i for i in range(n))
        return (method + b" " + path + (b"&" if b"?" in path else b"?") + q +
                b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                extra + b"\r\n")
    for n in QUERY_ARGS:
        for p, method, path, extra in (
                (port, b"GET", b"/v1/status", auth),
                (port, b"GET", b"/v1/status", b""),
                (port, b"GET", b"/healthz", b""),
                (port, b"POST", b"/v1/archive?wait=5", auth),
                (probe_port, b"GET", b"/readyz", b"")):
            st, body = fetch(p, req(method, path, n, extra))
            what = "%s %s with %d arguments%s%s" % (
                method.decode(), path.decode(), n,
                " (token)" if extra else "",
                " (probe listener)" if p == probe_port else "")
            seen.append(st)
            if st != 414:
                problems.append("%s: %s, expected 414" % (what, st))
                continue
            try:
                code = json.loads(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = None
            if code != "too_many_arguments":
                problems.append("%s: 414 without the JSON error: %r" %
                                (what, body[:120]))
    for p, path in ((port, b"/healthz"), (probe_port, b"/metrics")):
        st, _ = fetch(p, req(b"GET", path, QUERY_ARGS_SERVED))
        if st != 200:
            problems.append("GET %s with %d arguments: %s, expected 200" %
                            (path.decode(), QUERY_ARGS_SERVED, st))
    return seen, problems


def idle_flood(port, seconds, stop, out):
    """600 connections that send nothing, from 10 addresses, each opened
    again as soon as the agent closes it (0.1 s later if the agent closed
    it at once: refused), for `seconds` (or until stop). Reports how many
    were opened, how many refused, and how long the agent kept the
    others."""
    import errno
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    poller = select.poll()
    conns, pending = {}, []
    opened, refused, errors, lifetimes = 0, 0, [], []

    def open_one(addr):
        nonlocal opened
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((addr, 0))
            rc = s.connect_ex((HOST, port))
        except OSError as e:
            rc = e.errno
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            errors.append("connect from %s: %s" % (addr, os_error(rc)))
            return
        conns[s.fileno()] = (s, addr, time.monotonic())
        poller.register(s.fileno(), select.POLLIN)
        opened += 1

    t0 = time.monotonic()
    for i in range(FLOOD_PER_ADDR * len(FLOOD_ADDRS)):
        open_one(FLOOD_ADDRS[i % len(FLOOD_ADDRS)])
    out.send(("opened", len(conns)))
    while (time.monotonic() - t0 < min(seconds, MAX_RUN) and
           not stop.is_set() and len(errors) < 20):
        for fd, _ in poller.poll(20):
            s, addr, t_open = conns.pop(fd)
            poller.unregister(fd)
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            s.close()
            if data:
                errors.append("a reply to a connection that sent nothing: "
                              "%r" % data[:60])
            now = time.monotonic()
            if now - t_open < 0.5:
                refused += 1
                pending.append((now + 0.1, addr))
            else:
                lifetimes.append(now - t_open)
                open_one(addr)
        now = time.monotonic()
        due = [addr for t, addr in pending if t <= now]
        pending = [(t, addr) for t, addr in pending if t > now]
        for addr in due:
            open_one(addr)
    left = len(conns)
    for s, _, _ in conns.values():
        s.close()
    out.send(("done", opened, refused, left, lifetimes, errors))
    out.close()


def os_error(rc):
    import os
    return os.strerror(rc) if isinstance(rc, int) else str(rc)


def flood_check(port, probe_port, token, agent_pid):
    """The idle flood against the API listener; /readyz on the probe
    listener watched throughout; /v1/status on the API listener counted
    meanwhile and required after."""
    problems = []
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    r_parent, r_child = ctx.Pipe()
    f_parent, f_child = ctx.Pipe()
    mon = ctx.Process(target=readyz_monitor, args=(probe_port, stop, r_child),
                      daemon=True)
    flood = ctx.Process(target=idle_flood,
                        args=(port, FLOOD_SECONDS, stop, f_child),
                        daemon=True)
    status = (b"GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Authorization: Bearer " + token.encode() +
              b"\r\nConnection: close\r\n\r\n")
    mon.start()
    flood.start()
    opened = f_parent.recv()[1] if f_parent.poll(30) else 0
    t0 = time.monotonic()
    during = {}
    peak_rss = peak_threads = 0
    done = None
    while done is None and time.monotonic() - t0 < FLOOD_SECONDS + 30:
        st, _ = fetch(port, status, timeout=0.5)
        during[st] = during.get(st, 0) + 1
        rss, threads = proc_status(agent_pid)
        peak_rss, peak_threads = max(peak_rss, rss), max(peak_threads,
                                                         threads)
        if f_parent.poll(0.5):
            done = f_parent.recv()
    if done is None:
        problems.append("the flood did not end")
        done = ("done", 0, 0, 0, [], [])
    _, total, refused, left, lifetimes, errors = done
    flood.join(5)
    # Once the flood stops, the API listener answers again.
    t_stop = time.monotonic()
    st = None
    while time.monotonic() - t_stop < 15:
        st, _ = fetch(port, status, timeout=2.0)
        if st == 200:
            break
        time.sleep(0.2)
    back_in = time.monotonic() - t_stop
    if st != 200:
        problems.append("/v1/status after the flood: %s for %.0f s" %
                        (st, back_in))
    stop.set()
    mon.join(5)
    readyz = r_parent.recv() if r_parent.poll(5) else None
    for p in (mon, flood):
        if p.is_alive():
            p.terminate()
    if opened != FLOOD_PER_ADDR * len(FLOOD_ADDRS):
        problems.append("the flood opened %d of %d connections" % (
            opened, FLOOD_PER_ADDR * len(FLOOD_ADDRS)))
    problems += errors[:10]
    if readyz is None:
        problems.append("the probe listener's readyz monitor did not report")
        readyz = (0, 0.0, [], 0.0)
    n, worst, bad, p99 = readyz
    if n < 100:
        problems.append("only %d readyz probes on the probe listener" % n)
    problems += ["probe listener " + b for b in bad[:20]]
    if len(bad) > 20:
        problems.append("probe listener: ... and %d more bad readyz" %
                        (len(bad) - 20))
    lifetimes.sort()
    kept = ("%.1f-%.1f s (median %.1f)" % (
        lifetimes[0], lifetimes[-1], lifetimes[len(lifetimes) // 2])
        if lifetimes else "-")
    return {"opened": opened, "total": total, "refused": refused,
            "left": left, "kept": kept,
            "during": during, "back_in": back_in, "readyz": readyz,
            "rss": peak_rss, "threads": peak_threads}, problems


def proc_status(pid):
    """VmRSS (KiB) and Threads of a process, 0 when unknown."""
    rss = threads = 0
    if not pid:
        return 0, 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    rss = int(ln.split()[1])
                elif ln.startswith("Threads:"):
                    threads = int(ln.split()[1])
    except OSError:
        pass
    return rss, threads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--backup", required=True)
    ap.add_argument("--job", required=True)
    ap.add_argument("--max-body", type=int, default=65536)
    ap.add_argument("--conn-timeout", type=float, required=True)
    ap.add_argument("--idle-timeout", type=float, required=True)
    ap.add_argument("--probe-port", type=int, required=True)
    ap.add_argument("--agent-pid", type=int, default=0)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--min-cases", type=int, default=1000)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with open(a.token_file) as f:
        token = f.read().strip()
    failures = []

    cases = Gen(token, a.backup, a.job, a.max_body).build()
    if len(cases) < a.min_cases:
        failures.append("only %d cases generated" % len(cases))

    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    r_parent, r_child = ctx.Pipe()
    s_parent, s_child = ctx.Pipe()
    mon = ctx.Process(target=readyz_monitor, args=(a.port, stop, r_child),
                      daemon=True)
    slow = ctx.Process(target=slowloris,
                       args=(a.port, a.conn_timeout + 15, stop, s_child),
                       daemon=True)
    mon.start()
    slow.start()
    if not s_parent.poll(10):
        failures.append("the slowloris connections did not open")
        kind, opened = None, 0
    else:
        kind, opened = s_parent.recv()
    t_slow = time.monotonic()

    # Rounds of the whole battery for about --seconds (at least one, at
    # most 10), so that /readyz is watched over a few seconds of it; every
    # reply of every round is judged.
    t0 = time.monotonic()
    results, rounds = [], 0
    while rounds < 10 and (rounds == 0 or
                           time.monotonic() - t0 < a.seconds):
        results += run_battery(a.port, cases, a.workers)
        rounds += 1
    t_battery = time.monotonic() - t0

    # The slowloris connections must all still be open: held through the
    # battery (it has to end before conn_timeout, or the check is void).
    s_parent.send("count")
    open_after, closes = None, None
    while s_parent.poll(5):
        msg = s_parent.recv()
        if msg[0] == "open":
            open_after = msg[1]
            break
        if msg[0] == "done":
            closes = msg[1]
            open_after = sum(1 for i, c in enumerate(closes)
                             if c is None and i % 3)
            break
    held_for = time.monotonic() - t_slow
    past_line = sum(1 for i in range(SLOW_PER_ADDR * len(SLOW_ADDRS)) if i % 3)
    if held_for >= a.conn_timeout - 1:
        failures.append("the battery took %.1f s, not under conn_timeout "
                        "(%.0f s) - 1: raise conn_timeout" %
                        (held_for, a.conn_timeout))
    if open_after != past_line or opened != SLOW_PER_ADDR * len(SLOW_ADDRS):
        failures.append("slowloris: %s of the %s connections past their "
                        "request line (of %s) open after the battery "
                        "(%.1f s)" % (open_after, past_line, opened,
                                      held_for))

    refused_in, other_dt, problems = per_ip_check(a.port)
    failures += problems

    # Then the agent must close them: conn_timeout after each opened.
    t_end = time.monotonic() + a.conn_timeout + 20
    while closes is None and time.monotonic() < t_end:
        if not s_parent.poll(1):
            continue
        msg = s_parent.recv()
        if msg[0] == "done":
            closes = msg[1]
            break
    stop.set()
    mon.join(5)
    readyz = r_parent.recv() if r_parent.poll(5) else None
    slow.join(5)
    for p in (mon, slow):
        if p.is_alive():
            p.terminate()

    # The verdicts.
    by_class, bad, nbad, closed_by = {}, {}, 0, {}
    for c, (st, dt) in zip(cases * rounds, results):
        key = st if isinstance(st, int) else str(st)
        by_class[key] = by_class.get(key, 0) + 1
        if st == CLOSED:
            closed_by[c["cat"]] = closed_by.get(c["cat"], 0) + 1
        why = judge(c, st) if isinstance(st, int) or st in (
            CLOSED, "hang") else "client error: %s" % st
        if why:
            nbad += 1
            line = "[%s] %r: %s" % (c["cat"], c["label"], why)
            if line not in bad.setdefault(c["cat"], []):
                bad[c["cat"]].append(line)
    for cat, lines in sorted(bad.items()):   # a few of each kind
        failures += lines[:12]
        if len(lines) > 12:
            failures.append("[%s] ... and %d more" % (cat, len(lines) - 12))
    if nbad:
        failures.append("%d of %d requests got a bad reply" % (nbad,
                                                               len(results)))

    if readyz is None:
        failures.append("the readyz monitor did not report")
        readyz = (0, 0.0, [], 0.0)
    n_ready, worst, ready_bad, ready_p99 = readyz
    if n_ready < 20:
        failures.append("only %d readyz probes" % n_ready)
    failures += ready_bad[:20]

    if closes is None:
        failures.append("slowloris: the agent did not close the slow "
                        "connections within conn_timeout + 20 s")
        closes = []
    closed_at = {}
    for limit, name, sel in ((a.idle_timeout, "idle_timeout", 0),
                             (a.conn_timeout, "conn_timeout", 1)):
        mine = [c for i, c in enumerate(closes) if (i % 3 != 0) == sel]
        early = [c for c in mine if c is not None and 0 <= c < limit - 1]
        late = [c for c in mine if c is None or c > limit + 3]
        if early:
            failures.append("slowloris: %d closed before %s (%.1f s)"
                            % (len(early), name, min(early)))
        if late:
            failures.append("slowloris: %d not closed by %s + 3 s"
                            % (len(late), name))
        closed_at[name] = sorted(c for c in mine if c is not None and c >= 0)
    answered = [c for c in closes if c is not None and c < 0]
    if answered:
        failures.append("slowloris: %d got a reply to a partial request"
                        % len(answered))

    # Then what holds connections without sending, on a quiet agent.
    idle_got, problems = idle_check(a.port, a.probe_port, a.idle_timeout,
                                    a.conn_timeout)
    failures += problems
    args_seen, problems = query_args_check(a.port, a.probe_port, token)
    failures += problems
    fl, problems = flood_check(a.port, a.probe_port, token, a.agent_pid)
    failures += problems

    cats = {}
    for c in cases:
        cats[c["cat"]] = cats.get(c["cat"], 0) + 1
    print("battery: %d malformed requests (%s), %d rounds: %d sent in %.1f s,"
          " %d at a time" % (
              len(cases), ", ".join("%s %d" % kv for kv in
                                    sorted(cats.items())),
              rounds, len(results), t_battery, a.workers))
    print("replies: " + ", ".join(
        "%s %d" % (k, v) for k, v in sorted(by_class.items(),
                                           key=lambda kv: str(kv[0]))))
    print("closed without a reply, by kind: " + ", ".join(
        "%s %d" % kv for kv in sorted(closed_by.items())))
    print("readyz: %d probes every %d ms, max latency %.1f ms, p99 %.1f ms "
          "(limit %d ms), %d bad" % (n_ready, READYZ_EVERY * 1000,
                                     worst * 1000, ready_p99 * 1000,
                                     READYZ_LIMIT * 1000, len(ready_bad)))
    def span(xs):
        return "%.1f-%.1f" % (xs[0], xs[-1]) if xs else "-"
    print("slowloris: %s connections from %s, %s past their request line "
          "held during the battery (%s open after %.1f s) and closed by the "
          "agent %s s after opening (conn_timeout %.0f s); those still in "
          "the request line closed %s s after opening (idle_timeout %.0f s)"
          % (opened, "+".join(SLOW_ADDRS), past_line, open_after, held_for,
             span(closed_at["conn_timeout"]), a.conn_timeout,
             span(closed_at["idle_timeout"]), a.idle_timeout))
    print("per-IP limit: %d held from %s; connection %d refused in %.0f ms;"
          " %s served in %.1f ms meanwhile" % (
              PER_IP_LIMIT, PERIP_ADDR, PER_IP_LIMIT + 1, refused_in * 1000,
              OTHER_ADDR, other_dt * 1000))
    print("idle connections closed by the agent after: " + ", ".join(
        "%s %.1f s" % kv for kv in idle_got.items()) +
        " (idle_timeout %.0f s, conn_timeout %.0f s)" % (a.idle_timeout,
                                                         a.conn_timeout))
    print("query arguments %s: replies %s; %d still served" % (
        "/".join("%d" % n for n in QUERY_ARGS),
        ", ".join(str(x) for x in args_seen), QUERY_ARGS_SERVED))
    n, worst, bad, p99 = fl["readyz"]
    print("idle flood: %d connections from %d addresses (%d per address), "
          "%d opened in %.0f s, %d refused at once, the others kept by the "
          "agent %s; /v1/status meanwhile: %s; answered again %.1f s after "
          "the flood; agent peak RSS %d MiB, %d threads" % (
              fl["opened"], len(FLOOD_ADDRS), FLOOD_PER_ADDR, fl["total"],
              FLOOD_SECONDS, fl["refused"], fl["kept"],
              ", ".join("%s %d" % (k, v) for k, v in
                        sorted(fl["during"].items(), key=lambda kv:
                               str(kv[0]))),
              fl["back_in"], fl["rss"] // 1024, fl["threads"]))
    print("probe listener readyz during the flood: %d probes every %d ms, "
          "max latency %.1f ms, p99 %.1f ms (limit %d ms), %d bad" % (
              n, READYZ_EVERY * 1000, worst * 1000, p99 * 1000,
              READYZ_LIMIT * 1000, len(bad)))
    if failures:
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
