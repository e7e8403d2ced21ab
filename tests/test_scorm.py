"""The SCORM 1.2 package, as an LMS runs it: the manifest, the files, and the SCO
in Chromium, framed by a test LMS whose API is scorm-again (npm, pinned).

The LMS serves the unzipped package under a path the package cannot know, and
serves .wasm as application/octet-stream, as many LMSs do. Build first:
`make site`.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
import spine_hemangioma
from playwright.sync_api import expect

from generator.calculator_page import CASES_FILE
from generator.offline import DIST_DIR, read_edition
from generator.scorm import (
    LAUNCH_PAGE,
    MANIFEST,
    NS,
    SCRIPT_PATH,
    ScormError,
    add_script,
    build_scorm_package,
    manifest_xml,
    scorm_name,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNTIME = REPO_ROOT / "node_modules" / "scorm-again" / "dist" / "scorm12.min.js"
EDITION = read_edition()
SCORM_ZIP = DIST_DIR / scorm_name(EDITION.version)
# Where the LMS unpacks the package: a path of its own choosing.
SCO_PATH = "content/course-1742/sco-9f3e"
CASES = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
LOAD_TIMEOUT_MS = 60_000
CP = f"{{{NS['']}}}"
ADLCP = f"{{{NS['adlcp']}}}"
IMSMD = f"{{{NS['imsmd']}}}"

LMS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test LMS</title>
<script src="scorm12.min.js"></script>
<script>
  // A SCORM 1.2 runtime with no server behind it: every call is recorded.
  window.scormLog = [];
  window.API = new Scorm12API({ logLevel: 5 });
  ["LMSInitialize", "LMSCommit", "LMSFinish"].forEach(function (name) {
    window.API.on(name, function () { scormLog.push(name); });
  });
  window.API.on("LMSSetValue.cmi.*", function (element, value) {
    scormLog.push("LMSSetValue " + element + " " + value);
  });
</script></head>
<body><h1>Test LMS</h1>
<iframe id="sco" title="SCO" width="1000" height="800"></iframe></body></html>
"""


@pytest.fixture(scope="session")
def package_zip() -> zipfile.ZipFile:
    if not SCORM_ZIP.is_file():
        pytest.fail(f"{SCORM_ZIP} is not built: run `make site` first")
    with zipfile.ZipFile(SCORM_ZIP) as archive:
        yield archive


@pytest.fixture(scope="session")
def lms(tmp_path_factory, package_zip, static_server) -> str:
    """The test LMS served with the package unpacked under SCO_PATH; its base URL."""
    if not RUNTIME.is_file():
        pytest.fail(f"{RUNTIME} missing: `make deps` installs scorm-again")
    root = tmp_path_factory.mktemp("lms")
    package_zip.extractall(root / SCO_PATH)
    (root / "lms").mkdir()
    shutil.copyfile(RUNTIME, root / "lms" / "scorm12.min.js")
    (root / "lms" / "index.html").write_text(LMS_PAGE, encoding="utf-8")
    return static_server(root, types={".wasm": "application/octet-stream"})


def _sco_url(lms: str, answers: dict[str, str]) -> str:
    return f"{lms}{SCO_PATH}/{LAUNCH_PAGE}?{urlencode(answers)}"


# --- The manifest and the files ------------------------------------------------------


def _manifest(package_zip) -> ET.Element:
    return ET.fromstring(package_zip.read(MANIFEST))


def test_manifest_is_scorm_1_2_with_one_sco_launching_the_calculator(package_zip):
    root = _manifest(package_zip)
    assert root.tag == f"{CP}manifest"
    assert root.findtext(f"{CP}metadata/{CP}schema") == "ADL SCORM"
    assert root.findtext(f"{CP}metadata/{CP}schemaversion") == "1.2"
    orgs = root.find(f"{CP}organizations")
    (org,) = orgs.findall(f"{CP}organization")
    assert orgs.get("default") == org.get("identifier")
    (item,) = org.findall(f"{CP}item")
    (resource,) = root.findall(f"{CP}resources/{CP}resource")
    assert item.get("identifierref") == resource.get("identifier")
    assert resource.get(f"{ADLCP}scormtype") == "sco"
    assert resource.get("href") == LAUNCH_PAGE


def test_manifest_metadata_names_title_version_and_source_date(package_zip):
    lom = _manifest(package_zip).find(f"{CP}metadata/{IMSMD}lom")
    source = spine_hemangioma.content.load().guide.source
    title = lom.findtext(f"{IMSMD}general/{IMSMD}title/{IMSMD}langstring")
    assert title == source.title
    version = lom.findtext(f"{IMSMD}lifecycle/{IMSMD}version/{IMSMD}langstring")
    assert version == EDITION.version
    when = lom.findtext(f".//{IMSMD}contribute/{IMSMD}date/{IMSMD}datetime")
    assert when == source.updated.isoformat()


def test_manifest_lists_exactly_the_files_of_the_package(package_zip):
    (resource,) = _manifest(package_zip).findall(f"{CP}resources/{CP}resource")
    listed = [f.get("href") for f in resource.findall(f"{CP}file")]
    names = {n for n in package_zip.namelist() if not n.endswith("/")}
    assert resource.get("href") in names
    assert sorted(listed) == listed
    assert set(listed) == names - {MANIFEST}


def test_scorm_script_is_in_the_launch_page_only(package_zip):
    pages = [n for n in package_zip.namelist() if n.endswith(".html")]
    with_script = [n for n in pages if b"scorm12.js" in package_zip.read(n)]
    assert with_script == [LAUNCH_PAGE]
    assert SCRIPT_PATH in package_zip.namelist()
    site_pages = (REPO_ROOT / "site").rglob("*.html")
    assert [p for p in site_pages if "scorm12.js" in p.read_text(encoding="utf-8")] == []


