"""Build step: the guide as a SCORM 1.2 package for an LMS.

`build_scorm_package(ctx)`, after add_csp (and build_pdf):

    1. a copy of the built site/ (the served layout: relative links only, so
       it works under whatever path the LMS unpacks it to), without the files
       only a web server at the published address uses (404.html, sitemap);
    2. calculator/web/scorm12.js in assets/scorm/, loaded by the calculator
       page's copy alone, before its other scripts: the SCO's link to the
       LMS (API discovery, LMSInitialize, "completed", LMSFinish), and wasm
       compiled from bytes when the LMS serves it as application/octet-stream;
    3. the downloads named on the home and About pages: the PDF carried, the
       others linked at the published site (generator/downloads.py);
    4. the content security policy recomputed for the changed pages;
    5. imsmanifest.xml at the root: one organization, one item, one SCO whose
       launch page is the calculator, every file of the package listed;
       metadata with the title, the version and the source's date;
    6. dist/spine-hemangioma-guide-<version>-scorm12.zip, deterministic
       (sorted entries, fixed timestamps) and atomic, the manifest at its root.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from .calculator_assets import WEB_DIR
from .csp import apply_csp
from .pages import GeneratorError

if TYPE_CHECKING:
    from spine_hemangioma.content import Source

    from .context import BuildContext
    from .offline import Edition

LAUNCH_PAGE = "calculator/index.html"
SCRIPT_SOURCE = WEB_DIR / "scorm12.js"
SCRIPT_PATH = "assets/scorm/scorm12.js"
MANIFEST = "imsmanifest.xml"
SERVER_FILES = ("404.html", "sitemap.xml", "sitemap.xml.gz")
# Written into site/ after this step; a stale copy must not travel.
LATER_FILES = ("downloads", "_headers")
SCO_TITLE = "Calculator: which pathway?"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BUILD_DIR = Path(__file__).resolve().parent.parent / "build"
# The namespaces of a SCORM 1.2 manifest (IMS Content Packaging 1.1.2, ADL
# extensions, IMS metadata 1.2.1).
NS = {
    "": "http://www.imsproject.org/xsd/imscp_rootv1p1p2",
    "adlcp": "http://www.adlnet.org/xsd/adlcp_rootv1p2",
    "imsmd": "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1",
}


class ScormError(GeneratorError):
    """The package cannot be built; the message names the file at fault."""


def scorm_name(version: str) -> str:
    from .offline import NAME  # noqa: PLC0415 (offline.py imports pages.py, as this does)

    return f"{NAME}-{version}-scorm12.zip"


def build_scorm_package(ctx: BuildContext) -> None:
    """Copy the site, make its calculator page a SCO, write the manifest, zip it."""
    from .downloads import link_downloads  # noqa: PLC0415 (downloads.py imports offline.py)
    from .offline import DIST_DIR, read_edition, write_zip  # noqa: PLC0415

    edition = read_edition()
    site = ctx.stage_dir or ctx.project.site_dir
    launch = site / LAUNCH_PAGE
    if not launch.is_file():
        raise ScormError(f"{launch} missing: the calculator page is the package's launch page")
    if not SCRIPT_SOURCE.is_file():
        raise ScormError(f"{SCRIPT_SOURCE} missing: the SCO's SCORM script")
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".scorm-", dir=BUILD_DIR) as tmp:
        tree = Path(tmp) / "package"
        shutil.copytree(site, tree, ignore=shutil.ignore_patterns(*SERVER_FILES, *LATER_FILES))
        (tree / SCRIPT_PATH).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCRIPT_SOURCE, tree / SCRIPT_PATH)
        add_script(tree / LAUNCH_PAGE, "../" + SCRIPT_PATH)
        link_downloads(tree, carried=("pdf",))
        apply_csp(tree)
        (tree / MANIFEST).write_bytes(manifest_xml(tree, edition, ctx.content.guide.source))
        dest = DIST_DIR / scorm_name(edition.version)
        count = write_zip(tree, "", dest, edition.epoch)
    size = dest.stat().st_size / 1e6
    print(f"generator: {dest}: {count} files, {size:.1f} MB", file=sys.stderr)


def add_script(page: Path, src: str) -> None:
    """A classic script at the end of the page's <head>: it runs before the
    deferred calculator scripts and before Pyodide compiles anything."""
    text = page.read_text(encoding="utf-8")
    if "</head>" not in text:
        raise ScormError(f"{page}: no </head> to add the SCORM script to")
    tag = f'<script src="{src}"></script>'
    page.write_text(text.replace("</head>", f"{tag}\n</head>", 1), encoding="utf-8")


def manifest_xml(tree: Path, edition: Edition, source: Source) -> bytes:
    """imsmanifest.xml for the package in `tree` (every file listed, sorted)."""
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)

    def el(parent, tag: str, text: str | None = None, **attrs: str):
        prefix, _, name = tag.rpartition(":")
        node = ET.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrs)
        node.text = text
        return node

    def langstring(parent, tag: str, text: str) -> None:
        el(el(parent, tag), "imsmd:langstring", text, **{XML_LANG: "en"})

    title = source.title
    root = ET.Element(
        f"{{{NS['']}}}manifest",
        {"identifier": f"spine-hemangioma-guide-{edition.version}", "version": edition.version},
    )
    meta = el(root, "metadata")
    el(meta, "schema", "ADL SCORM")
    el(meta, "schemaversion", "1.2")
    lom = el(meta, "imsmd:lom")
    general = el(lom, "imsmd:general")
    langstring(general, "imsmd:title", title)
    langstring(
        general,
        "imsmd:description",
        f"Educational guide and pathway calculator from one source article"
        f" ({source.publisher}, last updated {source.updated.isoformat()}),"
        f" {source.review_status}. Version {edition.version},"
        f" built {edition.built.isoformat()}.",
    )
    lifecycle = el(lom, "imsmd:lifecycle")
    langstring(lifecycle, "imsmd:version", edition.version)
    contribute = el(lifecycle, "imsmd:contribute")
    role = el(contribute, "imsmd:role")
    langstring(role, "imsmd:source", "LOMv1.0")
    langstring(role, "imsmd:value", "Publisher")
    vcard = f"BEGIN:VCARD FN:{source.publisher} END:VCARD"
    el(el(contribute, "imsmd:centity"), "imsmd:vcard", vcard)
    date = el(contribute, "imsmd:date")
    el(date, "imsmd:datetime", source.updated.isoformat())
    langstring(date, "imsmd:description", "the source article's last update")

    orgs = el(root, "organizations", default="guide")
    org = el(orgs, "organization", identifier="guide")
    el(org, "title", title)
    item = el(org, "item", identifier="calculator", identifierref="calculator-sco")
    el(item, "title", SCO_TITLE)
    resources = el(root, "resources")
    resource = el(
        resources,
        "resource",
        identifier="calculator-sco",
        type="webcontent",
        href=LAUNCH_PAGE,
        **{f"{{{NS['adlcp']}}}scormtype": "sco"},
    )
    for rel in sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()):
        if rel != MANIFEST:
            el(resource, "file", href=rel)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
