"""The published site's service worker (generator/service_worker.py) in Chromium,
against a server of the test's own that logs each request and can go away:
offline after the first visit (pages and calculator), no background fetch for
a reader who saves data or is on 2g, a new build replacing the old cache, and
the manifest that makes the site installable."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from generator.service_worker import MANIFEST_PATH, REGISTER_PATH, generate_sw
from tests.conftest import REPO_ROOT, SITE_DIR, _QuietHandler

CASES = json.loads((REPO_ROOT / "calculator" / "cases.json").read_text(encoding="utf-8"))["cases"]
CASE = min(
    (c for c in CASES if c["expect"].get("status") == "complete"), key=lambda c: len(c["answers"])
)
READY_MS = 60_000
# What the register script waits for (load, then idle), with room to spare.
SETTLE_MS = 4_000


class Server:
    """site_dir served on 127.0.0.1; `log` holds (seconds, path) of each request."""

    def __init__(self, site_dir: Path) -> None:
        self.log: list[tuple[float, str]] = []
        log = self.log

        class Handler(_QuietHandler):
            def do_GET(self):
                log.append((time.monotonic(), self.path.split("?")[0]))
                super().do_GET()

        handler = functools.partial(Handler, directory=str(site_dir))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self, since: float = 0.0) -> list[str]:
        return [p for t, p in self.log if t >= since]


@pytest.fixture
def site_copy(tmp_path) -> Path:
    if not (SITE_DIR / "sw.js").is_file():
        pytest.fail(f"{SITE_DIR} has no sw.js: run `make site` first")
    return Path(shutil.copytree(SITE_DIR, tmp_path / "site"))


@pytest.fixture
def server(site_copy):
    srv = Server(site_copy)
    yield srv
    srv.stop()


@pytest.fixture
def sw_context(chromium_browser):
    """A fresh profile in which service workers run (the other tests block them)."""
    context = chromium_browser.new_context(service_workers="allow")
    errors: list[str] = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    yield context
    context.close()
    assert errors == []


def wait_controlled(page) -> None:
    """Until the service worker has installed (precached) and controls the page."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=120_000)


def answer(page, answers: dict) -> None:
    for field, value in answers.items():
        page.locator(f'fieldset[data-field="{field}"] input[value="{value}"]').check()


def test_every_served_page_links_manifest_and_register_script_but_404():
    pages = sorted(SITE_DIR.rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        linked = REGISTER_PATH in text and 'rel="manifest"' in text
        assert linked == (page.name != "404.html" or page.parent != SITE_DIR), page
    manifest = json.loads((SITE_DIR / MANIFEST_PATH).read_text(encoding="utf-8"))
    assert manifest["start_url"] == "./"
    assert manifest["display"] == "standalone"
    sizes = {i["sizes"] for i in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        data = (SITE_DIR / icon["src"]).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


def test_offline_after_the_first_visit_pages_and_calculator(sw_context, server):
    page = sw_context.new_page()
    page.goto(server.url)  # one guide page, read
    wait_controlled(page)
    # The install fetched the calculator's runtime too.
    assert any(p.startswith("/pyodide/") for p in server.paths())
    server.stop()  # no network from here on
    for path in ("algorithm/", "references/"):
        page.goto(server.url + path)
        expect(page.locator("h1").first).to_be_visible()
    query = "&".join(f"{k}={v}" for k, v in CASE["answers"].items())
    page.goto(f"{server.url}calculator/?{query}")
    root = page.locator("[data-spine-calc]")
    expect(root).to_have_attribute("data-ready", "true", timeout=READY_MS)
    result = root.locator(".sh-result")
    expect(result).to_have_attribute("data-status", "complete")
    expect(result).to_have_attribute("data-pathway", CASE["expect"]["pathway"])


# navigator.connection as the reader's browser reports it; `fetches` says
# whether the runtime is fetched in the background.
CONNECTIONS = [
    ({"saveData": True, "effectiveType": "4g"}, False),
    ({"saveData": False, "effectiveType": "2g"}, False),
    ({"saveData": False, "effectiveType": "slow-2g"}, False),
    ({"saveData": False, "effectiveType": "4g"}, True),
]


@pytest.mark.parametrize(("connection", "fetches"), CONNECTIONS, ids=str)
def test_background_fetch_only_when_not_saving_data(sw_context, server, connection, fetches):
    page = sw_context.new_page()
    page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'connection', "
        f"{{get: () => ({json.dumps(connection)})}});"
    )
    page.goto(server.url)
    loaded = time.monotonic()
    # The page's own load has no Pyodide byte, whatever the connection.
    assert not [p for t, p in server.log if p.startswith("/pyodide/") and t <= loaded]
    if fetches:
        wait_controlled(page)
        assert "/pyodide/pyodide.asm.wasm" in server.paths(since=loaded)
        expect(page.locator("html")).to_have_attribute("data-service-worker", "registered")
    else:
        page.wait_for_timeout(SETTLE_MS)
        expect(page.locator("html")).to_have_attribute("data-service-worker", "skipped")
        assert page.evaluate("navigator.serviceWorker.getRegistration()") is None
        assert not [p for p in server.paths() if p.startswith("/pyodide/") or p == "/sw.js"]


def test_a_new_build_replaces_the_old_cache(sw_context, server, site_copy):
    page = sw_context.new_page()
    page.goto(server.url + "about/")
    wait_controlled(page)
    old_sw = (site_copy / "sw.js").read_text(encoding="utf-8")
    # A new build: one page changes, and sw.js with it (its revision).
    about = site_copy / "about" / "index.html"
    about.write_text(
        about.read_text(encoding="utf-8").replace("</h1>", " (new build)</h1>", 1),
        encoding="utf-8",
    )
    generate_sw(site_copy)
    assert (site_copy / "sw.js").read_text(encoding="utf-8") != old_sw
    page.evaluate(
        "() => new Promise((done) => {"
        " navigator.serviceWorker.addEventListener('controllerchange', done);"
        " navigator.serviceWorker.getRegistration().then((r) => r.update()); })"
    )
    copies = """async () => {
          const out = [];
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            for (const req of await cache.keys()) {
              if (new URL(req.url).pathname === '/about/index.html') {
                out.push(await (await cache.match(req)).text());
              }
            }
          }
          return out;
        }"""
    # The new worker activates, then drops the entries of the old build.
    for _ in range(100):
        cached = page.evaluate(copies)
        if len(cached) == 1:
            break
        page.wait_for_timeout(100)
    assert len(cached) == 1, f"{len(cached)} copies of the page in the caches"
    assert "(new build)</h1>" in cached[0]
    server.stop()
    page.goto(server.url + "about/")
    expect(page.locator("h1").first).to_contain_text("(new build)")
