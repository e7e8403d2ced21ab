"""Build step: a Content-Security-Policy in every page of a built site.

`apply_csp(site_dir, offline=...)` puts `<meta http-equiv="Content-Security-Policy">`
right after each page's `<meta charset>` (which must stay in the first 1024
bytes; it loads nothing). Each page's policy allows what that page uses, as
found in Chromium (tests/test_csp.py records every violation):

    every page        default-src 'none' (served: 'self', see below); script-src
                      and style-src 'self' and the
                      sha256 of each inline script and <style> of the page;
                      img-src 'self' (the favicon); base-uri 'none';
                      form-action 'none' (script handles every form)
    mkdocs-material   img-src data: (its icons are data: URLs in its CSS);
                      served: connect-src 'self' (search/search_index.json);
                      the search worker falls back to script-src 'self'
    iframe-worker     the sha256 of the inline script the shim writes into its
    (offline)         iframe, which inherits the page's policy (search from
                      file://), from the shim's text and the page's worker URL
    Pyodide pages     script-src 'wasm-unsafe-eval' (WebAssembly compilation;
    (loader.js)       Pyodide calls no eval or Function at start-up);
                      served: connect-src 'self' (lock file, stdlib, wasm, wheel);
                      offline: script-src blob: (loader.js imports the module
                      from a blob: URL; fetch() is answered in the page)
    served            default-src 'self': the web app manifest of the service
                      worker step (the worker itself falls under script-src).
                      Not manifest-src: WebKit does not know that directive and
                      reports it on every page; every other kind of fetch a
                      page makes has a directive of its own above
    offline           'self' and file: wherever 'self' is: Chromium lets 'self'
                      match file: URLs from a file:// page, other engines differ
                      on opaque origins; file: allows nothing more there

Firefox prefetches `<link rel="prev|next">`, which only default-src could allow:
those links are removed from every page (PREFETCH_RE).

Never 'unsafe-inline' or 'unsafe-eval'. A page with a style attribute, an
event-handler attribute or a javascript: URL fails the build: only
'unsafe-hashes' could allow them; fix the page's source instead.

Only known inline code is hashed (`KnownInline`): the inline scripts and
styles that the theme's templates (mkdocs-material's, generator/theme/) and
ours (generator/templates/) contain, each `{{ expression }}` in them standing
for a value without quotes, angle brackets or backslashes, and the diagram's
<style>. A page with any other inline script or style (one that content
smuggled in, say) fails the build: hashing whatever is found would allow it. frame-ancestors
cannot be set from a meta tag: the README lists the headers a host should send.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from generator.context import BuildContext, log
from generator.pages import GeneratorError

LOADER_PATH = "assets/calculator/loader.js"
SHIM_PATH = "assets/javascripts/iframe-worker.js"
# <script type> values that run; any other type (application/json) is data.
SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}
META_RE = re.compile(r'\n?<meta http-equiv="Content-Security-Policy" content="[^"]*">')
CHARSET_RE = re.compile(r"<meta charset=[\"']?utf-8[\"']?\s*/?>", re.IGNORECASE)
# The inline script that iframe-worker writes into its iframe: a template literal
# in the shim, `${name}` standing for one of the shim's functions or the worker URL.
SHIM_SCRIPT_RE = re.compile(r"<html><body><script>(.*?)<\\/script>")
SHIM_SLOT_RE = re.compile(r"\$\{(\w+)\}")
# mkdocs-material's <link rel="prev|next"> in every head: Firefox prefetches
# them, and no directive but default-src can allow a prefetch (Firefox has no
# prefetch-src), which would reopen every fetch without a directive of its
# own. The links go; the footer's prev/next links, which readers use, stay.
PREFETCH_RE = re.compile(r'\n?[ \t]*<link rel="(?:prev|next)" href="[^"]*">')


class CspError(GeneratorError):
    """A page cannot get a policy; the message names the page."""


REPO_ROOT = Path(__file__).resolve().parent.parent
OUR_TEMPLATES = (REPO_ROOT / "generator" / "theme", REPO_ROOT / "generator" / "templates")
INLINE_RE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
JINJA_EXPR_RE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
# What a template's {{ expression }} may put inside inline code: a URL or a word.
JINJA_VALUE = r"[^\"'<>\\]*"


@dataclass(frozen=True)
class KnownInline:
    """The inline scripts and styles that the build's templates produce."""

    scripts: tuple[re.Pattern[str], ...]
    styles: tuple[re.Pattern[str], ...]

    def allows(self, kind: str, text: str) -> bool:
        patterns = self.scripts if kind == "script" else self.styles
        return any(p.fullmatch(text) for p in patterns)


