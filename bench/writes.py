#!/usr/bin/env python3
"""Load generator for bench/writes.sh (Python 3 standard library only).

Concurrent clients, each on its own keep-alive HTTP/1.1 connection, all in one asyncio loop (no
threads: a client's latency is not its wait for Python's global lock). Every run is bounded twice:
at most --count requests, and no new request after --max-secs. Any answer other than 200/201 stops
the run and fails it (exit 1): a benchmark whose writes fail measures nothing.

Commands (the API must be on 127.0.0.1):
  datasets  --count N [--same-title T] [--start I]   POST /datasets/, titles "Jeu de données I+k"
  resources --dataset ID --count N [--start I]       POST /datasets/ID/resources/ (remote, csv)
  dataset   --title T                                creates one dataset, prints its id
  total                                              prints the number of datasets listed

datasets and resources print one line: done seconds per_second mean_ms p50_ms p99_ms stopped_by
(stopped_by is "count" or "time").
"""

import argparse
import asyncio
import json
import math
import sys
import time
from urllib.parse import urlsplit


class Failure(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection; enough of the protocol for rudata's JSON answers."""

    def __init__(self, host, port, key):
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\n" + (f"X-API-KEY: {key}\r\n" if key else "")
        self.reader = self.writer = None

    async def request(self, method, path, body=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\n{self.head}"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        head += f"Content-Length: {len(data)}\r\n\r\n"
        self.writer.write(head.encode() + data)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            payload = b"".join(p[:-2] for p in parts)
        else:
            raise Failure(f"{method} {path}: answer without length")
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, payload

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def run(api, key, clients, count, max_secs, make):
    """`clients` connections send `make(n)` = (method, path, body) for n = 0.. until `count` requests
    have been sent or `max_secs` have passed. Returns the result line."""
    url = urlsplit(api)
    base = url.path.rstrip("/")
    issued = 0
    latencies = []
    errors = []
    start = time.perf_counter()
    deadline = start + max_secs
    last = start
    stopped_by = "count"

    async def client():
        nonlocal issued, last, stopped_by
        conn = Conn(url.hostname, url.port, key)
        try:
            while not errors:
                if issued >= count:
                    return
                if time.perf_counter() >= deadline:
                    stopped_by = "time"
                    return
                n = issued
                issued += 1
                method, path, body = make(n)
                t = time.perf_counter()
                try:
                    status, payload = await conn.request(method, base + path, body)
                except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                    errors.append(f"{method} {path}: {e!r}")
                    return
                done = time.perf_counter()
                if status not in (200, 201):
                    errors.append(f"{method} {path}: {status} {payload[:500].decode(errors='replace')}")
                    return
                latencies.append(done - t)
                last = done
        finally:
            conn.close()

    tasks = [asyncio.ensure_future(client()) for _ in range(clients)]
    try:
        # A request left unanswered must not hang the run: the whole run gets max_secs + 120 s.
        await asyncio.wait_for(asyncio.gather(*tasks), max_secs + 120)
    except asyncio.TimeoutError:
        errors.append(f"no answer {max_secs + 120} s after the start")
    if errors:
        raise Failure(errors[0])
    elapsed = last - start
    lat = sorted(latencies)
    n = len(lat)
    rate = n / elapsed if elapsed > 0 else 0.0
    mean = sum(lat) / n if n else float("nan")
    return (
        f"{n} {elapsed:.2f} {rate:.0f} {mean * 1e3:.2f} {percentile(lat, 50) * 1e3:.2f} "
        f"{percentile(lat, 99) * 1e3:.2f} {stopped_by}"
    )


def dataset_body(title, n):
    return {
        "title": title,
        "description": f"Description du jeu de données {n}, créé par bench/writes.sh.",
        "tags": ["budget", f"ville-{n % 10}"],
        "license": "lov2",
    }


async def one(api, key, method, path, body=None):
    url = urlsplit(api)
    conn = Conn(url.hostname, url.port, key)
    try:
        status, payload = await conn.request(method, url.path.rstrip("/") + path, body)
    finally:
        conn.close()
    if status not in (200, 201):
        raise Failure(f"{method} {path}: {status} {payload[:500].decode(errors='replace')}")
    return json.loads(payload)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["datasets", "resources", "dataset", "total"])
    p.add_argument("--api", required=True, help="e.g. http://127.0.0.1:7000/api/1")
    p.add_argument("--key", default="")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--max-secs", type=float, default=60)
    p.add_argument("--start", type=int, default=0, help="first number used in titles")
    p.add_argument("--same-title", help="give every dataset this title")
    p.add_argument("--dataset", help="dataset id (resources)")
    p.add_argument("--title", help="title (dataset)")
    a = p.parse_args()
    if urlsplit(a.api).hostname != "127.0.0.1":
        sys.exit("writes.py sends traffic only to 127.0.0.1")

    if a.command == "datasets":
        def make(n):
            i = a.start + n
            return "POST", "/datasets/", dataset_body(a.same_title or f"Jeu de données {i}", i)
        out = run(a.api, a.key, a.clients, a.count, a.max_secs, make)
    elif a.command == "resources":
        path = f"/datasets/{a.dataset}/resources/"

        def make(n):
            i = a.start + n
            return "POST", path, {
                "title": f"Fichier {i}",
                "url": f"https://example.org/{a.dataset}/{i}.csv",
                "filetype": "remote",
                "type": "main",
                "format": "csv",
            }
        out = run(a.api, a.key, a.clients, a.count, a.max_secs, make)
    elif a.command == "dataset":
        async def create():
            return (await one(a.api, a.key, "POST", "/datasets/", dataset_body(a.title, 0)))["id"]
        out = create()
    else:
        async def total():
            return (await one(a.api, "", "GET", "/datasets/?page_size=1"))["total"]
        out = total()
    try:
        print(asyncio.run(out))
    except (Failure, OSError, asyncio.IncompleteReadError) as e:
        sys.exit(f"writes.py: {e}")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
