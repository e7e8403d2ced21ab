"""Hostile input: script in the URL of the calculator and embed pages, and
malformed JSON given to `python -m spine_hemangioma`.

The pages: XSS payloads as parameter names, as values (of answered, unanswered
and the embed's own fields) and in the fragment leave the DOM exactly as
harmless text in the same places does (same elements, same attributes), put no
payload in any attribute, open no dialog and run nothing (a payload would set
window.__pwned). The browser context bypasses the content security policy:
what is tested here is the pages' own handling of input; the policy
(tests/test_csp.py) is the second line.

The command line: the malformed input tests/test_cli.py's table does not hold
(control characters, lone surrogates, bytes that are not UTF-8, NaN, nesting
and numbers past Python's limits, trailing data) exits 2 with one printable
line on stderr and nothing on stdout.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

REPO_ROOT = Path(__file__).resolve().parent.parent
CASES = json.loads((REPO_ROOT / "calculator" / "cases.json").read_text(encoding="utf-8"))["cases"]
CASE = next(c for c in CASES if c["expect"]["status"] == "complete")
READY_MS = 60_000
PWN = "window.__pwned=1"
PAYLOADS = [
    f"<img src=x onerror={PWN}>",
    f'"><script>{PWN}</script>',
    "'><svg onload=alert(1)>",
    f"</script><script>{PWN}</script>",
    "javascript:alert(1)",
    f'<a href="javascript:{PWN}">x</a>',
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    f'{{{{constructor.constructor("{PWN}")()}}}}',
    f"${{{PWN}}}",
    f"&lt;img src=x onerror={PWN}&gt;",
    quote(f"<img src=x onerror={PWN}>"),  # encoded twice in the URL
    "<style>*{display:none}</style>",
    "data:text/html,<script>alert(1)</script>",
]
# Unanswered fields of CASE whose values carry payloads; "mri" is answered:
# its second value is a duplicate the page ignores.
VALUE_FIELDS = ["mri", "level", "extension"]

# The DOM's shape: every element's tag and attribute names, in document order,
# and every attribute value that holds a payload's marks.
SHAPE = """() => {
  const all = [...document.querySelectorAll("*")];
  return {
    shape: all.map((e) => [e.localName, ...[...e.attributes].map((a) => a.name).sort()].join(" ")),
    marked: all.flatMap((e) => [...e.attributes]
      .filter((a) => /pwned|alert\\(|onerror|onload|javascript:/i.test(a.value))
      .map((a) => `${e.localName}[${a.name}]=${a.value}`)),
    pwned: window.__pwned !== undefined || (window.parent.__pwned !== undefined),
    theme: document.documentElement.dataset.theme || null,
  };
}"""


@pytest.fixture
def tab(chromium_browser, site_url) -> Iterator:
    """A page that may reach only the site's server, with the content security
    policy bypassed; its dialogs are recorded (tab.dialogs) and dismissed."""
    context = chromium_browser.new_context(service_workers="block", bypass_csp=True)
    outside: list[str] = []

    def route(r):
        if urlsplit(r.request.url).scheme in {"http", "https"} and not r.request.url.startswith(
            site_url
        ):
            outside.append(r.request.url)
            return r.abort("blockedbyclient")
        return r.continue_()

    context.route("**/*", route)
    tab = context.new_page()
    tab.dialogs = []

    def on_dialog(dialog):
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    yield tab
    context.close()
    assert outside == [], f"requests left the local server: {outside}"


# calculator.js: the ignored-parameter note's bounds.
NOTE_NAMES, NOTE_CHARS = 5, 40


def hostile_query(words: list[str], extra: list[str]) -> str:
    """CASE's answers, then each word as a name and as the value of VALUE_FIELDS."""
    pairs = list(CASE["answers"].items())
    pairs += [(w, "1") for w in words]
    pairs += [(VALUE_FIELDS[i % len(VALUE_FIELDS)], w) for i, w in enumerate(words)]
    pairs += [(name, words[i % len(words)]) for i, name in enumerate(extra)]
    return urlencode(pairs)


def settle(tab) -> None:
    # An <img onerror> would fire after its failed load: a few tasks later.
    tab.evaluate("new Promise(r => setTimeout(r, 300))")


def set_query(tab, query: str, fragment: str) -> None:
    """The page's own URL-to-answers path (back and forward), without a reload."""
    tab.evaluate(
        "([q, f]) => { history.pushState(null, '', location.pathname + '?' + q + f);"
        " dispatchEvent(new PopStateEvent('popstate')); }",
        [query, fragment],
    )


def check_page(tab, url: str, extra: list[str]) -> None:
    """Load the page with the payloads, compare it with harmless words in their
    place (same page, through the URL), then the payloads again the same way."""
    harmless = [f"word{i}" for i in range(len(PAYLOADS))]
    hostile, clean = hostile_query(PAYLOADS, extra), hostile_query(harmless, extra)
    fragment = "#" + quote(PAYLOADS[0])
    tab.goto(f"{url}?{hostile}{fragment}", wait_until="load")
    expect(tab.locator("[data-spine-calc]")).to_have_attribute(
        "data-ready", "true", timeout=READY_MS
    )
    result = tab.locator(".sh-result")
    expect(result).to_have_attribute("data-pathway", CASE["expect"]["pathway"])
    settle(tab)
    loaded = tab.evaluate(SHAPE)
    note = tab.locator(".sh-note").text_content()
    set_query(tab, clean, "#word0")
    expect(tab.locator(".sh-note")).to_contain_text("word0")
    settle(tab)
    baseline = tab.evaluate(SHAPE)
    set_query(tab, hostile, fragment)
    expect(tab.locator(".sh-note")).to_contain_text(PAYLOADS[0])
    settle(tab)
    again = tab.evaluate(SHAPE)

    assert loaded["shape"] == baseline["shape"], "the payloads changed the page's elements"
    assert again["shape"] == baseline["shape"]
    assert [loaded["marked"], again["marked"]] == [[], []]
    assert [loaded["pwned"], again["pwned"]] == [False, False]
    assert tab.dialogs == []
    assert result.get_attribute("data-pathway") == CASE["expect"]["pathway"]
    # The names came back as text, none as markup; the note names the first
    # few, each cut short, then counts the rest (tests/test_calculator_ux.py).
    for payload in PAYLOADS[:NOTE_NAMES]:
        assert payload[:NOTE_CHARS] in note
    if len(PAYLOADS) > NOTE_NAMES:
        assert re.search(r" and \d+ more\.$", note), note
    assert tab.locator(".sh-note *").count() == 0
    assert loaded["theme"] in {None, "light", "dark"}


def test_calculator_page_shows_hostile_parameters_as_text(tab, site_url):
    check_page(tab, site_url + "calculator/", [])


def test_embed_page_shows_hostile_parameters_as_text(tab, site_url):
    # The embed's own parameters get payloads too.
    check_page(tab, site_url + "embed/", ["theme", "compact"])


# --- The command line ---------------------------------------------------------------------

DEEP = "[" * 60_000  # under the 64 kB bound, past the nesting Python parses
CLI_CASES = [
    # (name, argument or None, stdin bytes, start of the message)
    ("newline in a name", None, b'{"a\\nb": "x"}', "unknown field 'a\\nb'"),
    ("escape sequence in a name", None, b'{"\\u001b[2J": "x"}', "unknown field '\\x1b[2J'"),
    ("escape sequence in a value", None, b'{"mri": "\\u001b]0;x\\u0007"}', "mri: '\\x1b]0;x\\x07'"),
    ("lone surrogate", None, b'{"mri": "\\ud800"}', "mri: '\\ud800' is not allowed"),
    ("raw control character", None, b'{"mri": "ty\x00pical"}', "answers: not valid JSON: "),
    ("not utf-8 in the argument", b'{"mri": "\xff"}', b"", "mri: '\\udcff' is not allowed"),
    ("NaN", None, b'{"mri": NaN}', "mri: expected text, got number nan"),
    ("Infinity", None, b'{"mri": -Infinity}', "mri: expected text, got number -inf"),
    ("nested too deeply, on stdin", None, DEEP.encode(), "answers: not valid JSON: nested"),
    ("nested too deeply, as argument", DEEP.encode(), b"", "answers: not valid JSON: nested"),
    ("number too long", None, b'{"mri": ' + b"9" * 5000 + b"}", "answers: not valid JSON: "),
    ("trailing data", None, b'{"mri": "typical"} x', "answers: not valid JSON: Extra data"),
    ("two documents", None, b'{"mri": "typical"}{}', "answers: not valid JSON: Extra data"),
    ("huge value", None, b'{"mri": "' + b"a" * 5_000_000 + b'"}', "answers: too long"),
]


@pytest.mark.parametrize(
    ("argument", "stdin", "message"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_cli_rejects_malformed_json_in_one_line(argument, stdin, message):
    proc = subprocess.run(
        [sys.executable, "-m", "spine_hemangioma", *([argument] if argument else [])],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
    err = proc.stderr.decode("utf-8")
    assert (proc.returncode, proc.stdout) == (2, b""), err
    assert err.startswith(f"spine_hemangioma: error: {message}"), err[:300]
    assert err.endswith("\n")
    assert err.count("\n") == 1, "more than one line"
    assert err[:-1].isprintable(), "a control character reached stderr"
    assert len(err) < 400, "the message echoes too much of the input"
    assert "Traceback" not in err
