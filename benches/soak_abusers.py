#!/usr/bin/env python3
"""Abusive clients for benches/soak.sh: run for DURATION seconds against each TARGET
(host:port) and print, as JSON, what every kind of abuse got back (status lines, closes).

    soak_abusers.py DURATION TARGET [TARGET ...]

Kinds, per target (thread counts in KINDS):
  slow_body   a head promising 100 KB, then a byte every 2 s (the body timeout must close it)
  slow_head   a request head dripped a byte every 2 s (the head timeout must close it)
  oversize    a 20 MiB chunked body, sent as fast as possible (a 413 at the limit)
  declared    a head declaring a 1 GiB body, nothing after it (a 413 at once)
  big_body    3.5 MiB bodies, just under the limit, two at once (the body budget; each one the
              mock accepts costs it about 2 s of BPE on one core)
  garbage     random bytes, then a close
"""
import json
import os
import random
import socket
import sys
import threading
import time
from collections import Counter

PATH = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
KINDS = {
    "slow_body": 60,
    "slow_head": 30,
    "oversize": 1,
    "declared": 1,
    "big_body": 2,
    "garbage": 1,
}

deadline = time.monotonic() + float(sys.argv[1])
targets = [(t.rsplit(":", 1)[0], int(t.rsplit(":", 1)[1])) for t in sys.argv[2:]]
outcomes = {}
lock = threading.Lock()


def record(kind, what):
    with lock:
        outcomes.setdefault(kind, Counter())[what] += 1


def status_of(sock):
    """The status code of the answer on sock, 'closed' if none came, 'timeout' if it hung."""
    sock.settimeout(120)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return "closed"
            data += chunk
    except socket.timeout:
        return "hung"
    except OSError:
        return "reset"
    parts = data.split(b" ", 2)
    return parts[1].decode() if len(parts) > 1 else "garbled"


def head(extra):
    return (f"POST {PATH} HTTP/1.1\r\nhost: soak\r\napi-key: k\r\n"
            f"content-type: application/json\r\n{extra}\r\n").encode()


def slow_body(addr):
    with socket.create_connection(addr) as sock:
        sock.sendall(head("content-length: 100000\r\n") + b'{"messages"')
        sock.settimeout(2)
        started = time.monotonic()
        try:
            while time.monotonic() < deadline:
                try:
                    data = sock.recv(4096)
                    if not data:
                        return "closed"
                    held = time.monotonic() - started
                    status = data.split(b" ", 2)[1].decode()
                    return f"{status} after {round(held, -1):.0f}s"
                except socket.timeout:
                    sock.sendall(b" ")
        except OSError:
            return "reset"
    return "deadline"


def slow_head(addr):
    with socket.create_connection(addr) as sock:
        request = head("x-slow: " + "a" * 500 + "\r\n")
        started = time.monotonic()
        try:
            for byte in request:
                if time.monotonic() > deadline:
                    return "deadline"
                sock.sendall(bytes([byte]))
                sock.settimeout(2)
                try:
                    if not sock.recv(4096):
                        return f"closed after {round(time.monotonic() - started, -1):.0f}s"
                except socket.timeout:
                    pass
        except OSError:
            return f"reset after {round(time.monotonic() - started, -1):.0f}s"
    return "sent whole"


def oversize(addr):
    with socket.create_connection(addr) as sock:
        try:
            sock.sendall(head("transfer-encoding: chunked\r\n"))
            chunk = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
            for _ in range(320):
                sock.sendall(chunk)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        return status_of(sock)


def declared(addr):
    with socket.create_connection(addr) as sock:
        sock.sendall(head(f"content-length: {1 << 30}\r\n"))
        status = status_of(sock)
    time.sleep(0.1)
    return status


def big_body(addr):
    content = "x" * (3_500_000)
    body = json.dumps({"messages": [{"role": "user", "content": content}], "max_tokens": 1})
    with socket.create_connection(addr) as sock:
        try:
            sock.sendall(head(f"content-length: {len(body)}\r\n") + body.encode())
        except OSError:
            pass
        return status_of(sock)


def garbage(addr):
    with socket.create_connection(addr) as sock:
        try:
            sock.sendall(os.urandom(random.randint(1, 4096)))
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return "reset"
        status = status_of(sock)
    time.sleep(0.05)
    return status


def worker(kind, addr):
    run = globals()[kind]
    while time.monotonic() < deadline:
        try:
            record(kind, run(addr))
        except OSError as error:
            record(kind, f"connect error {error.errno}")
            time.sleep(0.5)


threads = [
    threading.Thread(target=worker, args=(kind, addr), daemon=True)
    for addr in targets
    for kind, count in KINDS.items()
    for _ in range(count)
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(timeout=max(0.0, deadline - time.monotonic()) + 150)
print(json.dumps({kind: dict(counts) for kind, counts in sorted(outcomes.items())}, indent=1))
