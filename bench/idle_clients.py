#!/usr/bin/env python3
"""Idle keep-alive clients of the load run (scripts/load.sh).

Opens COUNT connections to a Wangge server, sends one request on each and keeps every connection
open, idle, until SIGTERM or SIGINT (or --max-seconds). The server closes a keep-alive connection
that has been idle for its request timeout (30 s), so each connection sends another request
every --interval seconds (20; each connection with its own phase): a connection is *held* when it
stayed open from the first answer to the end and every answer on it was a 200.

    python3 bench/idle_clients.py --port P [--count 2000] [--interval 20] [--path /healthz]
        [--ready FILE] [--max-seconds S]

--ready FILE is written once every connection has had its first answer (or failed): the moment
the load run starts its mix. At the end one line on standard output:

    idle_clients count=N connected=N held=N requests=N answered=N closed_by_server=N
        bad_status=N connect_failed=N seconds=S

Python 3 standard library only.
"""
import argparse
import errno
import random
import resource
import selectors
import signal
import socket
import sys
import time

CONNECTING, WAITING, IDLE, DEAD = range(4)


class Conn:
    __slots__ = ("sock", "state", "buf", "next_send", "ok", "requests", "answers")

    def __init__(self, sock):
        self.sock = sock
        self.state = CONNECTING
        self.buf = b""
        self.next_send = 0.0
        self.ok = True  # every answer a 200 and never closed by the server
        self.requests = 0
        self.answers = 0


def parse_response(buf):
    """(status, bytes used) of a complete response at the start of buf, or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    status = int(head[0].split(" ")[1])
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    total = end + 4 + length
    if len(buf) < total:
        return None
    return status, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--interval", type=float, default=20.0)
    parser.add_argument("--path", default="/healthz")
    parser.add_argument("--ready", default="")
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.count + 1024), hard))

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    request = f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n\r\n".encode()
    sel = selectors.DefaultSelector()
    conns = []
    counters = {"closed_by_server": 0, "bad_status": 0, "connect_failed": 0}
    started = time.monotonic()
    ready_written = False
    to_open = args.count

    def kill(c, reason):
        if c.state == DEAD:
            return
        if reason:
            counters[reason] += 1
        c.ok = False
        c.state = DEAD
        sel.unregister(c.sock)
        c.sock.close()

    def send(c, now):
        try:
            c.sock.sendall(request)  # small: fits the socket buffer
        except OSError:
            return kill(c, "closed_by_server")
        c.requests += 1
        c.state = WAITING
        sel.modify(c.sock, selectors.EVENT_READ, c)

    while not stop and time.monotonic() - started < args.max_seconds:
        now = time.monotonic()
        # Open connections in batches, so the accept queue is not flooded all at once.
        for _ in range(min(to_open, 100)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((args.host, args.port))
            if err not in (0, errno.EINPROGRESS):
                counters["connect_failed"] += 1
                s.close()
                continue
            c = Conn(s)
            conns.append(c)
            sel.register(s, selectors.EVENT_WRITE, c)
            to_open -= 1
        for key, _ in sel.select(timeout=0.2):
            c = key.data
            if c.state == CONNECTING:
                if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    kill(c, "connect_failed")
                    continue
                send(c, now)
                continue
            try:
                data = c.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                kill(c, "closed_by_server")
                continue
            c.buf += data
            parsed = parse_response(c.buf)
            if parsed is None:
                continue
            status, used = parsed
            c.buf = c.buf[used:]
            c.answers += 1
            if status != 200:
                counters["bad_status"] += 1
                c.ok = False
            c.state = IDLE
            # Each connection with its own phase, so the re-sends do not come all at once.
            c.next_send = time.monotonic() + args.interval * random.uniform(0.85, 1.0)
        now = time.monotonic()
        for c in conns:
            if c.state == IDLE and c.next_send <= now:
                send(c, now)
        if not ready_written and to_open == 0 and all(c.state in (IDLE, DEAD) for c in conns):
            ready_written = True
            if args.ready:
                answered = sum(1 for c in conns if c.answers > 0)
                with open(args.ready, "w") as f:
                    f.write(f"ready connected={len(conns)} answered={answered}\n")

    held = sum(1 for c in conns if c.ok and c.state != DEAD and c.answers > 0)
    for c in conns:
        if c.state != DEAD:
            sel.unregister(c.sock)
            c.sock.close()
    print(
        f"idle_clients count={args.count} connected={len(conns)} held={held}"
        f" requests={sum(c.requests for c in conns)} answered={sum(c.answers for c in conns)}"
        f" closed_by_server={counters['closed_by_server']} bad_status={counters['bad_status']}"
        f" connect_failed={counters['connect_failed']} seconds={time.monotonic() - started:.1f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
