"""rudata's DCAT-AP documents against the official DCAT-AP 3.0.0 SHACL shapes (tests/dcat/shacl/:
shapes.ttl, range.ttl and shapes_recommended.ttl, as the SEMICeu/DCAT-AP release publishes them).

Starts the debug binary on a temporary SQLite data dir with an organization, a dataset of that
organization with a remote and an uploaded resource (license, frequency, temporal coverage), a
dataset of a user with no license, and a private one; then fetches, over HTTP, the site's catalog
(a page of two, and the last page), each dataset, and the organization's catalog, in Turtle, JSON-LD,
RDF/XML and N-Triples, and validates each one with pyshacl. A violation of any shape fails the run;
the recommended shapes are warnings (`sh:Warning` in the release), counted and printed, not fatal.

Usage: python3 tests/dcat/validate.py <path to the rudata binary>. Exits non-zero on failure.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

import rdflib
from pyshacl import validate

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/rudata"
SHAPES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shacl")
SHAPE_FILES = ["shapes.ttl", "range.ttl", "shapes_recommended.ttl"]
FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml", "nt": "nt"}


def run(*args, env):
    return subprocess.run([BIN, *args], env=env, check=True, capture_output=True, text=True).stdout.strip()


def call(base, method, path, key, body=None, files=None):
    headers = {"X-API-KEY": key}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if files is not None:
        boundary = "----rudata-dcat"
        name, content = files
        data = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    req = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method=method)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def fetch(url):
    with urllib.request.urlopen(url) as r:
        assert r.status == 200, f"{url}: {r.status}"
        return r.read()


def shapes_graph():
    g = rdflib.Graph()
    for name in SHAPE_FILES:
        g.parse(os.path.join(SHAPES_DIR, name), format="turtle")
    return g


def start(env, data):
    log = open(os.path.join(data, "serve.log"), "w+")
    server = subprocess.Popen([BIN, "serve", "--bind", "127.0.0.1:0"], env=env, stdout=log, stderr=log)
    for _ in range(100):
        log.seek(0)
        m = re.search(r"rudata listening on (http://\S+)", log.read())
        if m:
            return server, m.group(1)
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def populate(base, key):
    org = call(base, "POST", "/api/1/organizations/", key, {"name": "DCAT org", "description": "Publishes"})
    ds = call(base, "POST", "/api/1/datasets/", key, {
        "title": "Budget 2024", "description": "Le budget", "organization": org["id"],
        "license": "odc-odbl", "frequency": "monthly", "tags": ["budget", "finances"],
        "temporal_coverage": {"start": "2024-01-01", "end": "2024-12-31"},
        "resources": [{"title": "Remote CSV", "url": "https://example.org/budget.csv", "filetype": "remote",
                       "format": "csv", "mime": "text/csv", "type": "main"},
                      {"title": "The API", "url": "https://example.org/api", "filetype": "remote", "type": "api"}],
    })
    call(base, "POST", f"/api/1/datasets/{ds['id']}/upload/", key, files=("data.csv", b"a,b\n1,2\n"))
    other = call(base, "POST", "/api/1/datasets/", key, {
        "title": "Without license", "description": "Sans licence", "frequency": "severalTimesADay",
        "resources": [{"title": "Odd", "url": "https://example.org/x.bin", "filetype": "remote", "format": "weird"}],
    })
    call(base, "POST", "/api/1/datasets/", key, {"title": "Private", "description": "P", "private": True})
    return org["id"], [ds["id"], other["id"]]


def main():
    shapes = shapes_graph()
    data = tempfile.mkdtemp()
    env = dict(os.environ, RUDATA_DATA_DIR=data, RUDATA_RATE_LIMIT_ANONYMOUS="0",
               RUDATA_RATE_LIMIT_AUTHENTICATED="0")
    run("migrate", env=env)
    run("user", "create", "--email", "dcat@example.org", "--first-name", "D", "--last-name", "Cat",
        "--sysadmin", env=env)
    key = run("token", "create", "--email", "dcat@example.org", "--name", "dcat", env=env)
    server, base = start(env, data)
    failures = 0
    try:
        org, datasets = populate(base, key)
        documents = []
        for suffix in FORMATS:
            documents += [
                f"/api/1/site/catalog.{suffix}?page_size=2",
                f"/api/1/site/catalog.{suffix}?page_size=2&page=2",
                f"/api/1/organizations/{org}/catalog.{suffix}",
            ]
            documents += [f"/api/1/datasets/{d}/rdf.{suffix}" for d in datasets]
        for path in documents:
            body = fetch(base + path)
            fmt = FORMATS[path.split("?")[0].rsplit(".", 1)[1]]
            g = rdflib.Graph().parse(data=body, format=fmt)
            assert len(g) > 10, f"{path}: {len(g)} triples"
            conforms, report, text = validate(g, shacl_graph=shapes, allow_warnings=True)
            warnings = len(list(report.subjects(
                rdflib.URIRef("http://www.w3.org/ns/shacl#resultSeverity"),
                rdflib.URIRef("http://www.w3.org/ns/shacl#Warning"))))
            status = "conforms" if conforms else "DOES NOT CONFORM"
            print(f"dcat: {path}: {len(g)} triples, {status}, {warnings} recommendation warnings")
            if not conforms:
                failures += 1
                print(text)
    finally:
        server.terminate()
        server.wait()
    if failures:
        raise SystemExit(f"dcat: {failures} documents violate the DCAT-AP 3.0.0 shapes")
    print(f"dcat: {len(documents)} documents conform to DCAT-AP 3.0.0 ({', '.join(SHAPE_FILES)})")


if __name__ == "__main__":
    main()
