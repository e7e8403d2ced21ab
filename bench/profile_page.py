"""Where the calculator page's time goes: `.venv/bin/python bench/profile_page.py`.

Two views, from cold loads (a fresh browser profile per load, as in bench/run.py):

1. The served calculator page, unchanged, with an init script that marks
   (performance.now(), 0 = navigation start, and performance.mark()) when
   loader.js runs, each loader stage (runtime, package, import, ready),
   WebAssembly instantiation (start, end), the first evaluate_json call and
   the complete result; plus Resource Timing of every file. Each load is
   traced (Chrome tracing), so every interval between two marks gets its CPU
   time: the page's main thread, and the renderer's thread pool (where V8
   compiles wasm in the background). Medians of --samples loads.
   Wall times swell on a busy machine; the CPU times hardly move.
2. bench/profile.html: the loader's sequence in a bare page with
   `python -X importtime`, then each piece of `import spine_hemangioma`
   timed on its own (compile, TOML parse, validation, tree, evaluate).
"""

from __future__ import annotations

import argparse
import statistics
import sys

# bench/ is not a package: run as a script, its folder is on sys.path.
from run import (
    BENCH_PREFIX,
    CALCULATOR_QUERY,
    RESULT_OBSERVER_JS,
    SITE_DIR,
    BenchError,
    cold_page,
    format_table,
    log,
    serve,
    wait_for_time,
)

# Wraps what the page exposes, without changing what it does: window.SpineCalc
# (set by loader.js) to see the stages and the first evaluate_json call, and
# WebAssembly.instantiate* to see the wasm compile + instantiate. Each mark is
# also a performance.mark("bench:<name>"), which the trace records.
STAGE_PROBE_JS = """
(() => {
  const marks = (window.__benchMarks = {});
  const mark = (name, t = performance.now()) => {
    if (name in marks) return;
    marks[name] = t;
    performance.mark("bench:" + name, { startTime: t });
  };
  for (const name of ["instantiateStreaming", "instantiate"]) {
    const real = WebAssembly[name];
    WebAssembly[name] = function () {
      mark("wasm " + name + " start");
      return real.apply(this, arguments).then((r) => { mark("wasm " + name + " end"); return r; });
    };
  }
  document.addEventListener("DOMContentLoaded", () => mark("DOMContentLoaded"));
  new MutationObserver(() => {
    const r = document.querySelector(".sh-result");
    if (r && r.dataset.status === "complete") mark("result");
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-status"] });
  let spine;
  Object.defineProperty(window, "SpineCalc", {
    configurable: true,
    get() { return spine; },
    set(real) {
      mark("loader.js ran");
      spine = { load(opts) {
        mark("SpineCalc.load called");
        const onProgress = opts.onProgress;
        const wrapped = Object.assign({}, opts, { onProgress(stage) {
          mark("stage " + stage);
          if (onProgress) onProgress(stage);
        } });
        return real.load(wrapped).then((calc) => {
          const call = calc.call;
          calc.call = function () {
            const start = performance.now();
            const out = call.apply(this, arguments);
            mark("first evaluate_json start", start);
            mark("first evaluate_json end");
            return out;
          };
          return calc;
        });
      } };
    },
  });
})();
"""

COLLECT_JS = """
() => ({
  marks: window.__benchMarks,
  resources: performance.getEntriesByType("resource").map((e) => ({
    name: new URL(e.name).pathname.split("/").pop() || e.name,
    start: e.startTime, end: e.responseEnd, bytes: e.encodedBodySize,
  })),
})
"""

