"""Hostile content: every text field of the content carries script, HTML,
attr_list braces, Jinja syntax and a `javascript:` link, and the site built
from it (`--content DIR`, in a copy of the repository) shows each as text.

One build, then a table: for each field, its payload is found as text (or
as an attribute's value, where the theme puts it in one) on the pages it
reaches, and nowhere did it become an element, an attribute or a class.
Then Chromium, with the content security policy bypassed (what is tested is
the escaping; the policy is the second line): no page and no calculator result
runs the payload, and the calculator shows the payloads as text. The policy
itself refuses inline code no template produces (the last tests).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from build_copy import REPO_ROOT, copy_repo, run_build
from spine_hemangioma.content import CONTENT_DIR

from generator.csp import CspError, apply_csp, known_inline

SITE = "hostile-site"
CASES = json.loads((REPO_ROOT / "calculator" / "cases.json").read_text(encoding="utf-8"))["cases"]
CASE = next(c for c in CASES if c["expect"]["status"] == "complete")
READY_MS = 60_000


def payload(marker: str) -> str:
    """What a careless author or an attacker could put in a field."""
    return (
        f'<script>window.__pwned="{marker}"</script><img src=x onerror=window.__pwned=1>'
        " {{ 7*7 }}{% if 1 %}J{% endif %}"
        f" [{marker}-link](javascript:window.__pwned=1) <javascript:alert(1)>"
        "\n{ .admonition .danger #ref-1 }"
    )


def shown(marker: str) -> str:
    """The payload as a reader sees it: the same characters, on one line."""
    return " ".join(payload(marker).split())


def toml_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# (file, key, where it shows: "text" or an attribute's value, a page it reaches)
FIELDS = [
    ("guide.toml", "question", "text", "about/index.html"),
    ("guide.toml", "title", "text", "index.html"),
    ("guide.toml", "publisher", "text", "about/index.html"),
    ("guide.toml", "notice", "text", "index.html"),
    ("guide.toml", "review_status", "text", "index.html"),
    ("guide.toml", "audience", "text", "index.html"),
    ("guide.toml", "disclaimer_title", "text", "index.html"),
    ("guide.toml", "citation", "text", "references/index.html"),
    ("guide.toml", "evidence", "text", "references/index.html"),
    ("guide.toml", "expansion", "title", "gaps/index.html"),
    ("guide.toml", "heading", "text", "clinical-context/index.html"),
    ("guide.toml", "lead", "text", "clinical-context/index.html"),
    ("guide.toml", "text", "text", "clinical-context/index.html"),
    ("guide.toml", "label", "text", "pitfalls/index.html"),
    ("algorithm.toml", "label", "text", "calculator/index.html"),
    ("algorithm.toml", "help", "text", "calculator/index.html"),
    ("algorithm.toml", "title", "text", "algorithm/index.html"),
]


def marker(file: str, key: str) -> str:
    return f"PWN{file[0]}{key.replace('_', '')}"


def hostile_content(dest: Path) -> Path:
    """The real content with every FIELDS value ending in its payload."""
    dest.mkdir()
    for file in ("guide.toml", "algorithm.toml"):
        text = (CONTENT_DIR / file).read_text(encoding="utf-8")
        for f, key, _, _ in FIELDS:
            if f != file:
                continue
            add = toml_string(" " + payload(marker(f, key)))
            text, count = re.subn(
                rf'(?m)((?:^|[{{,]\s*){key} = "(?:[^"\\\n]|\\.)*)"',
                lambda m, add=add: m.group(1) + add + '"',
                text,
            )
            assert count, f"{file} has no {key} field"
        if file == "guide.toml":
            stages = toml_string(payload("PWNgreviewstages"))
            text = text.replace('review_stages = ["', f'review_stages = ["{stages}", "', 1)
            end = toml_string(" " + payload("PWNgdisclaimer")) + '"""'
            head, sep, tail = text.partition('disclaimer = """')
            body, _, rest = tail.partition('"""')
            text = head + sep + body + end + rest
        (dest / file).write_text(text, encoding="utf-8")
    return dest


