#!/usr/bin/env python3
"""Slow clients (slowloris) of the load run (scripts/load.sh).

Keeps COUNT connections to a Wangge server that never finish their request: each sends a
request line and then one byte of a header every --byte-interval seconds (2), never the blank
line that ends the headers. The server must close each one when its request timeout (30 s)
runs out, counted from the connection's first read, however busily the bytes trickle in.
A connection the server closes is replaced by a new one until --duration has passed; then the
ones still open are closed by this script.

    python3 bench/slowloris.py --port P [--count 200] [--duration 60] [--byte-interval 2]
        [--timeout 30] [--grace 5]

At the end one line on standard output:

    slowloris count=N opened=N closed_by_server=N answered=N age_min=S age_max=S
        still_open=N overdue=N connect_failed=N seconds=S

closed_by_server: connections the server closed (their age at that moment between age_min and
age_max); answered: those of them that got an answer first (a 408 or 400; Wangge closes without
one); still_open: connections open at the end, all younger than timeout + grace unless the
server failed to close them (overdue, which should be 0).

Python 3 standard library only.
"""
import argparse
import errno
import random
import resource
import selectors
import socket
import sys
import time


class Slow:
    __slots__ = ("sock", "opened", "connected", "next_byte", "sent", "answered")

    def __init__(self, sock, now, interval):
        self.sock = sock
        self.opened = now
        self.connected = False
        self.next_byte = now + random.uniform(0, interval)
        self.sent = 0
        self.answered = False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--byte-interval", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--grace", type=float, default=5.0)
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.count + 1024), hard))

    head = f"GET /healthz HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n".encode()
    trickle = b"X-Slow: " + b"a" * 200  # never reaches the end of the headers in 30 s
    sel = selectors.DefaultSelector()
    live = set()
    ages = []
    answered = 0
    connect_failed = 0
    started = time.monotonic()
    deadline = started + args.duration

    def open_one(now):
        nonlocal connect_failed
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((args.host, args.port))
        if err not in (0, errno.EINPROGRESS):
            connect_failed += 1
            s.close()
            return
        c = Slow(s, now, args.byte_interval)
        live.add(c)
        sel.register(s, selectors.EVENT_WRITE, c)

    def closed(c, now):
        ages.append(now - c.opened)
        live.discard(c)
        sel.unregister(c.sock)
        c.sock.close()

    now = time.monotonic()
    for _ in range(args.count):
        open_one(now)
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        for key, _ in sel.select(timeout=0.2):
            c = key.data
            if not c.connected:
                if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    connect_failed += 1
                    live.discard(c)
                    sel.unregister(c.sock)
                    c.sock.close()
                    continue
                c.connected = True
                try:
                    c.sock.send(head)
                except OSError:
                    closed(c, time.monotonic())
                    continue
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            try:
                data = c.sock.recv(65536)
            except OSError:
                data = b""
            if data:
                if not c.answered:
                    c.answered = True
                    answered += 1
                continue
            closed(c, time.monotonic())
        now = time.monotonic()
        for c in list(live):
            if c.connected and c.next_byte <= now:
                try:
                    c.sock.send(trickle[c.sent % len(trickle) : c.sent % len(trickle) + 1])
                    c.sent += 1
                except OSError:
                    closed(c, now)
                    continue
                c.next_byte = now + args.byte_interval
        # Replace what the server closed, while the run lasts (not when connecting fails).
        while len(live) < args.count and now < deadline and connect_failed < args.count:
            open_one(now)

    now = time.monotonic()
    still_open = len(live)
    overdue = sum(1 for c in live if now - c.opened > args.timeout + args.grace)
    for c in list(live):
        sel.unregister(c.sock)
        c.sock.close()
    print(
        f"slowloris count={args.count} opened={len(ages) + still_open} closed_by_server={len(ages)}"
        f" answered={answered} age_min={min(ages) if ages else 0:.1f} age_max={max(ages) if ages else 0:.1f}"
        f" still_open={still_open} overdue={overdue} connect_failed={connect_failed}"
        f" seconds={now - started:.1f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