# The intervals of the CPU table: (what happens, from mark, to mark); None is
# navigation start.
INTERVALS = [
    ("HTML, CSS, theme JS; deferred scripts run", None, "loader.js ran"),
    (
        "loader: pyodide.js, loadPyodide, asm.mjs",
        "loader.js ran",
        "wasm instantiateStreaming start",
    ),
    (
        "wasm compile + instantiate (streaming)",
        "wasm instantiateStreaming start",
        "wasm instantiateStreaming end",
    ),
    (
        "Python boot (interpreter, stdlib, pyodide)",
        "wasm instantiateStreaming end",
        "stage package",
    ),
    ("wheel: unpackArchive (sha256 checked on arrival)", "stage package", "stage import"),
    ("import spine_hemangioma", "stage import", "stage ready"),
    ("first evaluate_json + render", "stage ready", "result"),
]
TRACE_CATEGORIES = ["toplevel", "blink.user_timing", "v8.wasm", "__metadata"]


def traced_load(pw, url: str) -> tuple[dict, list[dict]]:
    """One cold load of `url`, traced: (what COLLECT_JS returns, trace events)."""
    events: list[dict] = []
    finished: list[bool] = []
    with cold_page(pw) as page:
        cdp = page.context.new_cdp_session(page)
        cdp.on("Tracing.dataCollected", lambda e: events.extend(e["value"]))
        cdp.on("Tracing.tracingComplete", lambda e: finished.append(True))
        config = {"includedCategories": TRACE_CATEGORIES}
        cdp.send("Tracing.start", {"traceConfig": config, "transferMode": "ReportEvents"})
        page.add_init_script(RESULT_OBSERVER_JS)
        page.add_init_script(STAGE_PROBE_JS)
        page.goto(url, wait_until="commit")
        wait_for_time(page, "__benchResultAt", url)
        page.wait_for_timeout(200)  # the "result" mark is taken in the same task
        collected = page.evaluate(COLLECT_JS)
        cdp.send("Tracing.end")
        while not finished:
            page.wait_for_timeout(100)
    return collected, events


def _top_level(slices: list[dict]) -> list[dict]:
    """The slices of one thread that no other slice of it contains."""
    out, end = [], -1.0
    for e in sorted(slices, key=lambda e: (e["ts"], -e["dur"])):
        if e["ts"] >= end:
            out.append(e)
            end = e["ts"] + e["dur"]
    return out


def cpu_by_interval(marks: dict[str, float], events: list[dict]) -> dict[str, tuple]:
    """{interval: (wall ms, main-thread CPU ms, thread-pool CPU ms, of which
    main-thread lazy wasm compilation)}, from the trace of one load."""
    bench = [e for e in events if e.get("name", "").startswith("bench:")]
    if not bench:
        raise BenchError("the trace has no bench: marks")
    pid = bench[0]["pid"]
    # Trace clock (µs) of navigation start, from the marks' two clocks.
    origin = statistics.median(
        e["ts"] - marks[e["name"][len("bench:") :]] * 1000
        for e in bench
        if e["name"][len("bench:") :] in marks
    )
    names = {
        e["tid"]: e["args"]["name"]
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name" and e["pid"] == pid
    }
    slices: dict[int, list[dict]] = {}
    for e in events:
        if e.get("ph") == "X" and e["pid"] == pid and "dur" in e:
            slices.setdefault(e["tid"], []).append(e)
    main = _top_level(next(s for t, s in slices.items() if names.get(t) == "CrRendererMain"))
    pool = [
        e
        for t, s in slices.items()
        if names.get(t, "").startswith("ThreadPool")
        for e in _top_level(s)
    ]
    lazy = [e for e in slices.get(main[0]["tid"], []) if e["name"] == "wasm.CompileLazy"]

    def cpu(group: list[dict], a: float, b: float) -> float:
        # Each slice's thread time, pro rata of the part of it inside [a, b].
        total = 0.0
        for e in group:
            inside = min(b, e["ts"] + e["dur"]) - max(a, e["ts"])
            if inside > 0:
                total += e.get("tdur", e["dur"]) * inside / max(e["dur"], 1)
        return total / 1000

    out = {}
    for label, start, end in INTERVALS:
        if (start is not None and start not in marks) or end not in marks:
            continue
        a = origin + (marks[start] if start else 0.0) * 1000
        b = origin + marks[end] * 1000
        out[label] = ((b - a) / 1000, cpu(main, a, b), cpu(pool, a, b), cpu(lazy, a, b))
    return out