def test_package_has_no_server_only_files_and_carries_the_pdf(package_zip):
    names = set(package_zip.namelist())
    assert {"404.html", "sitemap.xml", "sitemap.xml.gz"} & names == set()
    assert f"downloads/spine-hemangioma-guide-{EDITION.version}.pdf" in names


def test_manifest_xml_is_the_same_for_the_same_tree(tmp_path):
    (tmp_path / "calculator").mkdir()
    (tmp_path / LAUNCH_PAGE).write_text("<html></html>", encoding="utf-8")
    source = spine_hemangioma.content.load().guide.source
    first = manifest_xml(tmp_path, EDITION, source)
    assert first == manifest_xml(tmp_path, EDITION, source)
    assert ET.fromstring(first).find(f".//{CP}file").get("href") == LAUNCH_PAGE


# --- In the LMS ----------------------------------------------------------------------


def _watch(probe) -> tuple[list[str], list[str]]:
    """Content types of the .wasm responses, and every console warning or error."""
    wasm_types: list[str] = []
    messages: list[str] = []
    page = probe.page
    page.on(
        "response",
        lambda r: r.url.endswith(".wasm") and wasm_types.append(r.headers.get("content-type")),
    )
    page.on(
        "console",
        lambda m: m.type in {"warning", "error"} and messages.append(f"{m.type}: {m.text}"),
    )
    return wasm_types, messages


def _expect_result(frame, expected: dict) -> None:
    result = frame.locator("[data-spine-calc] .sh-result")
    expect(result).to_have_attribute("data-status", expected["status"], timeout=LOAD_TIMEOUT_MS)
    expect(result).to_have_attribute("data-pathway", expected.get("pathway") or "")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_lms_runs_the_sco_for_each_public_case(browser_page, lms, case):
    expected = spine_hemangioma.evaluate(case["answers"])
    wasm_types, messages = _watch(browser_page)
    page = browser_page.page
    page.goto(f"{lms}lms/index.html")
    page.evaluate(
        "url => { document.getElementById('sco').src = url; }", _sco_url(lms, case["answers"])
    )
    _expect_result(page.frame_locator("#sco"), expected)
    started = ["LMSInitialize", "LMSSetValue cmi.core.lesson_status incomplete"]
    if expected["status"] == "complete":
        started += ["LMSSetValue cmi.core.lesson_status completed", "LMSCommit"]
        status = "completed"
    else:
        status = "incomplete"
    page.wait_for_function("n => scormLog.length >= n", arg=len(started))
    assert page.evaluate("scormLog") == started
    assert page.evaluate("API.LMSGetValue('cmi.core.lesson_status')") == status
    # The learner leaves the SCO.
    page.evaluate("document.getElementById('sco').src = 'about:blank'")
    page.wait_for_function("scormLog.includes('LMSFinish')")
    assert page.evaluate("scormLog") == [*started, "LMSFinish"]
    assert wasm_types, "Pyodide's .wasm was not fetched"
    assert set(wasm_types) == {"application/octet-stream"}
    assert messages == []
    assert browser_page.console_errors == []


def test_sco_finds_the_api_through_its_opener(browser_page, lms):
    case = next(c for c in CASES if c["expect"].get("status") == "complete")
    page = browser_page.page
    page.goto(f"{lms}lms/index.html")
    with page.expect_popup() as popup_info:
        page.evaluate("url => { window.open(url, 'sco'); }", _sco_url(lms, case["answers"]))
    popup = popup_info.value
    _expect_result(popup, spine_hemangioma.evaluate(case["answers"]))
    page.wait_for_function("scormLog.includes('LMSCommit')")
    popup.close(run_before_unload=True)
    page.wait_for_function("scormLog.includes('LMSFinish')")
    assert page.evaluate("API.LMSGetValue('cmi.core.lesson_status')") == "completed"


def test_sco_outside_an_lms_is_a_plain_page(browser_page, lms):
    case = next(c for c in CASES if c["expect"].get("status") == "complete")
    _, messages = _watch(browser_page)
    page = browser_page.page
    page.goto(_sco_url(lms, case["answers"]))
    _expect_result(page, spine_hemangioma.evaluate(case["answers"]))
    assert page.evaluate("typeof window.API") == "undefined"
    page.goto("about:blank")
    assert messages == []
    assert browser_page.console_errors == []


# --- Bad input -------------------------------------------------------------------------


def test_build_fails_without_the_launch_page(tmp_path):
    ctx = SimpleNamespace(project=SimpleNamespace(site_dir=tmp_path), content=None, stage_dir=None)
    with pytest.raises(ScormError) as info:
        build_scorm_package(ctx)
    assert str(info.value) == (
        f"{tmp_path / LAUNCH_PAGE} missing: the calculator page is the package's launch page"
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<html><head></head><body></body></html>", '<script src="x.js"></script>\n</head>'),
        ("<html><body>no head</body></html>", None),
    ],
    ids=["head", "no head"],
)
def test_add_script(tmp_path, html, expected):
    page = tmp_path / "index.html"
    page.write_text(html, encoding="utf-8")
    if expected is None:
        with pytest.raises(ScormError, match="no </head> to add the SCORM script to"):
            add_script(page, "x.js")
        assert page.read_text(encoding="utf-8") == html
    else:
        add_script(page, "x.js")
        assert expected in page.read_text(encoding="utf-8")