def _template_pattern(body: str) -> re.Pattern[str]:
    parts = JINJA_EXPR_RE.split(body)
    return re.compile(JINJA_VALUE.join(re.escape(part) for part in parts), re.DOTALL)


def known_inline(template_dirs: tuple[Path, ...] | None = None) -> KnownInline:
    """Every <script>/<style> without attributes in the templates, as patterns."""
    if template_dirs is None:
        import material  # noqa: PLC0415 (the theme's package, only for its templates)

        template_dirs = (Path(material.__file__).parent / "templates", *OUR_TEMPLATES)
    found: dict[str, set[str]] = {"script": set(), "style": set()}
    for folder in template_dirs:
        for template in sorted(folder.rglob("*")):
            if template.suffix in {".html", ".j2"} and template.is_file():
                for kind, body in INLINE_RE.findall(template.read_text(encoding="utf-8")):
                    found[kind].add(body)
    styles = {re.escape(s) for s in _diagram_styles()}
    return KnownInline(
        scripts=tuple(_template_pattern(b) for b in sorted(found["script"])),
        styles=tuple(
            [*(_template_pattern(b) for b in sorted(found["style"]))]
            + [re.compile(s, re.DOTALL) for s in sorted(styles)]
        ),
    )


def _diagram_styles() -> list[str]:
    # The diagram's SVG carries one <style>, the module's STYLE (when it is installed).
    try:
        from spine_hemangioma import diagram  # noqa: PLC0415
    except ImportError:
        return []
    style = getattr(diagram, "STYLE", None)
    return [style] if isinstance(style, str) else []


