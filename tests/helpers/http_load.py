#!/usr/bin/env python3
"""The sidecar's load check, for tests/integration/load.sh (python3 standard
library only, raw sockets, keep-alive).

Open loop: request i is due at start + i / rate, whatever the earlier ones
did; a pool of keep-alive connections takes them in turn. The mix is
GET /readyz, GET /v1/status (with the token) and GET /metrics, one after
the other. Every reply must be 200: the agent has no [node] sections and
runs no restore, so /readyz is 200 (503 would be wrong here). Meanwhile
archive jobs run back to back (POST /v1/archive without wait; the next one
as soon as the last ended), so that an archive runs through the whole
window; each must succeed.

Prints the figures; exits 1 on any error (a status other than 200, a reply
later than 2 s, a broken connection), an achieved rate under --min-rate, or
archives that did not cover the window.
"""

import argparse
import json
import queue
import signal
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
REPLY_LIMIT = 2.0


class Conn:
    """One keep-alive connection; request() returns (status, body)."""

    def __init__(self, port):
        self.port = port
        self.s = None
        self.buf = b""

    def connect(self):
        self.s = socket.create_connection((HOST, self.port), timeout=REPLY_LIMIT)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        if self.s:
            self.s.close()
        self.s = None

    def request(self, raw, deadline):
        if self.s is None:
            self.connect()
        self.s.sendall(raw)
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = self.buf[:end].split(b"\r\n")
                status = int(head[0].split(b" ", 2)[1])
                length = 0
                for ln in head[1:]:
                    k, _, v = ln.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                if len(self.buf) >= end + 4 + length:
                    body = self.buf[end + 4:end + 4 + length]
                    self.buf = self.buf[end + 4 + length:]
                    return status, body
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply within %.0f s" % REPLY_LIMIT)
            self.s.settimeout(left)
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the agent")
            self.buf += chunk


def simple(port, method, path, token, timeout=70.0):
    """One request on its own connection (the archive driver's)."""
    c = Conn(port)
    c.connect()
    try:
        raw = ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
               "%s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % (
                   method, path, token)).encode()
        c.s.settimeout(timeout)
        st, body = c.request(raw, time.monotonic() + timeout)
        return st, json.loads(body)
    finally:
        c.close()


def archive_driver(port, token, window, out, stop):
    """Archives back to back until the window ends; out gets the jobs as
    (id, start, end, state), times on the monotonic clock."""
    jobs, errors = [], []
    out["jobs"], out["errors"] = jobs, errors
    try:
        drive(port, token, window, jobs, errors, stop)
    except Exception as e:   # noqa: BLE001 - reported as a failure
        errors.append("archive driver: %s: %s" % (type(e).__name__, e))


def drive(port, token, window, jobs, errors, stop):
    t_stop = window[1]
    cur = None
    while not stop.is_set():
        now = time.monotonic()
        if cur is None:
            if now >= t_stop or len(jobs) >= 20:
                break
            st, j = simple(port, "POST", "/v1/archive", token)
            if st != 202:
                errors.append("POST /v1/archive: %d %s" % (st, j))
                break
            cur = [j["id"], time.monotonic(), None, "running"]
            jobs.append(cur)
            continue
        st, j = simple(port, "GET", "/v1/jobs/%s" % cur[0], token)
        if st != 200:
            errors.append("GET /v1/jobs/%s: %d" % (cur[0], st))
            break
        if j["state"] != "running":
            cur[2], cur[3] = time.monotonic(), j["state"]
            if j["state"] != "succeeded":
                errors.append("archive %s: %s" % (cur[0], j))
            cur = None
            continue
        if now >= t_stop:
            # The window is over: wait for the last one to end.
            st, j = simple(port, "GET", "/v1/jobs/%s?wait=60" % cur[0], token)
            cur[2], cur[3] = time.monotonic(), j.get("state")
            if j.get("state") != "succeeded":
                errors.append("archive %s: %s" % (cur[0], j))
            break
        time.sleep(0.1)


