"""The API's documentation page (`GET /api/1/`) in a real browser: Debian's chromium driven by
Playwright. Starts the debug binary on a temporary SQLite data dir with one public dataset, then:

- the Swagger UI renders the v1 document (operations listed, the datasets list among them) with no
  error in the console (a CSP violation, a script or asset that fails to load, shows there);
- "Try it out" then "Execute" on `GET /api/1/datasets/` calls the real API from the page and shows
  its 200 answer with the dataset in it;
- the v2 document can be chosen and renders too.

Usage: python3 tests/browser/swagger_ui.py <path to the rudata binary>. Exits non-zero on failure.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import json

from playwright.sync_api import sync_playwright, expect

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/rudata"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def run(*args, env):
    return subprocess.run([BIN, *args], env=env, check=True, capture_output=True, text=True).stdout.strip()


def main():
    data = tempfile.mkdtemp()
    env = dict(os.environ, RUDATA_DATA_DIR=data, RUDATA_RATE_LIMIT_ANONYMOUS="0")
    run("migrate", env=env)
    run("user", "create", "--email", "ui@example.org", "--first-name", "U", "--last-name", "I", env=env)
    key = run("token", "create", "--email", "ui@example.org", "--name", "ui", env=env)
    log = open(os.path.join(data, "serve.log"), "w+")
    server = subprocess.Popen([BIN, "serve", "--bind", "127.0.0.1:0"], env=env, stdout=log, stderr=log)
    try:
        base = None
        for _ in range(100):
            log.seek(0)
            m = re.search(r"rudata listening on (http://\S+)", log.read())
            if m:
                base = m.group(1)
                break
            time.sleep(0.1)
        assert base, "the server did not start"

        req = urllib.request.Request(
            f"{base}/api/1/datasets/",
            data=json.dumps({"title": "Browser dataset", "description": "Seen from the page"}).encode(),
            headers={"X-API-KEY": key, "Content-Type": "application/json"},
            method="POST",
        )
        assert urllib.request.urlopen(req).status == 201

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            problems = []
            page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status}: {r.url}"))

            page.goto(f"{base}/api/1/")
            expect(page).to_have_title(re.compile("rudata"))
            page.wait_for_selector(".opblock", timeout=30_000)
            count = page.locator(".opblock").count()
            assert count > 50, f"only {count} operations rendered"

            # Try the datasets list from the page: the real API answers it.
            op = page.locator("#operations-datasets-list_datasets, .opblock-get").filter(
                has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/1/datasets/?$"))
            ).first
            op.locator(".opblock-summary").click()
            op.get_by_role("button", name="Try it out").click()
            op.get_by_role("button", name="Execute").click()
            live = op.locator(".live-responses-table .response .response-col_status").first
            expect(live).to_have_text(re.compile("200"), timeout=15_000)
            expect(op.locator(".live-responses-table")).to_contain_text("Browser dataset")

            # The v2 document, through the page's selector.
            select = page.locator("select#select, .download-url-wrapper select").first
            if select.count() == 0:
                raise AssertionError("no document selector on the page")
            options = select.locator("option").all_text_contents()
            v2 = next((o for o in options if "2" in o), None)
            assert v2, f"no v2 document among {options}"
            select.select_option(label=v2)
            expect(page.locator(".opblock-summary-path", has_text="/api/2/datasets/search/").first).to_be_visible(
                timeout=30_000
            )

            browser.close()
        assert not problems, "\n".join(problems)
        print("browser: Swagger UI renders v1 and v2, and runs a request against the API")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
