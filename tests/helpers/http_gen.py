"""The request generator of the HTTP battery (tests/helpers/http_battery.py).

Gen(token, backup, job, max_body).build() gives the malformed requests, each
with the replies the agent may give (a set of statuses, CLOSED among them
where a close without a reply is right, or ANY4XX where libmicrohttpd
decides); route_expect says what the agent's router answers for a request
that reaches no handler. python3 standard library only.
"""

import random
import urllib.parse

from http_lib import ANY4XX, CLOSED


# ---- the generator -------------------------------------------------------

ROUTES = [
    ("GET", "/healthz", False), ("GET", "/readyz", False),
    ("GET", "/metrics", False), ("GET", "/v1/status", True),
    ("GET", "/v1/backups", True), ("GET", "/v1/backups/{id}", True),
    ("DELETE", "/v1/backups/{id}", True),
    ("GET", "/v1/backups/{id}/archive", True),
    ("GET", "/v1/backups/{id}/metadata", True),
    ("POST", "/v1/backups/{id}/verify", True),
    ("POST", "/v1/backups/{id}/upload", True), ("POST", "/v1/prune", True),
    ("GET", "/v1/offsite/backups", True),
    ("POST", "/v1/offsite/backups/{id}/verify", True),
    ("POST", "/v1/offsite/prune", True),
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
