"""A/B of changes that could bring the calculator's TTFR below the baseline:
`.venv/bin/python bench/experiments.py [--samples 5] [--only preload,snapshot]
[--network 40,50]` (the page's requests throttled to 40 ms RTT, 50 Mbit/s).

Each arm serves a copy of site/ with a few files swapped (the server's
overrides: nothing under site/, calculator/web/ or generator/ is edited) and
is timed like bench/run.py: a cold browser per load, every arm once per
round, the order rotating per round. Per arm: TTFR (the page's own
performance.now()), the main thread's CPU time by then (steady on a busy
machine, when wall times are not), the loader's stages (bench/profile_page.py's
probe) and the bytes the server sent.

Arms, each one change against `control` unless said otherwise:

    control             the site as built
    baseline            bench/baseline.html (Pyodide + 1+1), the target to beat
    preload             <link rel=preload/modulepreload> in the page's head for
                        pyodide.js, .asm.mjs, .asm.wasm, python_stdlib.zip, the
                        lock file and the wheel
    early-start         loader.js and SpineCalc.load() in <head>, not deferred
    pyc-wheel           the wheel with .pyc instead of .py
    no-search           the theme's search off on the calculator page
    snapshot            a memory snapshot taken after `import spine_hemangioma`
                        (loadPyodide({_loadSnapshot})), no wheel to install
    combined-lean       every change but the snapshot (preload, early-start,
                        pyc-wheel)
    combined-snapshot   preload + early-start + snapshot
    manifest-first      the loader waiting for runtime.json before it requests
                        Pyodide's files (as it did before it requested them
                        beside it): what requesting them at once buys
    baseline+<arm>      the baseline page served with an arm's files
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# bench/ is not a package: run as a script, its folder is on sys.path.
from profile_page import STAGE_PROBE_JS
from run import (
    BENCH_PREFIX,
    CALCULATOR_QUERY,
    RESULT_OBSERVER_JS,
    SITE_DIR,
    BenchError,
    BenchServer,
    cold_page,
    format_table,
    log,
    serve,
    time_page,
)

from generator.pyodide_assets import Utf8ZipInfo

PAGE = "/calculator/"
LOADER = "/assets/calculator/loader.js"
PYODIDE = "/pyodide/"
LOCK = PYODIDE + "pyodide-lock.json"
MANIFEST = PYODIDE + "runtime.json"
SNAPSHOT = PYODIDE + "snapshot.bin"
EARLY_START = "/assets/calculator/early-start.js"
EARLY_START_JS = b'SpineCalc.load({baseUrl: "../pyodide/"});\n'
PACKAGE = "spine-hemangioma"
# A page for the build-time tools below: Pyodide loaded, nothing else.
TOOL_PAGE = "/__tool__/pyodide.html"
UPLOAD = "/__upload__/"
ZIP_DATE = (2025, 12, 7, 0, 0, 0)  # fixed: equal inputs, equal bytes

Overrides = dict[str, bytes]


def zip_info(name: str) -> zipfile.ZipInfo:
    """A deflated entry with a fixed date (ZipInfo alone means stored), its name
    flagged UTF-8 as the site's wheel (the trimmed stdlib has no cp437 codec)."""
    info = Utf8ZipInfo(name, ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def patch(text: str, old: str, new: str, what: str) -> str:
    """Replace the one occurrence of `old`; BenchError if the file changed shape."""
    if text.count(old) != 1:
        raise BenchError(f"{what}: expected one {old[:60]!r}, found {text.count(old)}")
    return text.replace(old, new)


# --- Pyodide as a build tool (in a browser page) -----------------------------------


def tool_page(make_snapshot: bool) -> bytes:
    options = json.dumps({"_makeSnapshot": make_snapshot})
    return f"""<!doctype html><meta charset="utf-8"><title>tool</title>
<script src="{PYODIDE}pyodide.js"></script>
<script>
  var base = location.origin + "{PYODIDE}";
  window.__tool = loadPyodide(Object.assign({{
    indexURL: base, lockFileURL: base + "pyodide-lock.json", packageBaseUrl: base,
  }}, {options})).then(function (py) {{ window.__py = py; }});
  window.__upload = function (name, bytes) {{
    return fetch("{UPLOAD}" + name, {{ method: "POST", body: bytes }});
  }};
</script>""".encode()


def run_tool(
    pw, site: Path, script: str, *, snapshot: bool = False, files: Overrides | None = None
) -> dict[str, bytes]:
    """Run `script` (the body of an async JS function of `py`, the Pyodide
    API) in a page with this site's Pyodide (plus `files`); returns what it
    uploaded."""
    uploads: dict[str, bytes] = {}

    def receive(route) -> None:
        name = route.request.url.split(UPLOAD, 1)[1]
        uploads[name] = route.request.post_data_buffer
        route.fulfill(status=204)

    files = {**(files or {}), TOOL_PAGE: tool_page(snapshot)}
    with serve(site, files) as (base, _), cold_page(pw) as page:
        page.route(f"**{UPLOAD}*", receive)
        page.goto(base + TOOL_PAGE[1:])
        page.evaluate(f"async () => {{ await window.__tool; const py = window.__py; {script} }}")
    return uploads


# Python run by the tool page. rewrite(): a zip again, each .py that
# `compiled(name)` accepts as a sourceless, unchecked-hash .pyc (valid whatever
# the files' dates, as Pyodide's own packages ship), only the entries
# `kept(name)` accepts.
REWRITE_ZIP_PY = r"""
import importlib.util, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

class Utf8ZipInfo(zipfile.ZipInfo):  # as generator/pyodide_assets.py's: no cp437
    def _encodeFilenameFlags(self):
        return self.filename.encode("utf-8"), self.flag_bits | 0x800

def rewrite(src_path, dst_path, compiled, kept, date):
    src = zipfile.ZipFile(src_path)
    with src, zipfile.ZipFile(dst_path, "w") as dst:
        for info in src.infolist():
            name, data = info.filename, src.read(info)
            if not kept(name):
                continue
            if name.endswith(".py") and compiled(name):
                code = compile(data, name, "exec", dont_inherit=True)
                data = bytes(_code_to_hash_pyc(code, importlib.util.source_hash(data), False))
                name += "c"
            out = Utf8ZipInfo(name, date)
            out.compress_type = info.compress_type
            dst.writestr(out, data)
"""


class Builds:
    """The files the arms serve instead of the site's, each built once, when
    first asked for (the ones needing Pyodide in a tool page)."""

    def __init__(self, pw, site: Path, work: Path):
        self.pw, self.site, self.work = pw, site, work
        self.lock = json.loads((site / LOCK[1:]).read_text(encoding="utf-8"))
        self.wheel_name = self.lock["packages"][PACKAGE]["file_name"]
        self.html = (site / PAGE[1:] / "index.html").read_text(encoding="utf-8")
        self.loader = (site / LOADER[1:]).read_text(encoding="utf-8")

    def _rewrite(
        self,
        src_url: str,
        compiled: str,
        kept: str,
        extra_py: str = "",
        files: Overrides | None = None,
    ) -> bytes:
        log(f"rewriting {src_url} (compiled: {compiled}, kept: {kept})")
        script = f"""
          const src = await (await fetch({json.dumps(src_url)})).arrayBuffer();
          py.FS.writeFile("/tmp/in.zip", new Uint8Array(src));
          py.runPython({json.dumps(REWRITE_ZIP_PY + extra_py)}
            + "\\nrewrite('/tmp/in.zip', '/tmp/out.zip', {compiled}, {kept}, {ZIP_DATE})");
          await window.__upload("out.zip", py.FS.readFile("/tmp/out.zip"));
        """
        return run_tool(self.pw, self.site, script, files=files)["out.zip"]

    @functools.cached_property
    def wheel_pyc(self) -> bytes:
        not_main = "lambda n: not n.endswith('__main__.py')"
        return self._rewrite(PYODIDE + self.wheel_name, not_main, "lambda n: True")

    @functools.cached_property
    def snapshot(self) -> bytes:
        """A memory snapshot once spine_hemangioma is imported (and has answered
        once). The wheel is unpacked by Python, not loadPackage: the package
        loader keeps JS objects a snapshot cannot hold ("Unexpected hiwire
        entry")."""
        log("making a memory snapshot")
        script = f"""
          const whl = await (await fetch("{PYODIDE}{self.wheel_name}")).arrayBuffer();
          py.FS.writeFile("/tmp/p.whl", new Uint8Array(whl));
          py.runPython(
            "import site, zipfile; zipfile.ZipFile('/tmp/p.whl')"
            + ".extractall(site.getsitepackages()[0]);"
            + "import spine_hemangioma; spine_hemangioma.evaluate_json('{{}}')"
          );
          await window.__upload("snapshot.bin", py.makeMemorySnapshot());
        """
        return run_tool(self.pw, self.site, script, snapshot=True)["snapshot.bin"]

    def with_manifest(self, files: Overrides) -> Overrides:
        """`files` and, if they replace runtime files, runtime.json with their
        sizes and sha256: the page's loader checks every file against it."""
        manifest = json.loads((self.site / MANIFEST[1:]).read_text(encoding="utf-8"))
        changed = False
        for path, body in files.items():
            name = path.removeprefix(PYODIDE)
            if name in manifest:
                manifest[name] = {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
                changed = True
        return {**files, MANIFEST: json.dumps(manifest).encode()} if changed else files

    def with_wheel(self, wheel: bytes) -> Overrides:
        """`wheel` in place of the site's, and the lock file with its sha256."""
        lock = json.loads(json.dumps(self.lock))
        lock["packages"][PACKAGE]["sha256"] = hashlib.sha256(wheel).hexdigest()
        return {PYODIDE + self.wheel_name: wheel, LOCK: json.dumps(lock).encode()}


# --- The arms -------------------------------------------------------------------------


def preload_links(lock: dict, extra: tuple[str, ...] = ()) -> str:
    """<link>s that start every Pyodide fetch while the page's head is parsed;
    each matches the request Pyodide makes (fetch() is CORS mode, same-origin
    credentials: `crossorigin`; the wheel's fetch has an integrity), so
    nothing is fetched twice."""
    entry = lock["packages"][PACKAGE]
    integrity = "sha256-" + base64.b64encode(bytes.fromhex(entry["sha256"])).decode()
    links = [
        '<link rel="preload" href="../pyodide/pyodide.js" as="script">',
        '<link rel="modulepreload" href="../pyodide/pyodide.asm.mjs">',
        '<link rel="preload" href="../pyodide/pyodide.asm.wasm" as="fetch" crossorigin>',
        '<link rel="preload" href="../pyodide/python_stdlib.zip" as="fetch" crossorigin>',
        '<link rel="preload" href="../pyodide/pyodide-lock.json" as="fetch" crossorigin>',
        f'<link rel="preload" href="../pyodide/{entry["file_name"]}" as="fetch" crossorigin'
        f' integrity="{integrity}">',
    ]
    links += [f'<link rel="preload" href="..{p}" as="fetch" crossorigin>' for p in extra]
    return "\n".join(links) + "\n"


def with_preload(html: str, lock: dict, extra: tuple[str, ...] = ()) -> str:
    return patch(html, "<head>", "<head>\n" + preload_links(lock, extra), "calculator page")


def with_early_start(html: str) -> str:
    """Start loading Python from the head: the loader runs and SpineCalc.load()
    is called before the body is parsed; calculator.js later gets the same
    promise (load() returns the pending one). A script file, not inline: the
    page's CSP allows no inline script it does not list."""
    html = patch(html, '<script src="../assets/calculator/loader.js" defer></script>', "", "page")
    start = (
        '<script src="../assets/calculator/loader.js"></script>\n'
        f'<script src="..{EARLY_START}"></script>\n'
    )
    return patch(html, "</head>", start + "</head>", "calculator page")


LOADPYODIDE_OPTIONS = (
    '        var options = { indexURL: base, lockFileURL: base + "pyodide-lock.json" };\n'
)
INSTALL_WHEEL = (
    "        installWheel(pyodide, new Uint8Array(await (await wheel).arrayBuffer()));\n"
)


def with_loader_options(loader: str, options: str, then: str) -> str:
    """The loader's online start with extra loadPyodide options, and `then` in
    place of installing the wheel."""
    more = (
        '        var options = { indexURL: base, lockFileURL: base + "pyodide-lock.json",'
        f" {options} }};\n"
    )
    loader = patch(loader, LOADPYODIDE_OPTIONS, more, "loader.js")
    return patch(loader, INSTALL_WHEEL, f"        {then}\n", "loader.js")


def from_snapshot(loader: str) -> str:
    name = SNAPSHOT.rsplit("/", 1)[1]
    return with_loader_options(
        loader,
        f'_loadSnapshot: fetch(base + "{name}").then(function (r) {{ return r.arrayBuffer(); }}),',
        "// the snapshot has the package imported already",
    )


EARLY_FETCH = "        var listed = dl.get(MANIFEST).then(function (r) { return r.json(); });\n"


def manifest_first(loader: str) -> str:
    late = "        var listed = Promise.resolve(await (await dl.get(MANIFEST)).json());\n"
    return patch(loader, EARLY_FETCH, late, "loader.js")


def without_search(html: str) -> str:
    """The theme's search off on the calculator page: with no search form and
    no search component, mkdocs-material fetches no index and starts no
    worker (the bound on what deferring search could buy)."""
    off = 'data-md-component="search-off"'
    html = patch(html, 'data-md-component="search"', off, "calculator page")
    return patch(html, 'name="search"', 'name="search-off"', "calculator page")


@dataclass
class Arm:
    name: str
    url_path: str  # what a load opens
    overrides: Overrides = field(default_factory=dict)
    done: str = "__benchResultAt"  # the page's time of a complete result


def lean(b: Builds) -> Overrides:
    """Preload, early start and the .pyc wheel together (the snapshot apart)."""
    files = b.with_wheel(b.wheel_pyc)
    lock = json.loads(files[LOCK])
    return {
        **files,
        PAGE: with_early_start(with_preload(b.html, lock)).encode(),
        EARLY_START: EARLY_START_JS,
    }


ARMS: dict[str, Callable[[Builds], Overrides]] = {
    "control": lambda b: {},
    "preload": lambda b: {PAGE: with_preload(b.html, b.lock).encode()},
    "early-start": lambda b: {PAGE: with_early_start(b.html).encode(), EARLY_START: EARLY_START_JS},
    "pyc-wheel": lambda b: b.with_wheel(b.wheel_pyc),
    "no-search": lambda b: {PAGE: without_search(b.html).encode()},
    "manifest-first": lambda b: {LOADER: manifest_first(b.loader).encode()},
    "snapshot": lambda b: {LOADER: from_snapshot(b.loader).encode(), SNAPSHOT: b.snapshot},
    "combined-lean": lean,
    "combined-snapshot": lambda b: {
        PAGE: with_early_start(with_preload(b.html, b.lock, (SNAPSHOT,))).encode(),
        EARLY_START: EARLY_START_JS,
        LOADER: from_snapshot(b.loader).encode(),
        SNAPSHOT: b.snapshot,
    },
}


def build_arms(builds: Builds, names: list[str]) -> list[Arm]:
    """The arms named; "baseline+<arm>" is the baseline page served with that
    arm's files (a change to the runtime files speeds the baseline up too)."""
    baseline = f"{BENCH_PREFIX}baseline.html"
    arms = []
    for name in names:
        change = name.removeprefix("baseline").removeprefix("+")
        if name.startswith("baseline") and (not change or change in ARMS):
            files = ARMS[change](builds) if change else {}
            arms.append(Arm(name, baseline, files, done="__benchDoneAt"))
        elif name in ARMS:
            files = builds.with_manifest(ARMS[name](builds))
            arms.append(Arm(name, f"{PAGE}?{CALCULATOR_QUERY}", files))
        else:
            known = ", ".join(["baseline", "baseline+<arm>", *ARMS])
            raise BenchError(f"unknown arm {name!r}; arms: {known}")
    return arms


# --- Measuring ------------------------------------------------------------------------


@dataclass
class Load:
    ttfr: float
    cpu: float  # main-thread CPU ms by the result
    marks: dict[str, float]
    bytes: int
    requests: dict[str, int]  # path -> times requested


def load_once(pw, base: str, server: BenchServer, arm: Arm, network: dict | None) -> Load:
    server.tally.clear()
    scripts = (RESULT_OBSERVER_JS, STAGE_PROBE_JS)
    url = base + arm.url_path[1:]
    collect = "() => window.__benchMarks"
    sample = time_page(pw, url, arm.done, scripts, collect=collect, network=network)
    requests: dict[str, int] = {}
    for path, _ in server.tally:
        requests[path] = requests.get(path, 0) + 1
    return Load(
        sample.ms, sample.cpu_ms, sample.extra or {}, sum(n for _, n in server.tally), requests
    )


# The loader's stages, from the probe's marks: (column, from mark, to mark);
# "start" is when the loader starts (from navigation start).
STAGES = [
    ("start", None, "stage runtime"),
    ("boot", "stage runtime", "stage package"),
    ("package", "stage package", "stage import"),
    ("import", "stage import", "stage ready"),
]


def stage_median(runs: list[Load], start: str | None, end: str) -> str:
    values = [
        x.marks[end] - (x.marks[start] if start else 0.0)
        for x in runs
        if end in x.marks and (start is None or start in x.marks)
    ]
    return f"{statistics.median(values):,.0f}" if values else ""


def report(arms: list[Arm], loads: dict[str, list[Load]]) -> str:
    """One row per arm: TTFR and main-thread CPU (medians; against control and
    baseline), the loader's stages (medians, ms), bytes, duplicate fetches."""

    def median(name: str, attr: str) -> float | None:
        runs = loads.get(name)
        return statistics.median(getattr(x, attr) for x in runs) if runs else None

    control, baseline = median("control", "ttfr"), median("baseline", "ttfr")
    control_cpu, baseline_cpu = median("control", "cpu"), median("baseline", "cpu")
    header = ("arm", "TTFR", "min-max", "vs control", "/ baseline")
    header += ("CPU", "vs control", "/ baseline", *(s[0] for s in STAGES), "MB", "fetched twice")
    rows = [header]
    for arm in arms:
        runs = loads[arm.name]
        ttfr, cpu = median(arm.name, "ttfr"), median(arm.name, "cpu")
        twice = sorted({p.rsplit("/", 1)[1] for x in runs for p, n in x.requests.items() if n > 1})
        rows.append(
            (
                arm.name,
                f"{ttfr:,.0f} ms",
                f"{min(x.ttfr for x in runs):,.0f}-{max(x.ttfr for x in runs):,.0f}",
                f"{ttfr - control:+,.0f} ms" if control else "",
                f"{ttfr / baseline:.2f}" if baseline else "",
                f"{cpu:,.0f} ms",
                f"{cpu - control_cpu:+,.0f} ms" if control_cpu else "",
                f"{cpu / baseline_cpu:.2f}" if baseline_cpu else "",
                *(stage_median(runs, start, end) for _, start, end in STAGES),
                f"{statistics.median(x.bytes for x in runs) / 1e6:.2f}",
                ", ".join(twice) or "-",
            )
        )
    return format_table(rows)


def run_arms(
    pw, site: Path, arms: list[Arm], samples: int, network: dict | None, *, compress: bool = False
) -> dict[str, list[Load]]:
    """Untimed warm-up, then `samples` rounds of every arm, order rotating."""
    loads: dict[str, list[Load]] = {arm.name: [] for arm in arms}
    with contextlib.ExitStack() as stack:
        # One server per arm (its own overrides), all up for the whole run.
        servers = {
            arm.name: stack.enter_context(serve(site, arm.overrides, compress=compress))
            for arm in arms
        }
        log("warm-up: one untimed load of each arm")
        for arm in arms:
            try:
                load_once(pw, *servers[arm.name], arm, network)
            except BenchError as exc:
                raise BenchError(f"arm {arm.name}: {exc}") from None
        for i in range(samples):
            for arm in arms[i % len(arms) :] + arms[: i % len(arms)]:
                load = load_once(pw, *servers[arm.name], arm, network)
                loads[arm.name].append(load)
                log(f"round {i + 1}/{samples}: {arm.name} {load.ttfr:,.0f} ms")
    return loads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5, help="cold loads per arm (default 5)")
    parser.add_argument("--only", help="comma-separated arms (control and baseline always run)")
    parser.add_argument("--output", type=Path, help="write every load as JSON here")
    parser.add_argument(
        "--network",
        metavar="RTT_MS,MBIT_S",
        help="throttle the page's requests, e.g. 40,50 (default: local, unthrottled)",
    )
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="serve gzipped as bench/run.py does (the build's name.gz; overrides at level 6)",
    )
    args = parser.parse_args(argv)
    network = None
    if args.network:
        rtt, mbit = (float(x) for x in args.network.split(","))
        rate = mbit * 1e6 / 8  # bytes per second
        network = {"latency": rtt, "downloadThroughput": rate, "uploadThroughput": rate}
    names = ["control", "baseline"]
    chosen = args.only.split(",") if args.only else list(ARMS)
    names += [n for n in chosen if n not in names]
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    try:
        with tempfile.TemporaryDirectory(prefix="bench-exp-") as work_dir, sync_playwright() as pw:
            work = Path(work_dir)
            site = work / "site"  # a copy: `make site` elsewhere may replace site/
            shutil.copytree(SITE_DIR, site)
            arms = build_arms(Builds(pw, site, work), names)
            for arm in arms:
                sizes = {p: len(b) for p, b in arm.overrides.items()}
                log(f"arm {arm.name}: {sizes or 'no overrides'}")
            loads = run_arms(pw, site, arms, args.samples, network, compress=args.gzip)
    except BenchError as exc:
        print(f"experiments: error: {exc}", file=sys.stderr)
        return 1
    print(report(arms, loads))
    if args.output:
        data = {name: [vars(x) for x in runs] for name, runs in loads.items()}
        args.output.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
