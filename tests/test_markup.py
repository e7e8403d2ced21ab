"""The content's one text rule (spine_hemangioma.markup): a table of hostile or
awkward texts, each rendered by Python-Markdown with the site's extensions to
exactly the text given (on one line), with no element beyond the paragraph;
emphasis kept only where the rule keeps it."""

from __future__ import annotations

import html

import markdown
import pytest
import spine_hemangioma
from spine_hemangioma import markup
from spine_hemangioma.content import CONTENT_DIR, load_from

EXTENSIONS = ["abbr", "admonition", "attr_list", "md_in_html", "tables", "toc"]

TEXTS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "&lt;b&gt; and &amp;",
    "a statement\n{ .admonition .danger #ref-1 }",
    "{: #x } {{ 7*7 }} {% if 1 %}y{% endif %}",
    "[click](javascript:alert(1)) <javascript:alert(1)> ![i](x.png)",
    "# not a heading",
    "> not a quote",
    "- not a list",
    "+ not a list",
    "1. not a list",
    "  12. not a list either",
    "*not emphasis* _nor this_ `nor code` a|b",
    "back\\slash \\* and a trailing backslash\\",
    "two\n\nparagraphs",
    "3.5 mm, 1-2 levels, T1/T2 (MRI): fine",
]


def rendered(text: str) -> str:
    return markdown.markdown(text, extensions=EXTENSIONS)


@pytest.mark.parametrize("text", TEXTS)
def test_markdown_text_renders_to_exactly_the_text(text):
    out = rendered(markup.markdown_text(text))
    assert out == f"<p>{html.escape(markup.one_line(text), quote=False)}</p>"


def test_emphasis_survives_only_in_markdown_emphasis():
    text = "Acosta FL. *Neurosurgery*. 2006 <b>x</b> {.y}"
    assert rendered(markup.markdown_emphasis(text)) == (
        "<p>Acosta FL. <em>Neurosurgery</em>. 2006 &lt;b&gt;x&lt;/b&gt; {.y}</p>"
    )
    assert markup.plain_text(text) == "Acosta FL. Neurosurgery. 2006 <b>x</b> {.y}"


def test_html_text_is_inert_in_an_attribute_and_in_a_title():
    assert markup.html_text('a "b" </title><script>\n') == (
        "a &quot;b&quot; &lt;/title&gt;&lt;script&gt;"
    )


def test_using_sets_the_tree_for_the_block_only():
    content = load_from(CONTENT_DIR)
    package = spine_hemangioma.tree()
    with spine_hemangioma.using(content) as tree:
        assert spine_hemangioma.tree() is tree
        assert tree is not package
    assert spine_hemangioma.tree() is package


def test_package_has_no_other_lazy_attribute():
    with pytest.raises(AttributeError, match="has no attribute 'NOPE'"):
        spine_hemangioma.NOPE  # noqa: B018