class _Page(HTMLParser):
    """A page's text (outside script and style), attribute values and elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.scripts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.attrs += [(tag, n, v or "") for n, v in attrs]
        if tag == "script" and dict(attrs).get("type") == "application/json":
            self._in = "data"  # the calculator's data: JSON, never run
        elif tag in {"script", "style"}:
            self._in = tag

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in is None:
            self.text.append(data)


def parse(path: Path) -> _Page:
    return parse_text(path.read_text(encoding="utf-8"))


def parse_text(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    repo = copy_repo(root / "repo")
    content = hostile_content(root / "content")
    proc = run_build(repo, "--content", str(content), "--site-dir", str(root / SITE))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / SITE


@pytest.mark.parametrize(
    ("file", "key", "where", "page"), FIELDS, ids=[f"{f[0]}:{f[1]}" for f in FIELDS]
)
def test_field_is_shown_as_text(hostile_site, file, key, where, page):
    parsed = parse(hostile_site / page)
    expected = shown(marker(file, key))
    if where == "text":
        text = " ".join("".join(parsed.text).split())
        assert expected in text
    else:
        assert any(expected in " ".join(v.split()) for _, n, v in parsed.attrs if n == where)


def test_diagram_is_drawn_from_the_same_content(hostile_site):
    """--content DIR reaches the diagram (its SVG and text outline), not only the pages."""
    page = (hostile_site / "algorithm" / "index.html").read_text(encoding="utf-8")
    diagram = page.index('<div class="sh-diagram">')
    svg = page[diagram : page.index("</svg>", diagram)]
    outline = page[page.index('id="text-outline-of-the-diagram"') :]
    label = shown(marker("algorithm.toml", "label"))
    for part in (svg, outline):
        assert label in " ".join("".join(parse_text(part).text).split())


def test_list_field_and_multiline_field_are_shown_as_text(hostile_site):
    text = " ".join("".join(parse(hostile_site / "about" / "index.html").text).split())
    assert shown("PWNgreviewstages") in text
    assert shown("PWNgdisclaimer") in text


def test_no_payload_became_markup(hostile_site):
    """No page has an element, attribute, class, script or duplicate id the payloads made."""
    found = []
    for path in sorted(hostile_site.rglob("*.html")):
        parsed = parse(path)
        rel = path.relative_to(hostile_site).as_posix()
        found += [f"{rel}: script {s[:60]!r}" for s in parsed.scripts if "pwned" in s]
        for tag, name, value in parsed.attrs:
            bad = (
                name.startswith("on")
                or value.strip().lower().startswith("javascript:")
                or (tag == "img" and name == "src" and value == "x")
                or (name == "class" and "danger" in value.split())
            )
            if bad:
                found.append(f"{rel}: <{tag} {name}={value!r}>")
        ids = [value for _, name, value in parsed.attrs if name == "id"]
        found += [f"{rel}: id {i!r} twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    assert not found


def test_pages_and_calculator_run_no_payload(hostile_site, chromium_browser, static_server):
    base = static_server(hostile_site)
    context = chromium_browser.new_context(service_workers="block", bypass_csp=True)
    dialogs: list[str] = []
    try:
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pwned = []
        for path in sorted(hostile_site.rglob("*.html")):
            rel = path.relative_to(hostile_site).as_posix()
            if rel == "404.html":
                continue
            page.goto(base + rel, wait_until="load")
            if page.evaluate("() => window.__pwned !== undefined"):
                pwned.append(rel)
        assert (pwned, dialogs) == ([], [])
        # A complete result: its statements and titles carry payloads.
        answers = urlencode(CASE["answers"])
        page.goto(f"{base}calculator/?{answers}", wait_until="load")
        result = page.locator(".sh-result")
        result.wait_for(state="attached")
        page.wait_for_function(
            "() => document.querySelector('.sh-result').dataset.status !== 'loading'",
            timeout=READY_MS,
        )
        text = " ".join(result.inner_text().split())
        assert shown(marker("guide.toml", "text")) in text
        assert shown(marker("algorithm.toml", "title")) in text
        form = " ".join(page.locator(".sh-form").inner_text().split())
        assert shown(marker("algorithm.toml", "label")) in form
        assert not page.evaluate("() => window.__pwned !== undefined")
        assert dialogs == []
    finally:
        context.close()


# --- The policy: inline code no template produces fails the build -----------------

PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>{}</body>'


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<script>alert(1)</script>", "an inline script no template produces: 'alert(1)'"),
        (
            '<script>__md_scope=new URL("x",location),alert(1)</script>',
            "an inline script no template produces",
        ),
        ("<style>body{display:none}</style>", "an inline style no template produces"),
        ('<img src="x" onerror="alert(1)">', "<img onerror=...> needs 'unsafe-inline'"),
    ],
    ids=["script", "theme script plus code", "style", "event handler"],
)
def test_unknown_inline_code_fails_the_policy_step(tmp_path, body, problem):
    (tmp_path / "a.html").write_text(PAGE.format("<p>fine</p>"), encoding="utf-8")
    (tmp_path / "b.html").write_text(PAGE.format(body), encoding="utf-8")
    with pytest.raises(CspError) as info:
        apply_csp(tmp_path)
    assert f"b.html: {problem}" in str(info.value)
    assert "Content-Security-Policy" not in (tmp_path / "a.html").read_text(encoding="utf-8")


def test_the_themes_own_inline_script_is_known():
    known = known_inline()
    script = (
        '__md_scope=new URL("../..",location),__md_hash=e=>[...e].reduce(((e,_)=>(e<<5)-e+_'
        ".charCodeAt(0)),0),__md_get=(e,_=localStorage,t=__md_scope)=>JSON.parse(_.getItem"
        '(t.pathname+"."+e)),__md_set=(e,_,t=localStorage,a=__md_scope)=>{try{t.setItem(a.'
        'pathname+"."+e,JSON.stringify(_))}catch(e){}}'
    )
    assert known.allows("script", script)
    assert not known.allows("script", script.replace('"../.."', '"x"+alert(1)+"'))
