"""Performance bench: `make bench` (or `.venv/bin/python bench/run.py --samples 9`).

Measures, in one run, in headless Chromium (/usr/bin/chromium):

    TTFR served   navigation start -> a complete result on screen, for a
                  pre-filled calculator URL served by a local HTTP server;
    TTFR file     the same for the offline bundle (dist/*offline.zip,
                  unzipped) opened over file://;
    baseline      bench/baseline.html: the same Pyodide from the same server,
                  loadPyodide + runPython("1+1"), navigation start -> done;
    peer_pyodide  bench/peer_pyodide.html: the same job the plain way, stock
                  Pyodide + loadPackage(the site's wheel) + evaluate_json;
    pyscript      bench/peer_pyscript.html: the same job with PyScript (npm
                  @pyscript/core, self-hosted) on the same stock Pyodide;
    ttfr_9mbit, ttfr_1_6mbit, baseline_9mbit, baseline_1_6mbit
                  TTFR and baseline under Chromium's network emulation of
                  9 Mbit/s 40 ms and 1.6 Mbit/s 150 ms (a failure is counted);
    second_visit  TTFR of the calculator opened again in the same profile
                  (HTTP cache, service worker), at 9 Mbit/s;
    after_guide_page
                  TTFR of the calculator after one guide page was read (the
                  service worker installed with the runtime), at 9 Mbit/s;
    warm          on a loaded calculator page, one answer changed -> result
                  updated, over 200 changes (median and p95);
    bytes         what the calculator page and the home page transfer, cold,
                  from a server that sends the build's precompressed name.gz
                  (as nginx gzip_static) and gzips the rest at level 6; what
                  a host gzipping everything at level 6 would send; and what
                  brotli would (the build's name.br, quality 11);
    build         `make clean && make site`, in a scratch copy of the tree;
    offline zip   its size;

prints a table (median, min, max) and whether each target holds, and writes
bench/results.json.

Cold means cold: every timed page load gets its own browser, launched on a
fresh temporary user-data-dir (a new persistent context per load), so the HTTP
cache, V8's code cache and the compiled-wasm cache all start empty; a new
context in a shared browser would still share that browser's in-memory state.
Each new browser is left idle for 1.5 s before the navigation (its own
start-up work would otherwise compete with the page for the CPU). The
page loads alternate within each round, the order rotating from round to
round, so a burst of load on this shared machine hits all of them.

Times come from the page itself: performance.now() (0 = navigation start),
taken by a MutationObserver that an init script installs before any of the
page's scripts run. Beside each wall time, Chromium's CPU time of the page's
main thread and of its renderer process by then (CDP Performance.getMetrics):
on a busy machine wall times swell, CPU times hardly move.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import http.server
import io
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import brotli

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
SITE_DIR = REPO_ROOT / "site"
DIST_DIR = REPO_ROOT / "dist"
RESULTS_FILE = BENCH_DIR / "results.json"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
OFFLINE_ZIP_GLOB = "spine-hemangioma-guide-*-offline.zip"
# bench/*.html are served beside site/ under this prefix (never part of the site).
BENCH_PREFIX = "/__bench__/"
STOCK_PATH = "stock-pyodide/"
STOCK_PYODIDE = REPO_ROOT / "node_modules" / "pyodide"
# The PyScript peer's runtime layer: npm @pyscript/core as published (its
# bundled dist/), self-hosted like the stock Pyodide, never from a CDN.
PYSCRIPT_PATH = "pyscript/"
PYSCRIPT_DIST = REPO_ROOT / "node_modules" / "@pyscript" / "core" / "dist"
CALCULATOR_PAGE = "calculator/index.html"
# A complete result on the first evaluation: vertebroplasty.
CALCULATOR_QUERY = (
    "mri=typical&symptoms=pain&instability=no&recurrent=no"
    "&preference=treatment&extension=intraosseous&fracture=yes"
)
# Warm changes flip this question between two answers with different pathways
# (vertebroplasty <-> conservative) from the query above.
WARM_FIELD = "preference"
WARM_VALUES = ("conservative", "treatment")
PAGE_TIMEOUT_MS = 180_000
# Already compressed: a static host sends them as they are.
NOT_COMPRESSED = {".png", ".gz", ".br", ".ico", ".woff2"}
# Chromium's network emulation (CDP Network.emulateNetworkConditions) of the
# issue's two links: hospital Wi-Fi, and a poor phone connection.
NETWORKS = {
    "9mbit": {"latency": 40, "downloadThroughput": 9e6 / 8, "uploadThroughput": 9e6 / 8},
    "1_6mbit": {"latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 0.75e6 / 8},
}
BROWSER_SETTLE_MS = 1500
# The build is timed with its dependencies installed: make must not remake the
# two install markers, even when pyproject.toml or package.json is newer.
KEEP_DEPS = "-o .venv/.installed -o node_modules/.installed"


class BenchError(Exception):
    """A measurement cannot be made; the message is one line for the user."""


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- Local static server ------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """site/ as a static host would serve it, plus bench/ pages under BENCH_PREFIX;
    counts the body bytes of every response into the server's tally."""

    # .mjs and .wasm need their real types: module scripts and streaming wasm
    # compilation refuse anything else (same map as tests/conftest.py).
    extensions_map = {  # noqa: RUF012 (class attribute of the stdlib handler)
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".whl": "application/zip",
        ".zip": "application/zip",
    }

    def translate_path(self, path: str) -> str:
        name = urlsplit(path).path.removeprefix(BENCH_PREFIX)
        if path.startswith(BENCH_PREFIX) and "/" not in name and name.endswith(".html"):
            return str(BENCH_DIR / name)
        # The baseline's Pyodide: the npm package as published (stock stdlib of
        # .py sources), not the site's copy with its precompiled stdlib.
        if path.startswith(BENCH_PREFIX + STOCK_PATH):
            stock = name.removeprefix(STOCK_PATH)
            if "/" not in stock and stock:
                return str(STOCK_PYODIDE / stock)
        if path.startswith(BENCH_PREFIX + PYSCRIPT_PATH):
            dist = name.removeprefix(PYSCRIPT_PATH)
            if "/" not in dist and dist:
                return str(PYSCRIPT_DIST / dist)
        return super().translate_path(path)

    def send_head(self):
        # An override stands in for the site's file (experiments: a changed
        # page, loader or wheel without copying site/).
        path = urlsplit(self.path).path
        body = self.server.overrides.get(path)
        if body is None and self.server.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            return self._send_gzip()
        if body is None:
            return super().send_head()
        self.send_response(200)
        self.send_header(
            "Content-Type", "text/html" if path.endswith("/") else self.guess_type(path)
        )
        # An override is gzipped now, like a file the build wrote no copy of.
        compressible = Path(path).suffix not in NOT_COMPRESSED
        if compressible and self.server.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            key = ("override", path)
            if key not in self.server.gzip_cache:
                self.server.gzip_cache[key] = live_gzip(body)
            body = self.server.gzip_cache[key]
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def _send_gzip(self):
        """The file gzipped, for every type but those already compressed (PNG):
        its precompressed copy `name.gz` if the build wrote one (as nginx's
        gzip_static serves it), else gzipped now at level 6 as hosts do."""
        local = Path(self.translate_path(self.path))
        if local.is_dir():
            local = local / "index.html"
        if not local.is_file() or local.suffix in NOT_COMPRESSED:
            return super().send_head()
        key = (str(local), local.stat().st_mtime_ns)
        data = self.server.gzip_cache.get(key)
        if data is None:
            copy = local.with_name(local.name + ".gz")
            data = copy.read_bytes() if copy.is_file() else live_gzip(local.read_bytes())
            self.server.gzip_cache[key] = data
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(local)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Last-Modified", self.date_time_string(int(local.stat().st_mtime)))
        self.end_headers()
        return io.BytesIO(data)

    def copyfile(self, source, outputfile) -> None:
        sent = 0
        while chunk := source.read(64 * 1024):
            outputfile.write(chunk)
            sent += len(chunk)
        self.server.tally.append((urlsplit(self.path).path, sent))

    def log_message(self, format, *args) -> None:
        pass


class BenchServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    tally: list[tuple[str, int]]  # (path, body bytes) of every response sent
    overrides: dict[str, bytes]  # URL path -> body served instead of the file
    gzip: bool  # compress responses as a static host does
    gzip_cache: dict[tuple[str, int | str], bytes]  # (file, mtime) or ("override", path)


@contextlib.contextmanager
def serve(
    directory: Path, overrides: dict[str, bytes] | None = None, *, compress: bool = False
) -> Iterator[tuple[str, BenchServer]]:
    """A threaded static server on 127.0.0.1 (random port): (base URL, server);
    `compress`: gzip as a static host does."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = BenchServer(("127.0.0.1", 0), handler)
    server.tally = []
    server.overrides = dict(overrides or {})
    server.gzip = compress
    server.gzip_cache = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/", server
    finally:
        server.shutdown()
        server.server_close()


# --- Browser ------------------------------------------------------------------------

# Installed before any script of the page: records performance.now() the first
# time the calculator's result says "complete" (or that loading failed). The
# observer runs at the end of the task that rendered the result, so the whole
# result is in the DOM by then.
RESULT_OBSERVER_JS = """
(() => {
  const seen = () => {
    const r = document.querySelector(".sh-result");
    if (!r || window.__benchResultAt !== undefined) return;
    if (r.dataset.status === "complete") window.__benchResultAt = performance.now();
    if (r.dataset.status === "failed") window.__benchError = r.textContent;
  };
  new MutationObserver(seen).observe(document, {
    subtree: true, attributes: true, attributeFilter: ["data-status"],
  });
})();
"""

# Runs in a loaded calculator page: flips one question `n` times by clicking
# its radio from JS, and times each click -> result changed (the observer
# fires once the change handler has evaluated and rendered). Waits a frame and
# a task between changes, so each starts from an idle, painted page.
WARM_LOOP_JS = """
async ([field, values, n]) => {
  const root = document.querySelector("[data-spine-calc]");
  const result = root.querySelector(".sh-result");
  const radio = (v) => root.querySelector(`fieldset[data-field="${field}"] input[value="${v}"]`);
  const inputs = values.map(radio);
  if (inputs.some((i) => !i)) throw new Error(`no radio for ${field} = ${values}`);
  const times = [];
  const pathways = new Set();
  for (let i = 0; i < n; i++) {
    const before = result.dataset.pathway;
    let changedAt;
    const changed = new Promise((resolve) => {
      const mo = new MutationObserver(() => {
        changedAt = performance.now();
        mo.disconnect();
        resolve();
      });
      mo.observe(result, { attributes: true, childList: true, subtree: true });
    });
    const start = performance.now();
    inputs[i % inputs.length].click();
    await changed;
    times.push(changedAt - start);
    if (result.dataset.status !== "complete" || result.dataset.pathway === before) {
      throw new Error(`change ${i}: result ${result.dataset.status}/${result.dataset.pathway}`);
    }
    pathways.add(result.dataset.pathway);
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  }
  return { times, pathways: [...pathways] };
}
"""


@contextlib.contextmanager
def cold_page(pw, *, service_workers: bool = False) -> Iterator[object]:
    """A page in a browser of its own, on a fresh profile: nothing cached."""
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as profile:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            service_workers="allow" if service_workers else "block",
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            # A new browser keeps a core busy for about a second (its WebUI
            # renderer, profile set-up): let it settle, as a user's browser
            # has, so the page does not share the CPU with it. Caches stay empty.
            page.wait_for_timeout(BROWSER_SETTLE_MS)
            yield page
        finally:
            context.close()


def wait_for_time(page, name: str, what: str) -> float:
    """Wait until the page sets window[`name`] (a performance.now() time) and
    return it; BenchError if it sets window.__benchError instead. Polled from
    here every 100 ms: wait_for_function evaluates a string, which the site's
    Content-Security-Policy (no 'unsafe-eval') forbids."""
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    read = f"() => [window[{json.dumps(name)}], window.__benchError]"
    while time.monotonic() < deadline:
        done, error = page.evaluate(read)
        if error is not None:
            raise BenchError(f"{what}: {' '.join(str(error).split())[:300]}")
        if done is not None:
            return float(done)
        page.wait_for_timeout(100)
    raise BenchError(f"{what}: nothing after {PAGE_TIMEOUT_MS / 1000:.0f} s")


@dataclass(frozen=True)
class Sample:
    """One cold load: wall time from the page, and CPU time from Chromium. On
    a shared machine the CPU times barely move when the wall time does."""

    ms: float  # navigation start -> done (performance.now() in the page)
    cpu_ms: float  # CPU time of the page's main thread by then
    process_cpu_ms: float  # ... of its whole renderer (wasm compile threads, workers)
    extra: object = None  # what `collect` returned, if asked


def time_page(
    pw,
    url: str,
    done: str,
    init_scripts: tuple[str, ...] = (),
    *,
    collect: str | None = None,
    network: dict | None = None,
) -> Sample:
    """Load `url` cold and wait for window[`done`]: the time and CPU spent,
    and the value of the JS function `collect` then. `network`: the page's
    requests throttled (CDP Network.emulateNetworkConditions parameters)."""
    with cold_page(pw) as page:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        if network:
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", {"offline": False, **network})
        for script in init_scripts:
            page.add_init_script(script)
        page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        ms = wait_for_time(page, done, url)
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        extra = page.evaluate(collect) if collect else None
    return Sample(ms, metrics["ThreadTime"] * 1000, metrics["ProcessTime"] * 1000, extra)


def wait_for_service_worker(page, what: str) -> None:
    """Until the site's service worker has installed (precached) and controls the page."""
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if page.evaluate("() => navigator.serviceWorker.controller !== null"):
            return
        page.wait_for_timeout(200)
    raise BenchError(f"{what}: no service worker after {PAGE_TIMEOUT_MS / 1000:.0f} s")