@dataclass
class PageScan:
    """What a page holds that its policy must allow."""

    inline_scripts: list[str] = field(default_factory=list)
    inline_styles: list[str] = field(default_factory=list)
    script_srcs: list[str] = field(default_factory=list)
    config: str | None = None  # mkdocs-material's #__config JSON
    problems: list[str] = field(default_factory=list)


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()
        self._svg_depth = 0
        self._capture: tuple[str, str] | None = None  # (kind, text so far)

    def handle_starttag(self, tag, attrs):
        self._check_attrs(tag, attrs)
        if tag == "svg":
            self._svg_depth += 1
        values = {name: value or "" for name, value in attrs}
        if tag == "script":
            if "src" in values:
                self.scan.script_srcs.append(values["src"])
            elif values.get("id") == "__config":
                self._capture = ("config", "")
            elif values.get("type", "").strip().lower() in SCRIPT_TYPES:
                self._capture = ("script", "")
        elif tag == "style":
            self._capture = ("style", "")

    def handle_startendtag(self, tag, attrs):
        self._check_attrs(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg_depth -= 1
        if self._capture is None or tag not in {"script", "style"}:
            return
        kind, text = self._capture
        self._capture = None
        if kind == "script":
            self.scan.inline_scripts.append(text)
        elif kind == "config":
            self.scan.config = text
        else:
            # Inside <svg> (foreign content) a <style> is parsed as text: the
            # browser hashes it with its character references decoded.
            self.scan.inline_styles.append(html.unescape(text) if self._svg_depth else text)

    def handle_data(self, data):
        if self._capture is not None:
            self._capture = (self._capture[0], self._capture[1] + data)

    def _check_attrs(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "style":
                self.scan.problems.append(f'<{tag} style="{value}">')
            elif name.startswith("on"):
                self.scan.problems.append(f"<{tag} {name}=...>")
            elif (value or "").strip().lower().startswith("javascript:"):
                self.scan.problems.append(f'<{tag} {name}="{value}">')


def scan_page(text: str) -> PageScan:
    parser = _Scanner()
    parser.feed(text)
    parser.close()
    return parser.scan


def sha256_source(text: str) -> str:
    """The CSP source expression that allows exactly this inline text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _function_source(code: str, name: str) -> str | None:
    """The text of `function name(...){...}` in code, as Function.prototype.toString
    gives it; None if there is none."""
    start = code.find(f"function {name}(")
    if start < 0:
        return None
    depth, i = 0, code.index("{", start)
    while i < len(code):
        depth += {"{": 1, "}": -1}.get(code[i], 0)
        if depth == 0:
            return code[start : i + 1]
        i += 1
    return None


def shim_inline_script(shim: str, worker_url: str) -> str:
    """The inline script iframe-worker writes into its iframe for `new Worker(worker_url)`."""
    match = SHIM_SCRIPT_RE.search(shim)
    if not match or "\\" in match.group(1) or "`" in match.group(1):
        raise CspError(f"{SHIM_PATH}: not the iframe-worker shim this step knows (1.0.x)")
    unresolved = []

    def fill(slot: re.Match) -> str:
        source = _function_source(shim, slot.group(1))
        if source is None:
            unresolved.append(slot.group(1))
            return worker_url
        return source

    script = SHIM_SLOT_RE.sub(fill, match.group(1))
    if len(set(unresolved)) != 1:
        raise CspError(f"{SHIM_PATH}: cannot tell the worker URL in its iframe script")
    return script


@dataclass(frozen=True)
class Policy:
    """One page's policy, directive by directive."""

    directives: dict[str, list[str]]

    def __str__(self) -> str:
        return "; ".join(" ".join([name, *values]) for name, values in self.directives.items())


def page_policy(scan: PageScan, *, offline: bool, shim: str | None = None) -> Policy:
    """The tightest policy that lets this page run (see the module docstring)."""
    material = scan.config is not None
    pyodide = any(src.endswith(LOADER_PATH) for src in scan.script_srcs)
    local = ["'self'", "file:"] if offline else ["'self'"]
    script = list(local)
    if pyodide:
        script += ["'wasm-unsafe-eval'", "blob:"] if offline else ["'wasm-unsafe-eval'"]
    inline = list(scan.inline_scripts)
    if shim is not None and material and any(s.endswith(SHIM_PATH) for s in scan.script_srcs):
        worker = json.loads(scan.config).get("search")
        if worker:
            inline.append(shim_inline_script(shim, worker))
    directives = {
        "default-src": ["'none'"] if offline else ["'self'"],
        "script-src": [*script, *_hashes(inline)],
        "style-src": [*local, *_hashes(scan.inline_styles)],
        "img-src": [*local, "data:"] if material else local,
    }
    if (material or pyodide) and not offline:
        directives["connect-src"] = ["'self'"]
    directives["base-uri"] = ["'none'"]
    directives["form-action"] = ["'none'"]
    return Policy(directives)


def _hashes(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(sha256_source(t) for t in texts))


def add_policy(text: str, policy: Policy, where: str) -> str:
    """The page with its policy meta right after <meta charset> (replacing an older one)."""
    text = META_RE.sub("", text, count=1)
    match = CHARSET_RE.search(text)
    if not match:
        raise CspError(f"{where}: no <meta charset> to put the policy after")
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return f"{text[: match.end()]}\n{meta}{text[match.end() :]}"


def apply_csp(site_dir: Path, *, offline: bool = False, known: KnownInline | None = None) -> int:
    """Give every page of site_dir its policy; returns the number of pages.
    CspError (every page at fault listed) before any page is written."""
    known = known or known_inline()
    shim_file = site_dir / SHIM_PATH
    shim = shim_file.read_text(encoding="utf-8") if shim_file.is_file() else None
    pages: dict[Path, str] = {}
    problems: list[str] = []
    for page in sorted(site_dir.rglob("*.html")):
        rel = page.relative_to(site_dir).as_posix()
        text = PREFETCH_RE.sub("", page.read_text(encoding="utf-8"))
        scan = scan_page(META_RE.sub("", text, count=1))
        found = [f"{p} needs 'unsafe-inline'" for p in dict.fromkeys(scan.problems)]
        found += [
            f"an inline {kind} no template produces: {_snippet(code)}"
            for kind, codes in (("script", scan.inline_scripts), ("style", scan.inline_styles))
            for code in dict.fromkeys(codes)
            if not known.allows(kind, code)
        ]
        if found:
            problems += [f"{rel}: {p}" for p in found]
            continue
        pages[page] = add_policy(text, page_policy(scan, offline=offline, shim=shim), rel)
    if problems:
        raise CspError(
            f"{len(problems)} inline attribute(s) or code a content security policy forbids:\n  "
            + "\n  ".join(problems)
        )
    for page, text in pages.items():
        page.write_text(text, encoding="utf-8")
    return len(pages)


def _snippet(code: str) -> str:
    text = " ".join(code.split())
    return repr(text if len(text) <= 60 else text[:60] + "…")


def add_csp(ctx: BuildContext) -> None:
    """Build step after run_mkdocs: the policy in every page of the staged site."""
    count = apply_csp(ctx.stage_dir or ctx.project.site_dir)
    log(f"content security policy in {count} pages")
