"""Shared browser fixtures: Debian's Chromium driven by Playwright, a local
static HTTP server, and pages that may reach nothing but that server.

    chromium_browser   session: one headless Chromium (/usr/bin/chromium)
    static_server      session: static_server(directory, types=None) -> "http://127.0.0.1:PORT/"
    site_url           session: the built site/ served, its base URL
    browser_page       function: a PageProbe on a fresh context; outside requests
                       are aborted, recorded, and fail the test at teardown
    open_file_page     function: open_file_page(path) -> PageProbe on a file://
                       page with every http(s) request blocked
    calculator_dir     session: source dir of the spine_hemangioma CPython imports
    pyodide_assets_dir session: generator.pyodide_assets built once into a tmp dir
                       from calculator_dir
    answer_space       session: every combination of questions()' option values

A PageProbe records every request URL (`requests`), console errors and page
errors (`console_errors`), aborted outside requests (`outside_requests`), and
can block local URLs on purpose (`block(substring)`).
"""

from __future__ import annotations

import functools
import http.server
import itertools
import math
import os
import signal
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from generator.calculator_page import site_url as site_url_of
from generator.offline import DIST_DIR, read_edition

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE_DIR = REPO_ROOT / "site"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
# answer_space tries every combination; past this it would take minutes.
MAX_COMBINATIONS = 200_000
# Origins of the static servers of this session: the only ones pages may reach.
_LOCAL_ORIGINS: set[str] = set()

# A suite started in the background of a non-interactive shell (`cmd &`, as
# some CI runners and wrapper scripts do) gets SIGINT ignored (POSIX), and an
# ignored signal stays ignored across exec: the builds these tests interrupt
# with Ctrl-C (test_atomic_build, test_run_child) would never see it. A
# terminal's Ctrl-C is what they stand for, so the suite starts from the
# default, as a process started from a terminal does.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# The names of the runtime files a calculator page requested, one per request
# (Resource Timing), for the tests that each is downloaded once. pyodide.js and
# pyodide.asm.mjs are left out: the loader fetches them, then a script element
# and import() read them again from the HTTP cache.
RUNTIME_FETCHES_JS = """(() => performance.getEntriesByType("resource")
  .map((e) => new URL(e.name).pathname.split("/").pop())
  .filter((n) => /^(runtime\\.json|pyodide-lock\\.json|pyodide\\.asm\\.wasm)$/.test(n)
    || /^(python_stdlib\\.zip|.+\\.whl)$/.test(n))
  .sort())()"""