def time_visit_after(pw, first_url: str, url: str, network: dict | None) -> Sample:
    """TTFR of `url` in a profile that first opened `first_url` (the calculator
    itself: a second visit; a guide page: the service worker warm), once the
    service worker controls it; the second page's network emulated."""
    with cold_page(pw, service_workers=True) as page:
        page.context.add_init_script(RESULT_OBSERVER_JS)
        page.goto(first_url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        wait_for_service_worker(page, first_url)
        second = page.context.new_page()
        page.close()
        cdp = second.context.new_cdp_session(second)
        cdp.send("Performance.enable")
        if network:
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", {"offline": False, **network})
        second.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        ms = wait_for_time(second, "__benchResultAt", url)
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return Sample(ms, metrics["ThreadTime"] * 1000, metrics["ProcessTime"] * 1000)


def time_to_result(pw, url: str) -> Sample:
    """TTFR of a calculator URL: navigation start -> complete result."""
    return time_page(pw, url, "__benchResultAt", (RESULT_OBSERVER_JS,))


def time_baseline(pw, url: str) -> Sample:
    """Baseline: navigation start -> Pyodide loaded and 1+1 run."""
    return time_page(pw, url, "__benchDoneAt")


def check_local_only(pw, url: str) -> None:
    """Load a bench page cold until it is done; BenchError if it requested
    anything from another origin than the bench server (PyScript falls back
    to a CDN for whatever it is not told to find locally)."""
    origin = urlsplit(url).netloc
    requested: list[str] = []
    with cold_page(pw) as page:
        page.on("request", lambda request: requested.append(request.url))
        page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        wait_for_time(page, "__benchDoneAt", url)
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
    elsewhere = [
        u
        for u in requested
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != origin
    ]
    if elsewhere:
        raise BenchError(f"{url}: requests that left the bench server: {elsewhere[:5]}")


def warm_latencies(pw, url: str, changes: int) -> list[float]:
    """Per-change latency (ms) of `changes` answer changes on one loaded page."""
    with cold_page(pw) as page:
        page.add_init_script(RESULT_OBSERVER_JS)
        page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        wait_for_time(page, "__benchResultAt", url)
        out = page.evaluate(WARM_LOOP_JS, [WARM_FIELD, list(WARM_VALUES), changes])
    if len(out["pathways"]) != 2:
        raise BenchError(f"warm: expected two pathways, saw {out['pathways']}")
    return out["times"]


def chromium_version(pw) -> str:
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        return browser.version
    finally:
        browser.close()


def page_bytes(pw, server: BenchServer, url: str, *, calculator: bool) -> dict:
    """Body bytes the server sent for one cold load of `url` (every request,
    the search worker's too), once the network has been idle for 500 ms."""
    server.tally.clear()
    with cold_page(pw) as page:
        page.add_init_script(RESULT_OBSERVER_JS)
        page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        if calculator:
            wait_for_time(page, "__benchResultAt", url)
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
    paths = [p for p, _ in server.tally]
    return {"bytes": sum(n for _, n in server.tally), "requests": len(paths), "paths": paths}


# --- Samples and statistics ---------------------------------------------------------


@dataclass
class Timing:
    """Samples of one measure, in ms."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile (p in 0..100)."""
        ordered = sorted(self.samples)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1]


