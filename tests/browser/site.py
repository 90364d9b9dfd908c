"""The catalog web site in a real browser: Debian's chromium driven by Playwright. Starts the debug
binary on a temporary SQLite data dir, publishes a small catalog through the CLI and the API (an
organization, datasets with tags, an uploaded file replaced once, a private dataset), then:

- searches from the home page's box and narrows the results with a facet;
- opens a dataset from the results;
- downloads its uploaded file (the bytes are checked) and an older version from its history;
- follows the resource's permalink (to the current file's bytes);
- switches to English and back, and reads the home page in the browser's language;
- goes through the skip link with the keyboard;
- finds a private dataset answered 404;
- checks each page fits a phone's width;
- runs axe-core (vendored in tests/browser/vendor/) on the home, search, dataset and organization
  pages in both languages and fails on any violation;
- takes the screenshots of the README (docs/screenshots/).

Usage: python3 tests/browser/site.py <path to the rudata binary>. Exits non-zero on failure.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

from playwright.sync_api import expect, sync_playwright

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/rudata"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AXE = os.path.join(ROOT, "tests", "browser", "vendor", "axe-core", "axe.min.js")
SCREENSHOTS = os.path.join(ROOT, "docs", "screenshots")

FIRST = b"annee,depenses\n2023,1200\n"
CURRENT = b"annee,depenses\n2023,1200\n2024,1350\n"


def run(*args, env):
    return subprocess.run([BIN, *args], env=env, check=True, capture_output=True, text=True).stdout.strip()


class Api:
    def __init__(self, base, key):
        self.base, self.key = base, key

    def call(self, method, path, body=None, content_type="application/json"):
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        req = urllib.request.Request(
            f"{self.base}{path}", data=data, method=method,
            headers={"X-API-KEY": self.key, "Content-Type": content_type},
        )
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")

    def upload(self, path, filename, content):
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n"
        ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.call("POST", path, body, f"multipart/form-data; boundary={boundary}")


def publish(api):
    """The small catalog the pages show."""
    org = api.call("POST", "/api/1/organizations/", {
        "name": "Ville de Rudata", "description": "La ville publie ses **données** ouvertes.",
        "url": "https://example.org/",
    })
    budget = api.call("POST", "/api/1/datasets/", {
        "title": "Budget municipal",
        "description": "## Contenu\n\nLes dépenses et recettes de la ville, par année.\n\n"
                       "- source : [la comptabilité](https://example.org/compta)\n- mise à jour : annuelle",
        "organization": org["id"], "tags": ["budget", "finances"], "license": "lov2", "frequency": "annual",
    })
    resource = api.upload(f"/api/1/datasets/{budget['id']}/upload/", "budget.csv", FIRST)
    api.upload(f"/api/1/datasets/{budget['id']}/resources/{resource['id']}/upload/", "budget.csv", CURRENT)
    api.call("POST", f"/api/1/datasets/{budget['id']}/resources/", {
        "title": "Documentation du budget", "filetype": "remote", "format": "pdf",
        "url": "https://example.org/budget.pdf",
    })
    for title, tags in [
        ("Budget annexe de l'eau", ["budget", "eau"]),
        ("Arbres d'alignement", ["nature", "arbres"]),
        ("Qualité de l'air", ["air", "environnement"]),
    ]:
        api.call("POST", "/api/1/datasets/", {
            "title": title, "description": f"{title} : données publiées par la ville.",
            "organization": org["id"], "tags": tags, "license": "odc-odbl", "frequency": "monthly",
        })
    api.call("POST", "/api/1/datasets/", {"title": "Brouillon secret", "description": "d", "private": True})
    return org, budget, resource


def axe(page, label, problems):
    """axe-core's violations on the current page, each one a problem."""
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    for v in result["violations"]:
        targets = [n["target"] for n in v["nodes"]][:5]
        problems.append(f"axe on {label}: {v['id']} ({v['impact']}): {v['help']} {targets}")
    return len(result["passes"])


def fits_a_phone(browser, url, label, problems):
    phone = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    page = phone.new_page()
    page.goto(url)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{label} is {overflow}px wider than a phone's screen")
    phone.close()


