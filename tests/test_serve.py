"""Live regeneration without mkdocs hooks (generator/serve.py): the real watchdog
observer on a copy of the content, writing into a temporary docs/. An edit
shows in the pages; invalid content is reported and the last good pages stay;
no engine config names a hook."""

from __future__ import annotations

import shutil
import time

import pytest
from spine_hemangioma.content import CONTENT_DIR, load_from

from generator.build import REPO_ROOT, Project
from generator.pages import load_diagram, render_pages
from generator.serve import regenerate, watching

WAIT_S = 15  # inotify plus the quiet period; a loaded CI machine is slower
AUDIENCE = 'audience = "This information is intended for healthcare professionals."'


@pytest.fixture
def project(tmp_path) -> Project:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    assert AUDIENCE in (content / "guide.toml").read_text(encoding="utf-8")
    return Project(content_dir=content, docs_dir=tmp_path / "docs")


def edit(project: Project, old: str, new: str) -> None:
    guide = project.content_dir / "guide.toml"
    guide.write_text(guide.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"after {WAIT_S} s: {what}")


def home(project: Project) -> str:
    return (project.docs_dir / "index.md").read_text(encoding="utf-8")


def test_regenerate_writes_the_pages_then_only_changes(project):
    pages = render_pages(load_from(project.content_dir), load_diagram())
    assert sorted(regenerate(project)) == sorted(pages)
    assert home(project) == pages["index.md"]
    assert regenerate(project) == []


def test_a_content_edit_shows_in_the_pages(project):
    regenerate(project)
    with watching(project):
        edit(project, AUDIENCE, AUDIENCE.replace("professionals.", "professionals, edited."))
        wait_for(lambda: "professionals, edited." in home(project), "index.md not regenerated")
    expected = render_pages(load_from(project.content_dir), load_diagram())
    assert home(project) == expected["index.md"]


def test_invalid_content_keeps_the_last_good_pages(project, capsys):
    regenerate(project)
    before = home(project)
    with watching(project):
        edit(project, AUDIENCE, "audience = ")
        wait_for(lambda: "is invalid" in capsys.readouterr().err, "no report of the bad file")
        assert home(project) == before
        edit(project, "audience = ", AUDIENCE.replace("professionals.", "professionals, fixed."))
        wait_for(lambda: "professionals, fixed." in home(project), "not regenerated once fixed")


def test_after_watching_an_edit_changes_nothing(project):
    regenerate(project)
    before = home(project)
    with watching(project):
        pass
    edit(project, AUDIENCE, AUDIENCE.replace("professionals.", "professionals, later."))
    time.sleep(1)
    assert home(project) == before


@pytest.mark.parametrize("config", ["mkdocs.yml", "mkdocs.offline.yml", "mkdocs.zensical.yml"])
def test_no_engine_config_runs_a_hook(config):
    text = (REPO_ROOT / config).read_text(encoding="utf-8")
    assert not [line for line in text.splitlines() if line.startswith(("hooks:", "watch:"))]
    assert not (REPO_ROOT / "generator" / "hooks.py").exists()