def alternate(
    measures: dict[str, Callable[[], Sample]], rounds: int, failures: dict[str, list[str]]
) -> dict[str, list[Sample]]:
    """Run every measure once per round, rotating their order each round;
    a measure that fails is recorded in `failures`."""
    names = list(measures)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for i in range(rounds):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            try:
                sample = measures[name]()
            except BenchError as exc:
                # A page that failed (the slow link's target is "no failure")
                # is counted, not fatal.
                failures.setdefault(name, []).append(str(exc)[:200])
                log(f"round {i + 1}/{rounds}: {name} FAILED: {exc}")
                continue
            samples[name].append(sample)
            log(
                f"round {i + 1}/{rounds}: {name} {sample.ms:.0f} ms"
                f" (main-thread CPU {sample.cpu_ms:.0f} ms)"
            )
    return samples


# --- Offline bundle and build ---------------------------------------------------------


def find_offline_zip(dist: Path) -> Path | None:
    """The newest offline zip in `dist`, if any."""
    zips = sorted(dist.glob(OFFLINE_ZIP_GLOB), key=lambda p: p.stat().st_mtime)
    return zips[-1] if zips else None


def unzip_bundle(zip_path: Path, dest: Path) -> Path:
    """Unzip the offline bundle into `dest`; its calculator page."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(dest)
    pages = list(dest.glob(f"*/{CALCULATOR_PAGE}"))
    if len(pages) != 1:
        raise BenchError(f"{zip_path.name}: expected one */{CALCULATOR_PAGE}, found {len(pages)}")
    return pages[0]


def scratch_tree(dest: Path) -> Path:
    """Copy the working tree (tracked and untracked, not ignored files) into
    `dest`, with .venv and node_modules linked: the build can wipe and rebuild
    its site/ without touching the one this bench (and colleagues) use."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    )
    for rel in sorted(set(listing.stdout.decode().split("\0")) - {""}):
        src = REPO_ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)  # mtimes kept: make sees deps up to date
    for name in (".venv", "node_modules"):
        (dest / name).symlink_to(REPO_ROOT / name)
    return dest