def stage_report(pw, url: str, samples: int) -> tuple[list[tuple], list[tuple]]:
    """(waterfall rows, CPU rows), medians of `samples` traced loads."""
    events_at: dict[str, list[tuple[float, float | None]]] = {}
    intervals: dict[str, list[tuple]] = {}
    for i in range(samples):
        collected, events = traced_load(pw, url)
        marks = collected["marks"]
        for name, t in marks.items():
            events_at.setdefault(name, []).append((t, None))
        for r in collected["resources"]:
            key = f"fetch {r['name']} ({r['bytes']:,} B)"
            events_at.setdefault(key, []).append((r["start"], r["end"]))
        for label, values in cpu_by_interval(marks, events).items():
            intervals.setdefault(label, []).append(values)
        log(f"stages: sample {i + 1}/{samples}, result at {marks.get('result', 0):,.0f} ms")

    waterfall = []
    for name, pairs in events_at.items():
        ends = [p[1] for p in pairs if p[1] is not None]
        start = statistics.median(p[0] for p in pairs)
        waterfall.append((start, name, statistics.median(ends) if ends else None))
    waterfall.sort()
    rows = [("event (medians)", "at", "until")]
    rows += [(n, f"{s:,.0f} ms", "" if e is None else f"{e:,.0f} ms") for s, n, e in waterfall]

    cpu_rows = [("interval (medians)", "wall", "main CPU", "pool CPU", "lazy wasm")]
    totals = [0.0] * 4
    for label, _, _ in INTERVALS:
        if label not in intervals:
            continue
        medians = [statistics.median(v[k] for v in intervals[label]) for k in range(4)]
        totals = [t + m for t, m in zip(totals, medians, strict=True)]
        cpu_rows.append((label, *(f"{m:,.0f} ms" for m in medians)))
    cpu_rows.append(("sum of the medians", *(f"{t:,.0f} ms" for t in totals)))
    return rows, cpu_rows


def python_pieces(pw, url: str) -> dict:
    """What bench/profile.html measured (marks, -X importtime, pieces)."""
    with cold_page(pw) as page:
        page.goto(url, wait_until="commit")
        wait_for_time(page, "__benchDoneAt", url)
        return page.evaluate("window.__benchProfile")


def importtime_rows(lines: list[str], top: int, what: str) -> list[tuple[str, str, str]]:
    """The slowest imports (cumulative) from `-X importtime` output."""
    parsed = []
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.split(":", 1)[1].split("|")
        parsed.append((int(cumulative_us), int(self_us), name.rstrip()))
    parsed.sort(reverse=True)
    rows = [(f"{what} (-X importtime)", "self", "cumulative")]
    for cumulative, self_us, name in parsed[:top]:
        rows.append((name, f"{self_us / 1000:.1f} ms", f"{cumulative / 1000:.1f} ms"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5, help="cold loads (default 5)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    try:
        with serve(SITE_DIR) as (base, _server), sync_playwright() as pw:
            url = f"{base}calculator/?{CALCULATOR_QUERY}"
            waterfall, cpu = stage_report(pw, url, args.samples)
            prof = python_pieces(pw, f"{base}{BENCH_PREFIX[1:]}profile.html")
    except BenchError as exc:
        print(f"profile: error: {exc}", file=sys.stderr)
        return 1
    marks = sorted(prof["marks"].items(), key=lambda kv: kv[1])
    pieces = [("piece of the import, run again after it", "time")]
    pieces += [(k, f"{v:.1f} ms") for k, v in prof["pieces"].items()]
    tables = [
        waterfall,
        cpu,
        [("bare loader (profile.html)", "at"), *((k, f"{v:,.0f} ms") for k, v in marks)],
        pieces,
        importtime_rows(prof["importtime"], 15, "import spine_hemangioma"),
        importtime_rows(prof["bootImporttime"], 15, "Pyodide's boot"),
    ]
    print("\n\n".join(format_table(t) for t in tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
