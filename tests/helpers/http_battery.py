#!/usr/bin/env python3
"""Malformed-request battery against a running `quorum-backup-agent serve`.

Used by tests/integration/http_battery.sh; python3 standard library only,
raw sockets (http_lib.py; the requests come from http_gen.py, both next to
this file). What it does, against an agent on 127.0.0.1 that has one real
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
import os
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_gen import Gen  # noqa: E402
from http_lib import (ANY4XX, CLOSED, HOST, MAX_RUN,  # noqa: E402
                      READYZ_EVERY, READYZ_LIMIT, REQ_TIMEOUT, SLOW_ADDRS,
                      SLOW_PER_ADDR, closed_after, exchange, fetch,
                      readyz_monitor, slowloris)

PERIP_ADDR = "127.0.0.4"
OTHER_ADDR = "127.0.0.5"
PER_IP_LIMIT = 64          # the agent's default [agent] per_ip_limit
FLOOD_ADDRS = tuple("127.0.0.%d" % i for i in range(2, 12))
FLOOD_PER_ADDR = 60        # 600 in all: over max_connections (512)
FLOOD_SECONDS = 10.0
QUERY_ARGS = (1000, 5000)  # libmicrohttpd closed without a reply from ~900
QUERY_ARGS_SERVED = 100    # the agent's own limit: still served
PROBE_TIMEOUT = 5.0        # the probe listener's idle and request timeout


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