def pct(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--min-rate", type=float, default=450)
    ap.add_argument("--min-cover", type=float, default=0.9)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with open(a.token_file) as f:
        token = f.read().strip()
    paths = [
        ("/readyz", b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("/v1/status", ("GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Authorization: Bearer %s\r\n\r\n" % token).encode()),
        ("/metrics", b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    ]
    n = int(a.rate * a.seconds)
    results = [None] * n
    q = queue.Queue()

    def worker():
        c = Conn(a.port)
        while True:
            item = q.get()
            if item is None:
                break
            i, due = item
            name, raw = paths[i % len(paths)]
            t_send = time.monotonic()
            try:
                st, body = c.request(raw, t_send + REPLY_LIMIT)
                err = None if st == 200 else "HTTP %d: %r" % (st, body[:200])
            except (OSError, ValueError, IndexError) as e:
                st, body, err = None, b"", "%s: %s" % (type(e).__name__, e)
                c.close()   # a fresh connection for the next one
            t_done = time.monotonic()
            busy = None
            if st == 200 and name == "/v1/status":
                busy = json.loads(body).get("job") is not None
            elif st == 200 and name == "/metrics":
                busy = b"\nquorum_backup_job_in_progress 1\n" in body
            results[i] = (name, due, t_send, t_done, err, busy)
        c.close()

    workers = [threading.Thread(target=worker, daemon=True)
               for _ in range(a.connections)]
    for w in workers:
        w.start()
    # The first archive starts, then the window opens.
    t0 = time.monotonic() + 0.5
    window = (t0, t0 + a.seconds)
    drv_out, stop = {}, threading.Event()
    drv = threading.Thread(target=archive_driver,
                           args=(a.port, token, window, drv_out, stop),
                           daemon=True)
    drv.start()
    time.sleep(max(0.0, t0 - time.monotonic()))
    for i in range(n):
        due = t0 + i / a.rate
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        q.put((i, due))
    for _ in workers:
        q.put(None)
    for w in workers:
        w.join(REPLY_LIMIT * 3 + 5)
    drv.join(90)
    stop.set()

    failures = []
    done = [r for r in results if r is not None]
    if len(done) != n:
        failures.append("%d of %d requests never completed" % (n - len(done),
                                                                n))
    errs = [r for r in done if r[4]]
    for r in errs[:20]:
        failures.append("%s: %s" % (r[0], r[4]))
    ok = [r for r in done if not r[4]]
    t_last = max((r[3] for r in done), default=t0)
    rate = len(ok) / max(t_last - t0, 1e-9)
    if rate < a.min_rate:
        failures.append("achieved %.0f requests/s, under %.0f" %
                        (rate, a.min_rate))
    lat = [r[3] - r[2] for r in ok]
    lag = [r[3] - r[1] for r in ok]

    jobs, drv_errors = drv_out.get("jobs", []), drv_out.get("errors", [])
    if drv.is_alive():
        drv_errors.append("the archive driver did not finish")
    failures += drv_errors
    covered, t = 0.0, window[0]
    for _, start, end, _ in jobs:
        end = end if end is not None else window[1]
        lo, hi = max(start, t), min(end, window[1])
        if hi > lo:
            covered += hi - lo
            t = hi
    cover = covered / (window[1] - window[0])
    if cover < a.min_cover:
        failures.append("archives ran for %.0f %% of the window, under %.0f %%"
                        % (cover * 100, a.min_cover * 100))
    seen = [r[5] for r in ok if r[5] is not None]

    print("load: %d requests due at %.0f/s for %.0f s (GET /readyz, "
          "/v1/status, /metrics in turn) on %d keep-alive connections" % (
              n, a.rate, a.seconds, a.connections))
    print("achieved: %d replies 200 in %.2f s = %.0f requests/s; errors %d" %
          (len(ok), t_last - t0, rate, len(errs) + n - len(done)))
    for name, _ in paths:
        ll = [r[3] - r[2] for r in ok if r[0] == name]
        print("  %-10s p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (%d)" % (
            name, pct(ll, 50) * 1000, pct(ll, 99) * 1000,
            max(ll, default=0) * 1000, len(ll)))
    print("latency (send to whole reply): p50 %.2f ms, p99 %.2f ms, max "
          "%.2f ms; from the due time: p99 %.2f ms" % (
              pct(lat, 50) * 1000, pct(lat, 99) * 1000,
              max(lat, default=0) * 1000, pct(lag, 99) * 1000))
    print("archives: %d back to back (%s), %.0f %% of the window; status and "
          "metrics saw a job in progress in %d of %d replies" % (
              len(jobs), ", ".join("%.1f s %s" % ((e or t_last) - s, st)
                                   for _, s, e, st in jobs),
              cover * 100, sum(1 for x in seen if x), len(seen)))
    if failures:
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
