#!/usr/bin/env python3
"""What API v2 pages, resource extras writes and the streamed v1 document cost, by dataset size.

Against a running rudata started with RUDATA_RATE_LIMIT_AUTHENTICATED=0 (a benchmark is one client
far past any rate limit; the key must be a sysadmin's, e.g. the first-start key `serve` prints):
creates one dataset per size in SIZES (inline resources, every third one documentation), then for
each kind of request measures REPS requests per size, the sizes taking turns, and prints a Markdown
table (p50, p99). With --pid, also the server's peak memory while it streams the largest v1
document (VmHWM, reset through /proc/PID/clear_refs before the request; Linux, same user). With
--stream-only ID, only that memory measurement, on dataset ID: run it on a server just restarted,
whose memory no earlier request has grown.

    python3 bench/v2_pages.py --base http://127.0.0.1:PORT --key udata_... [--sizes 10,10000]
        [--reps 200] [--pid PID]

Standard library only; every request goes to --base.
"""

import argparse
import json
import statistics
import time
import urllib.request


def request(base, key, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("X-API-KEY", key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.read()


def dataset(base, key, n):
    resources = [
        {
            "title": f"Resource {i}",
            "filetype": "remote",
            "type": "documentation" if i % 3 == 0 else "main",
            "format": "csv",
            "url": f"https://example.com/{i}.csv",
        }
        for i in range(n)
    ]
    _, body = request(
        base, key, "POST", "/api/1/datasets/",
        {"title": f"Bench {n} resources", "description": "d", "resources": resources},
    )
    ds = json.loads(body)
    return ds["id"], [r["id"] for r in ds["resources"]]


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--sizes", default="10,10000")
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--pid", type=int)
    p.add_argument("--stream-only")
    a = p.parse_args()
    if a.stream_only:
        return stream_memory(a.base, a.key, a.pid, a.stream_only)
    sizes = [int(s) for s in a.sizes.split(",")]
    made = {n: dataset(a.base, a.key, n) for n in sizes}

    def kinds(n):
        ds, rids = made[n]
        last = (n + 49) // 50
        docs_last = ((n + 2) // 3 + 49) // 50
        mid = rids[len(rids) // 2]
        get = lambda path: (lambda i: request(a.base, a.key, "GET", path))
        return [
            ("v2 dataset", get(f"/api/2/datasets/{ds}/")),
            ("v2 resources, page 1", get(f"/api/2/datasets/{ds}/resources/")),
            ("v2 resources, last page", get(f"/api/2/datasets/{ds}/resources/?page={last}")),
            ("v2 resources, type=documentation, last page",
             get(f"/api/2/datasets/{ds}/resources/?type=documentation&page={docs_last}")),
            ("v2 resources, q=\"resource 7\"", get(f"/api/2/datasets/{ds}/resources/?q=resource%207")),
            ("v2 resource by id", get(f"/api/2/datasets/resources/{mid}/")),
            ("PUT resource extras (check:*)", lambda i: request(
                a.base, a.key, "PUT", f"/api/2/datasets/{ds}/resources/{mid}/extras/",
                {"check:available": i % 2 == 0, "check:status": 200})),
            ("v1 full document", get(f"/api/1/datasets/{ds}/")),
        ]

    # The sizes take turns, request by request, so that a busy machine slows them alike.
    rows = []
    by_size = {n: kinds(n) for n in sizes}
    for k, (label, _) in enumerate(by_size[sizes[0]]):
        reps = a.reps if label != "v1 full document" else max(5, a.reps // 10)
        times = {n: [] for n in sizes}
        for i in range(reps):
            for n in sizes:
                t = time.perf_counter()
                status, _ = by_size[n][k][1](i)
                times[n].append((time.perf_counter() - t) * 1000)
                assert status in (200, 204), status
        for n in sizes:
            ts = sorted(times[n])
            p99 = ts[min(len(ts) - 1, int(len(ts) * 0.99))]
            rows.append((f"{label} ({reps} requests)", n, statistics.median(ts), p99))
    print("| request | resources in the dataset | p50 | p99 |")
    print("|---|---|---|---|")
    for label, n, p50, p99 in rows:
        print(f"| {label} | {n:,} | {p50:.2f} ms | {p99:.2f} ms |")
    if a.pid:
        stream_memory(a.base, a.key, a.pid, made[max(sizes)][0])


def stream_memory(base, key, pid, dataset_id):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")
    before = peak_kib(pid)
    _, body = request(base, key, "GET", f"/api/1/datasets/{dataset_id}/")
    after = peak_kib(pid)
    print(
        f"\nv1 document of dataset {dataset_id}: {len(body):,} bytes; server peak memory "
        f"{before:,} KiB before the request, {after:,} KiB during it (+{after - before:,} KiB)"
    )


if __name__ == "__main__":
    main()
