#!/usr/bin/env python3
"""Disturb this machine the way issue #10's stalled runs were disturbed, all at once, for at
most --seconds (then everything stops and is cleaned up; SIGINT/SIGTERM stop it early):

  --hold N        N loopback connections opened and held by this process (a listener here
                  accepts them; both ends stay open), each sent one byte a second: the "2,000
                  slow connections" of the issue.
  --churn R       R connections a second opened to a listener here and closed by the client
                  first, so each leaves a TIME_WAIT behind (TIME_WAIT pressure on the
                  ephemeral ports; narrow `net.ipv4.ip_local_port_range` to make it bite).
  --flood R       R connection attempts a second to a listener whose accept queue is full
                  (backlog 1, never accepted): SYNs dropped and retransmitted, half-open
                  connections held up to 10 s each.
  --cpu N         N busy-looping processes (CPU oversubscription).
  --dd MB         a writer rewriting an MB-sized file in --dir (buffered, fsync per pass).

Run it through `benches/disturbed.sh`, which puts it and the measured command in a private
network namespace (so the held ports and the narrowed port range touch nothing else).
Prints one `disturb: ...` line a second on stderr (connections held, churned, flooded).
"""

import argparse
import os
import resource
import selectors
import signal
import socket
import sys
import time

STOP = False


def stop(*_):
    global STOP
    STOP = True


def listener(backlog):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    s.setblocking(False)
    return s


def nonblocking_connect(addr):
    try:
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError as error:  # out of descriptors: skip this one
        return None, error.errno
    c.setblocking(False)
    try:
        c.connect(addr)
    except BlockingIOError:
        pass
    except OSError as error:  # EADDRNOTAVAIL when the ports ran out: that is the point
        c.close()
        return None, error.errno
    return c, 0


def open_at_rate(credit, rate, elapsed, addr):
    """Connections due at `rate` a second after `elapsed` seconds, plus the credit carried
    over: (credit left, sockets opened, attempts refused). The credit is capped: a starved
    loop (it competes for the CPU it disturbs) must not catch up in a burst that opens more
    sockets than the descriptor limit allows."""
    credit = min(credit + rate * elapsed, 100)
    opened, refused = [], 0
    while credit >= 1:
        credit -= 1
        c, _ = nonblocking_connect(addr)
        if c is None:
            refused += 1
        else:
            opened.append(c)
    return credit, opened, refused


def sockets_loop(args):
    """Held, churned and flooded connections, one thread, non-blocking."""
    sel = selectors.DefaultSelector()
    hold_server = listener(4096)
    churn_server = listener(4096)
    flood_server = listener(1)  # never accepted
    sel.register(hold_server, selectors.EVENT_READ, "hold-accept")
    sel.register(churn_server, selectors.EVENT_READ, "churn-accept")
    hold_addr, churn_addr, flood_addr = (
        hold_server.getsockname(),
        churn_server.getsockname(),
        flood_server.getsockname(),
    )
    held_clients, held_servers = [], []
    flooding = []  # (socket, opened at)
    churning = []  # (socket, opened at): churned connections not yet closed
    churned = refused = 0
    next_report = time.monotonic() + 1
    next_trickle = time.monotonic() + 1
    tick = 0.01
    churn_credit = flood_credit = 0.0
    last = time.monotonic()
    while not STOP:
        now = time.monotonic()
        elapsed, last = now - last, now
        # Open held connections, a few hundred per tick, until N are open.
        for _ in range(min(300, args.hold - len(held_clients))):
            c, err = nonblocking_connect(hold_addr)
            if c is None:
                refused += 1
                break
            held_clients.append(c)
        churn_credit, opened, failed = open_at_rate(churn_credit, args.churn, elapsed, churn_addr)
        refused += failed
        for c in opened:
            # Linger 0 would send RST (no TIME_WAIT); a plain close after the handshake keeps
            # TIME_WAIT on this (client) side. One whose SYN was dropped is given up after 2 s.
            sel.register(c, selectors.EVENT_WRITE, "churn-client")
            churning.append((c, now))
        flood_credit, opened, failed = open_at_rate(flood_credit, args.flood, elapsed, flood_addr)
        refused += failed
        flooding.extend((c, now) for c in opened)
        while flooding and now - flooding[0][1] > 10:
            flooding.pop(0)[0].close()
        while churning and now - churning[0][1] > 2:
            c = churning.pop(0)[0]
            if c.fileno() >= 0:
                sel.unregister(c)
                c.close()
        for key, _ in sel.select(timeout=tick):
            if key.data == "hold-accept":
                for _ in range(300):
                    try:
                        s, _ = hold_server.accept()
                    except OSError:  # none waiting, or out of descriptors
                        break
                    s.setblocking(False)
                    held_servers.append(s)
            elif key.data == "churn-accept":
                for _ in range(300):
                    try:
                        s, _ = churn_server.accept()
                    except OSError:
                        break
                    # Server side: wait for the client's FIN (the client closes first).
                    sel.register(s, selectors.EVENT_READ, "churn-server")
            elif key.data == "churn-client":
                sel.unregister(key.fileobj)
                key.fileobj.close()
                churned += 1
            elif key.data == "churn-server":
                try:
                    data = key.fileobj.recv(64)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
        if now >= next_trickle:
            next_trickle = now + 1
            for c in held_clients:
                try:
                    c.send(b".")
                except OSError:
                    pass
            for s in held_servers:
                try:
                    s.recv(4096)
                except OSError:
                    pass
        if now >= next_report:
            next_report = now + 1
            print(
                f"disturb: held {len(held_clients)}/{len(held_servers)}, churned {churned}, "
                f"flooding {len(flooding)}, connects refused {refused}",
                file=sys.stderr,
                flush=True,
            )
    for s in held_clients + held_servers + [c for c, _ in flooding + churning]:
        s.close()


def busy():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        pass


def writer(path, megabytes):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    block = b"\0" * (1 << 20)
    while True:
        with open(path, "wb") as f:
            for _ in range(megabytes):
                f.write(block)
            f.flush()
            os.fsync(f.fileno())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--hold", type=int, default=0)
    parser.add_argument("--churn", type=float, default=0)
    parser.add_argument("--flood", type=float, default=0)
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--dd", type=int, default=0)
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, args.seconds)
    children = []
    for _ in range(args.cpu):
        pid = os.fork()
        if pid == 0:
            busy()
        children.append(pid)
    dd_path = None
    if args.dd > 0:
        dd_path = os.path.join(args.dir, f"disturb-dd-{os.getpid()}.bin")
        pid = os.fork()
        if pid == 0:
            writer(dd_path, args.dd)
        children.append(pid)
    try:
        if args.hold or args.churn or args.flood:
            sockets_loop(args)
        else:
            while not STOP:
                signal.pause()
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        if dd_path:
            try:
                os.unlink(dd_path)
            except FileNotFoundError:
                pass
        print("disturb: stopped, cleaned up", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