def main():
    data = tempfile.mkdtemp()
    env = dict(os.environ, RUDATA_DATA_DIR=data, RUDATA_RATE_LIMIT_ANONYMOUS="0")
    run("migrate", env=env)
    run("user", "create", "--email", "site@example.org", "--first-name", "S", "--last-name", "Ite", env=env)
    key = run("token", "create", "--email", "site@example.org", "--name", "site", env=env)
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
        org, budget, resource = publish(Api(base, key))
        os.makedirs(SCREENSHOTS, exist_ok=True)

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            # The pages forbid every script (CSP): the checker is injected past it, as an extension would.
            context = browser.new_context(
                viewport={"width": 1280, "height": 800}, locale="fr-FR", accept_downloads=True, bypass_csp=True,
            )
            page = context.new_page()
            problems = []
            # The one error page visited on purpose (a private dataset) is the only 404 expected.
            page.on("console", lambda m: m.type == "error" and "/brouillon-secret/" not in m.location["url"]
                    and problems.append(f"console: {m.text} {m.location['url']}"))
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            # Downloads (stored files, permalinks) end their navigation as "aborted": not failures.
            page.on("requestfailed", lambda r: not re.search(r"/s/|/datasets/r/", r.url)
                    and problems.append(f"request failed: {r.url} {r.failure}"))
            checked = 0

            # The home page, in the browser's language (French).
            page.goto(f"{base}/")
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue de données ouvertes")
            expect(page.get_by_role("link", name="Budget municipal")).to_be_visible()
            expect(page.get_by_text("Brouillon secret")).to_have_count(0)
            page.screenshot(path=os.path.join(SCREENSHOTS, "home.png"))
            checked += axe(page, "home (fr)", problems)

            # The keyboard: the first Tab reaches the skip link, which moves to the content.
            page.keyboard.press("Tab")
            expect(page.locator(":focus")).to_have_text("Aller au contenu")
            page.keyboard.press("Enter")
            expect(page.locator(":focus")).to_have_attribute("id", "main")

            # Search from the box, then narrow with a facet.
            page.goto(f"{base}/")
            page.get_by_label("Rechercher des jeux de données").fill("budget")
            page.get_by_role("button", name="Rechercher").click()
            expect(page).to_have_url(re.compile(r"/fr/datasets/\?q=budget"))
            expect(page.get_by_role("heading", level=2, name="2 jeux de données")).to_be_visible()
            page.screenshot(path=os.path.join(SCREENSHOTS, "search.png"))
            checked += axe(page, "search (fr)", problems)
            page.locator(".facets").get_by_role("link", name=re.compile(r"^eau ")).click()
            expect(page.get_by_role("heading", level=2, name="1 jeu de données")).to_be_visible()
            expect(page.get_by_role("link", name="Budget annexe de l'eau")).to_be_visible()
            page.get_by_role("link", name=re.compile("Mot-clé : eau")).click()
            expect(page.get_by_role("heading", level=2, name="2 jeux de données")).to_be_visible()

            # Open the dataset from the results.
            page.get_by_role("link", name="Budget municipal").click()
            expect(page).to_have_url(f"{base}/fr/datasets/{budget['slug']}/")
            expect(page.get_by_role("heading", level=1)).to_have_text("Budget municipal")
            expect(page.get_by_text("Licence Ouverte")).to_be_visible()
            expect(page.get_by_text("Annuelle", exact=True)).to_be_visible()
            expect(page.get_by_role("heading", level=3, name="Contenu")).to_be_visible()
            page.screenshot(path=os.path.join(SCREENSHOTS, "dataset.png"), full_page=True)
            checked += axe(page, "dataset (fr)", problems)

            # Download the uploaded file: its current bytes.
            item = page.locator(f"#resource-{resource['id']}")
            with page.expect_download() as download:
                item.get_by_role("link", name=re.compile("^Télécharger")).click()
            assert open(download.value.path(), "rb").read() == CURRENT, "the downloaded file's bytes differ"
            # And its previous version, from the history.
            item.get_by_text("Versions précédentes").click()
            with page.expect_download() as download:
                item.locator(".history").get_by_role("link", name="budget.csv").click()
            assert open(download.value.path(), "rb").read() == FIRST, "the previous version's bytes differ"

            # Follow the permalink: the current file.
            permalink = item.get_by_role("link", name=re.compile("^Lien permanent"))
            assert permalink.get_attribute("href") == f"/fr/datasets/r/{resource['id']}"
            with page.expect_download() as download:
                permalink.click()
            assert open(download.value.path(), "rb").read() == CURRENT, "the permalink's file differs"

            # Switch to English, on the same dataset, and back.
            page.get_by_role("link", name="English").click()
            expect(page).to_have_url(f"{base}/en/datasets/{budget['slug']}/")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("heading", level=2, name=re.compile("^Files"))).to_be_visible()
            expect(page.get_by_text("Annually", exact=True)).to_be_visible()
            checked += axe(page, "dataset (en)", problems)
            page.get_by_role("link", name="Français").click()
            expect(page.locator("html")).to_have_attribute("lang", "fr")

            # The organization's page, from the dataset's.
            page.get_by_role("link", name="Ville de Rudata").click()
            expect(page).to_have_url(f"{base}/fr/organizations/{org['slug']}/")
            expect(page.get_by_role("heading", level=1)).to_have_text("Ville de Rudata")
            expect(page.get_by_role("link", name="Arbres d'alignement")).to_be_visible()
            checked += axe(page, "organization (fr)", problems)

            # The English pages, and the home page of a browser in English.
            for path, label in [("/en/datasets/?q=budget", "search (en)"), (f"/en/organizations/{org['slug']}/", "organization (en)")]:
                page.goto(f"{base}{path}")
                checked += axe(page, label, problems)
            english = browser.new_context(locale="en-US", bypass_csp=True).new_page()
            english.goto(f"{base}/")
            expect(english.locator("html")).to_have_attribute("lang", "en")
            expect(english.get_by_role("heading", level=2, name="Latest datasets")).to_be_visible()
            checked += axe(english, "home (en)", problems)

            # A private dataset is not found, as in the API.
            missing = page.goto(f"{base}/fr/datasets/brouillon-secret/")
            assert missing.status == 404, missing.status
            expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
            checked += axe(page, "404 (fr)", problems)

            for path in ["/fr/", "/fr/datasets/?q=budget", f"/fr/datasets/{budget['slug']}/"]:
                fits_a_phone(browser, f"{base}{path}", path, problems)
            browser.close()
        assert not problems, "\n".join(problems)
        print(f"browser: site searched, dataset opened, files downloaded, permalink followed, languages switched; "
              f"axe-core: no violation on 9 pages ({checked} checks passed)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