RUNTIME_FETCHED_ONCE = 5  # runtime.json, the lock file, the wasm, the stdlib, the wheel


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    # .mjs and .wasm need their real types: module scripts and streaming
    # wasm compilation refuse anything else.
    extensions_map = {  # noqa: RUF012 (class attribute of the stdlib handler)
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".whl": "application/zip",
        ".zip": "application/zip",
    }

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def static_server() -> Iterator[Callable[[Path], str]]:
    """Factory: serve a directory on 127.0.0.1 (random port); returns its base URL."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def serve(directory: Path, types: dict[str, str] | None = None) -> str:
        """`types`: extension -> Content-Type overrides (an LMS serving .wasm as
        application/octet-stream)."""
        directory = Path(directory)
        if not directory.is_dir():
            pytest.fail(f"cannot serve {directory}: not a directory")
        handler_class = _QuietHandler
        if types:
            handler_class = type(
                "_TypedHandler",
                (_QuietHandler,),
                {"extensions_map": {**_QuietHandler.extensions_map, **types}},
            )
        handler = functools.partial(handler_class, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        host, port = server.server_address[:2]
        _LOCAL_ORIGINS.add(f"http://{host}:{port}")
        return f"http://{host}:{port}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site_url(static_server) -> str:
    """The built site/ served locally (build it first: `make site`)."""
    if not (SITE_DIR / "index.html").is_file():
        pytest.fail(f"{SITE_DIR} is not built (no index.html): run `make site` first")
    return static_server(SITE_DIR)


@pytest.fixture(scope="session")
def published_url(static_server, tmp_path_factory) -> str:
    """site/ served under the path of mkdocs.yml's site_url, as its host serves it
    (404.html links to its assets by that absolute path)."""
    if not (SITE_DIR / "index.html").is_file():
        pytest.fail(f"{SITE_DIR} is not built: run `make site` first")
    path = urlsplit(site_url_of(REPO_ROOT / "mkdocs.yml")).path.strip("/")
    root = tmp_path_factory.mktemp("host")
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(SITE_DIR, target_is_directory=True)
    return f"{static_server(root)}{path}/"


@pytest.fixture(scope="session")
def offline_bundle(tmp_path_factory) -> Path:
    """The offline zip unpacked once, as a trainee would: its one top-level folder.
    Shared by the test files: a test that changes it works on a copy."""
    slug = read_edition().slug
    zip_path = DIST_DIR / f"{slug}.zip"
    if not zip_path.is_file():
        pytest.fail(f"{zip_path} is not built: run `make site` first")
    out = tmp_path_factory.mktemp("offline-bundle")
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(out)
    return out / slug


@pytest.fixture(scope="session")
def calculator_dir() -> Path:
    """The distribution directory of the spine_hemangioma CPython imports, so the
    wheel under test and the CPython reference are the same source."""
    import spine_hemangioma  # noqa: PLC0415 (the package under test, imported late)

    root = Path(spine_hemangioma.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        pytest.fail(f"spine_hemangioma is imported from {root}, which has no pyproject.toml")
    return root


@pytest.fixture(scope="session")
def pyodide_assets_dir(tmp_path_factory, calculator_dir) -> Path:
    from generator.pyodide_assets import build_pyodide_assets  # noqa: PLC0415

    out = tmp_path_factory.mktemp("assets") / "pyodide"
    build_pyodide_assets(out, calculator_dir=calculator_dir)
    return out


def _field(obj, *names):
    """A field of a question or an option, whether dicts or objects."""
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if not isinstance(obj, dict) and hasattr(obj, name):
            return getattr(obj, name)
    raise AssertionError(f"questions(): expected one of {names} in {obj!r}")


@pytest.fixture(scope="session")
def answer_space() -> list[dict]:
    """Every combination of the answer values that spine_hemangioma.questions() offers,
    as answer objects {question id: option value}."""
    import spine_hemangioma  # noqa: PLC0415

    questions = list(spine_hemangioma.questions())
    assert questions, "questions() returned no questions"
    ids, values = [], []
    for q in questions:
        ids.append(_field(q, "id", "key", "name"))
        options = list(_field(q, "options", "choices"))
        assert options, f"question {ids[-1]!r} has no options"
        scalar = str | int | float | bool
        values.append([o if isinstance(o, scalar) else _field(o, "value", "id") for o in options])
    count = math.prod(len(v) for v in values)
    assert count <= MAX_COMBINATIONS, f"{count} combinations: too many to try them all"
    return [dict(zip(ids, combo, strict=True)) for combo in itertools.product(*values)]


@pytest.fixture(scope="session")
def chromium_browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it with `make chromium`")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (only browser tests need it)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PageProbe:
    page: object
    allowed_origins: set[str]
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    _block_patterns: list[str] = field(default_factory=list)

    def block(self, substring: str) -> None:
        """Abort (as a network failure) every allowed request whose URL contains substring."""
        self._block_patterns.append(substring)

    def _route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in {"http", "https", "ws", "wss"}:
            if f"{parts.scheme}://{parts.netloc}" not in self.allowed_origins:
                self.outside_requests.append(url)
                route.abort("blockedbyclient")
                return
            if any(p in url for p in self._block_patterns):
                self.blocked.append(url)
                route.abort("failed")
                return
        route.continue_()

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            self.console_errors.append(f"console: {msg.text}")


def _new_probe(browser, allowed_origins: set[str]) -> tuple[object, PageProbe]:
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    probe = PageProbe(page=page, allowed_origins=allowed_origins)
    context.route("**/*", probe._route)
    page.on("request", lambda req: probe.requests.append(req.url))
    page.on("console", probe._on_console)
    page.on("pageerror", lambda exc: probe.console_errors.append(f"pageerror: {exc}"))
    return context, probe


@pytest.fixture
def browser_page(chromium_browser, static_server) -> Iterator[PageProbe]:
    """A page that may load only from the local static servers.

    Every other http(s) request is aborted and recorded; any such request
    fails the test at teardown. Console errors are recorded for the test to
    assert on (some tests cause errors on purpose)."""
    # The live set: a server the test starts after this fixture is allowed too.
    context, probe = _new_probe(chromium_browser, _LOCAL_ORIGINS)
    yield probe
    context.close()
    assert not probe.outside_requests, f"requests left the local server: {probe.outside_requests}"


@pytest.fixture
def open_file_page(chromium_browser) -> Iterator[Callable[..., PageProbe]]:
    """open_file_page(path) -> PageProbe of a file:// page; all http(s) requests blocked."""
    contexts = []
    probes: list[PageProbe] = []

    def open_page(path: Path, wait_until: str = "load") -> PageProbe:
        context, probe = _new_probe(chromium_browser, set())
        contexts.append(context)
        probes.append(probe)
        probe.page.goto(Path(path).resolve().as_uri(), wait_until=wait_until)
        return probe

    yield open_page
    for context in contexts:
        context.close()
    outside = [url for probe in probes for url in probe.outside_requests]
    assert not outside, f"a file:// page made network requests: {outside}"