def time_build(tree: Path) -> float:
    """Seconds of `make clean && make site` in `tree` (dependencies installed)."""
    log(f"timing `make clean && make site` in {tree}")
    started = time.monotonic()
    proc = subprocess.run(
        ["bash", "-c", f"make clean && make {KEEP_DEPS} site"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise BenchError(f"make clean && make site failed (exit {proc.returncode}):\n{tail}")
    return seconds


def prepare_site(args: argparse.Namespace, work: Path) -> tuple[float | None, Path, Path | None]:
    """(build seconds, site to measure, offline zip). The site measured never
    changes under the bench: it is the scratch build's own output, or a copy of
    site/ (which `make site` elsewhere may replace at any moment)."""
    build_s = None
    if args.skip_build or args.build_in_place:
        if args.build_in_place:
            build_s = time_build(REPO_ROOT)
        site, dist = work / "site", DIST_DIR
        shutil.copytree(SITE_DIR, site)
    else:
        tree = scratch_tree(work / "tree")
        build_s = time_build(tree)
        site, dist = tree / "site", tree / "dist"
    if not (site / CALCULATOR_PAGE).is_file() or not (site / "pyodide").is_dir():
        raise BenchError(f"{site} has no calculator or no pyodide/: run `make site` first")
    if args.offline_zip is not None and not args.offline_zip.is_file():
        raise BenchError(f"{args.offline_zip}: no such offline zip")
    offline_zip = args.offline_zip or find_offline_zip(dist)
    if offline_zip is not None:
        offline_zip = Path(shutil.copy2(offline_zip, work / offline_zip.name))
    return build_s, site, offline_zip


# --- Report ---------------------------------------------------------------------------


def summarize(loads: dict[str, list[Sample]], warm: Timing, extra: dict) -> dict:
    """The flat results of bench/results.json."""
    results: dict = {"ttfr_file_ms": None}
    for name, samples in loads.items():
        wall = [x.ms for x in samples]
        if not wall:
            results[f"{name}_ms"] = None
            continue
        results[f"{name}_ms"] = round(statistics.median(wall), 1)
        results[f"{name}_min_ms"] = round(min(wall), 1)
        results[f"{name}_max_ms"] = round(max(wall), 1)
        results[f"{name}_samples_ms"] = [round(x, 1) for x in wall]
        results[f"{name}_cpu_ms"] = round(statistics.median(x.cpu_ms for x in samples), 1)
        results[f"{name}_process_cpu_ms"] = round(
            statistics.median(x.process_cpu_ms for x in samples), 1
        )
    results["ratio_served"] = round(results["ttfr_served_ms"] / results["baseline_ms"], 3)
    results["ratio_served_cpu"] = round(
        results["ttfr_served_cpu_ms"] / results["baseline_cpu_ms"], 3
    )
    for net in NETWORKS:
        ours, base = results.get(f"ttfr_{net}_ms"), results.get(f"baseline_{net}_ms")
        results[f"ratio_{net}"] = round(ours / base, 3) if ours and base else None
    for name in ("second_visit", "after_guide_page"):
        value = results.get(f"{name}_ms")
        results[f"ratio_{name}_to_local"] = (
            round(value / results["ttfr_served_ms"], 3) if value else None
        )
    results["warm_median_ms"] = round(warm.median, 2)
    results["warm_p95_ms"] = round(warm.percentile(95), 2)
    results["warm_min_ms"] = round(min(warm.samples), 2)
    results["warm_max_ms"] = round(max(warm.samples), 2)
    results["warm_changes"] = len(warm.samples)
    results.update(extra)
    results["targets"] = targets(results)
    return results


def targets(r: dict) -> dict[str, dict]:
    """Each limit of the "Performance" issue, and whether it holds (None: not measured)."""
    file_limit = None if r["ttfr_file_ms"] is None else round(1.3 * r["ttfr_served_ms"], 1)
    visit_limit = round(1.1 * r["ttfr_served_ms"], 1)
    checks = [
        ("ratio_served", "local cold TTFR <= 0.45 x baseline", r["ratio_served"], 0.45),
        ("ttfr_file_ms", "TTFR file <= 1.3 x TTFR served", r["ttfr_file_ms"], file_limit),
        ("warm_p95_ms", "warm p95 <= 16 ms", r["warm_p95_ms"], 16.0),
        ("plain_page_bytes", "plain page <= 500 KB", r["plain_page_bytes"], 500_000),
        (
            "calculator_page_gzip_bytes",
            "calculator page <= 4.5 MB over the wire (gzip)",
            r["calculator_page_gzip_bytes"],
            4_500_000,
        ),
        (
            "calculator_page_brotli_bytes",
            "calculator page <= 3.6 MB over the wire (brotli)",
            r["calculator_page_brotli_bytes"],
            3_600_000,
        ),
        ("ratio_9mbit", "cold TTFR at 9 Mbit/s <= 0.6 x baseline", r.get("ratio_9mbit"), 0.6),
        (
            "ttfr_1_6mbit_failures",
            "at 1.6 Mbit/s a result arrives (no failure)",
            r.get("ttfr_1_6mbit_failures"),
            0,
        ),
        (
            "second_visit_ms",
            "second visit <= 1.1 x local cold",
            r.get("second_visit_ms"),
            visit_limit,
        ),
        (
            "after_guide_page_ms",
            "after a guide page (SW warm) <= 1.1 x local cold",
            r.get("after_guide_page_ms"),
            visit_limit,
        ),
        (
            "plain_page_pyodide_requests",
            "a plain guide page's own load: no Pyodide byte",
            r["plain_page_pyodide_requests"],
            0,
        ),
    ]
    return {
        key: {
            "target": text,
            "value": value,
            "limit": limit,
            "holds": None if value is None or limit is None else value <= limit,
        }
        for key, text, value, limit in checks
    }


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _ms(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f} ms"


def format_table(rows: list[tuple[str, ...]]) -> str:
    """Rows as aligned text: the first row is the header, the first column
    left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: tuple[str, ...]) -> str:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(rows[0]), rule, *map(line, rows[1:])])


def print_report(r: dict) -> None:
    """Timings (median, min, max), then sizes and ratios, then the targets."""
    timings = [("timing", "median", "min", "max", "p95", "n", "main CPU", "renderer CPU")]
    for name, label in [
        ("ttfr_served", "TTFR served (http, gzip)"),
        ("ttfr_file", "TTFR file (offline zip)"),
        ("baseline", "baseline (Pyodide, 1+1)"),
        ("peer_pyodide", "peer: stock Pyodide + loadPackage"),
        ("pyscript", "peer: PyScript on stock Pyodide"),
        ("ttfr_9mbit", "TTFR at 9 Mbit/s, 40 ms"),
        ("baseline_9mbit", "baseline at 9 Mbit/s, 40 ms"),
        ("ttfr_1_6mbit", "TTFR at 1.6 Mbit/s, 150 ms"),
        ("baseline_1_6mbit", "baseline at 1.6 Mbit/s, 150 ms"),
        ("second_visit", "second visit (9 Mbit/s)"),
        ("after_guide_page", "after a guide page (9 Mbit/s)"),
    ]:
        n = len(r.get(f"{name}_samples_ms") or [])
        cells = [_ms(r.get(f"{name}{s}_ms")) for s in ("", "_min", "_max")]
        cpu = [_ms(r.get(f"{name}{s}_ms")) for s in ("_cpu", "_process_cpu")]
        timings.append((label, *cells, "", str(n), *cpu))
    timings.append(
        (
            "warm: answer -> result",
            _ms(r["warm_median_ms"], 2),
            _ms(r["warm_min_ms"], 2),
            _ms(r["warm_max_ms"], 2),
            _ms(r["warm_p95_ms"], 2),
            str(r["warm_changes"]),
            "",
            "",
        )
    )
    file_ratio = (
        "n/a" if r["ttfr_file_ms"] is None else f"{r['ttfr_file_ms'] / r['ttfr_served_ms']:.2f}"
    )
    zip_bytes, build = r["offline_zip_bytes"], r["build_s"]
    other = [
        ("measure", "value"),
        ("ratio TTFR served / baseline", f"{r['ratio_served']:.2f}"),
        ("ratio of their main-thread CPU", f"{r['ratio_served_cpu']:.2f}"),
        ("ratio TTFR file / served", file_ratio),
        ("ratio at 9 Mbit/s / baseline", _ratio(r.get("ratio_9mbit"))),
        ("ratio at 1.6 Mbit/s / baseline", _ratio(r.get("ratio_1_6mbit"))),
        ("failures at 1.6 Mbit/s", str(r.get("ttfr_1_6mbit_failures"))),
        ("second visit / local cold", _ratio(r.get("ratio_second_visit_to_local"))),
        ("after a guide page / local cold", _ratio(r.get("ratio_after_guide_page_to_local"))),
        (
            "calculator page over the wire (gzip)",
            f"{r['calculator_page_gzip_bytes']:,} B in {r['calculator_page_requests']} requests",
        ),
        ("... gzip 6 on the fly (computed)", f"{r['calculator_page_gzip_live_bytes']:,} B"),
        ("... with brotli (computed)", f"{r['calculator_page_brotli_bytes']:,} B"),
        ("... uncompressed", f"{r['calculator_page_identity_bytes']:,} B"),
        (
            "plain page bytes (cold)",
            f"{r['plain_page_bytes']:,} B in {r['plain_page_requests']} requests",
        ),
        ("offline zip", "n/a" if zip_bytes is None else f"{zip_bytes:,} B"),
        ("make clean && make site", "skipped" if build is None else f"{build:.1f} s"),
    ]
    verdicts = {True: "holds", False: "MISSED", None: "not measured"}
    verdict_rows = [("target", "")] + [
        (t["target"], verdicts[t["holds"]]) for t in r["targets"].values()
    ]
    print("\n\n".join(format_table(t) for t in (timings, other, verdict_rows)))


# --- Main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples", type=int, default=5, help="cold loads of each page (default 5)"
    )
    parser.add_argument(
        "--network-samples",
        type=int,
        default=2,
        help="loads of each throttled page and of each service-worker visit (default 2)",
    )
    parser.add_argument(
        "--changes", type=int, default=200, help="warm answer changes (default 200)"
    )
    parser.add_argument(
        "--skip-build", action="store_true", help="do not time make clean && make site"
    )
    parser.add_argument(
        "--build-in-place",
        action="store_true",
        help="time the build in this tree (wipes site/ and dist/) instead of a scratch copy",
    )
    parser.add_argument("--offline-zip", type=Path, help=f"default: newest dist/{OFFLINE_ZIP_GLOB}")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help="results JSON file")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.changes < 2:
        parser.error("--samples must be >= 1 and --changes >= 2")
    return args


def measure_pages(
    pw,
    base: str,
    server: BenchServer,
    site: Path,
    *,
    offline_zip: Path | None,
    work: Path,
    samples: int,
    network_samples: int,
    changes: int,
) -> dict:
    """Every browser measurement of the site served (gzipped) at `base`."""
    served_url = f"{base}calculator/?{CALCULATOR_QUERY}"
    baseline_url = f"{base}{BENCH_PREFIX[1:]}baseline.html"
    wheel = json.loads((site / "pyodide" / "pyodide-lock.json").read_text())["packages"][
        "spine-hemangioma"
    ]["file_name"]
    answers = json.dumps(dict(p.split("=") for p in CALCULATOR_QUERY.split("&")))
    peer_query = f"wheel=/pyodide/{wheel}&answers={quote(answers)}"
    peer_url = f"{base}{BENCH_PREFIX[1:]}peer_pyodide.html?{peer_query}"
    pyscript_url = f"{base}{BENCH_PREFIX[1:]}peer_pyscript.html?{peer_query}"
    measures = {
        "ttfr_served": lambda: time_to_result(pw, served_url),
        "baseline": lambda: time_baseline(pw, baseline_url),
        "peer_pyodide": lambda: time_baseline(pw, peer_url),
        "pyscript": lambda: time_baseline(pw, pyscript_url),
    }
    if offline_zip is not None:
        page = unzip_bundle(offline_zip, work / "offline")
        file_url = f"{page.as_uri()}?{CALCULATOR_QUERY}"
        measures["ttfr_file"] = lambda: time_to_result(pw, file_url)
    # One untimed load of each first, so the OS file cache is warm for all;
    # PyScript's also shows that it is self-hosted.
    log("warm-up: one untimed load of each page")
    for name, measure in measures.items():
        if name == "pyscript":
            check_local_only(pw, pyscript_url)
        else:
            measure()
    failures: dict[str, list[str]] = {}
    loads = alternate(measures, samples, failures)

    # The slow links, each page against the baseline under the same
    # emulation; then the visits that the service worker serves.
    def throttled(url: str, net: dict, done: str) -> Callable[[], Sample]:
        scripts = (RESULT_OBSERVER_JS,) if done == "__benchResultAt" else ()
        return lambda: time_page(pw, url, done, scripts, network=net)

    network_measures: dict[str, Callable[[], Sample]] = {}
    for name, net in NETWORKS.items():
        network_measures[f"ttfr_{name}"] = throttled(served_url, net, "__benchResultAt")
        network_measures[f"baseline_{name}"] = throttled(baseline_url, net, "__benchDoneAt")
    network_measures["second_visit"] = lambda: time_visit_after(
        pw, served_url, served_url, NETWORKS["9mbit"]
    )
    network_measures["after_guide_page"] = lambda: time_visit_after(
        pw, base, served_url, NETWORKS["9mbit"]
    )
    loads |= alternate(network_measures, network_samples, failures)

    log(f"warm: {changes} answer changes")
    warm = Timing(warm_latencies(pw, served_url, changes))

    log("bytes: calculator page and home page, cold, gzipped")
    calc = page_bytes(pw, server, served_url, calculator=True)
    plain = page_bytes(pw, server, base, calculator=False)
    pyodide_requests = [p for p in plain["paths"] if p.startswith("/pyodide/")]
    if pyodide_requests:
        raise BenchError(f"the plain page requested Pyodide files: {pyodide_requests}")
    return summarize(
        loads,
        warm,
        {
            "calculator_page_gzip_bytes": calc["bytes"],
            "calculator_page_gzip_live_bytes": live_gzip_bytes(site, calc["paths"]),
            "calculator_page_brotli_bytes": brotli_bytes(site, calc["paths"]),
            "calculator_page_identity_bytes": identity_bytes(site, calc["paths"]),
            "calculator_page_requests": calc["requests"],
            "plain_page_bytes": plain["bytes"],
            "plain_page_requests": plain["requests"],
            "plain_page_pyodide_requests": len(pyodide_requests),
            "ttfr_1_6mbit_failures": len(failures.get("ttfr_1_6mbit", [])),
            "failures": failures,
        },
    )


def _local_files(site: Path, paths: list[str]) -> list[Path]:
    files = []
    for path in paths:
        local = site / path.lstrip("/")
        files.append(local / "index.html" if path.endswith("/") else local)
    return [f for f in files if f.is_file()]


def live_gzip(data: bytes) -> bytes:
    """What a host that compresses each response sends (level 6, the usual)."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def live_gzip_bytes(site: Path, paths: list[str]) -> int:
    """The same requests from a host that ignores the precompressed copies."""
    return sum(
        f.stat().st_size if f.suffix in NOT_COMPRESSED else len(live_gzip(f.read_bytes()))
        for f in _local_files(site, paths)
    )


def identity_bytes(site: Path, paths: list[str]) -> int:
    """What the same requests weigh uncompressed."""
    return sum(f.stat().st_size for f in _local_files(site, paths))


def brotli_bytes(site: Path, paths: list[str]) -> int:
    """What a brotli host would send for the same requests: the build's
    precompressed `name.br` (quality 11), else quality 11 now."""
    total = 0
    for f in _local_files(site, paths):
        copy = f.with_name(f.name + ".br")
        if copy.is_file():
            total += copy.stat().st_size
        elif f.suffix in NOT_COMPRESSED:
            total += f.stat().st_size
        else:
            total += len(brotli.compress(f.read_bytes(), quality=11))
    return total


def build_mode(args: argparse.Namespace) -> str:
    if args.skip_build:
        return "not timed; measured a copy of site/"
    if args.build_in_place:
        return "timed in place; measured a copy of the new site/"
    return "timed in a scratch copy of the working tree; measured its site/"


def run(args: argparse.Namespace) -> dict:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (slow import, only here)

    if not os.access(CHROMIUM, os.X_OK):
        raise BenchError(f"Chromium not found at {CHROMIUM}: `make chromium`")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-") as work_dir, sync_playwright() as pw:
        work = Path(work_dir)
        build_s, site, offline_zip = prepare_site(args, work)
        if offline_zip is None:
            log(f"no {OFFLINE_ZIP_GLOB}: TTFR file not measured")
        with serve(site, compress=True) as (base, server):
            results = measure_pages(
                pw,
                base,
                server,
                site,
                offline_zip=offline_zip,
                work=work,
                samples=args.samples,
                network_samples=args.network_samples,
                changes=args.changes,
            )
        version = chromium_version(pw)
        zip_name = offline_zip.name if offline_zip else None
        zip_bytes = offline_zip.stat().st_size if offline_zip else None
    results["build_s"] = None if build_s is None else round(build_s, 1)
    results["offline_zip_bytes"] = zip_bytes
    results["meta"] = {
        "samples": args.samples,
        "calculator_query": CALCULATOR_QUERY,
        "warm": f"{WARM_FIELD}: {' <-> '.join(WARM_VALUES)}, click() from JS, MutationObserver",
        "cold": "new persistent context on a fresh user-data-dir per page load",
        "bytes": "response bodies counted by the local server, every request of one cold load",
        "build": build_mode(args),
        "offline_zip": zip_name,
        "chromium": version,
        "cpus": os.cpu_count(),
        "load_average_before_after": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        results = run(args)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_report(results)
    print(f"\nwritten: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
