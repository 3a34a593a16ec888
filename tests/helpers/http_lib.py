"""Raw-socket client side of the HTTP battery (tests/helpers/http_battery.py).

One request on its own connection (exchange: the status and the time it
took; fetch: the status and the body), parse_reply, the time until the
agent closes an idle connection (closed_after), and the two background
processes the battery runs under: the /readyz monitor and the slowloris
connections. python3 standard library only.
"""

import select
import signal
import socket
import time

HOST = "127.0.0.1"
REQ_TIMEOUT = 5.0          # per battery request
READYZ_EVERY = 0.05
READYZ_LIMIT = 2.0
SLOW_ADDRS = ("127.0.0.2", "127.0.0.3")
SLOW_PER_ADDR = 50
MAX_RUN = 120.0            # no loop of the battery runs longer

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
