"""An interrupted or killed build leaves the previous site/ exactly as it was.

In a copy of the repository: one full build makes the "previous" site/ (marked
with a file of its own), then a build is stopped as each step of STEPS
starts, by Ctrl-C (SIGINT to its process group, as a terminal sends it) or by
SIGKILL (no clean-up possible). Afterwards site/ is the previous site, byte
for byte; only a build that got as far as publishing (its log says so) may
instead have put its own complete site in place. Ctrl-C prints one line, no traceback, exit 130.
The publish step itself: one exchange of two folders (tests below).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
from pathlib import Path

import pytest
from build_copy import build_command, build_env, copy_repo, run_build

from generator.build import STEPS
from generator.publish import replace_site, stage_site

MARK = "PREVIOUS-SITE.txt"
STEP_NAMES = [step.__name__ for step in STEPS]


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A repository copy with a built site/ (marked) and that site's snapshot."""
    repo = copy_repo(tmp_path_factory.mktemp("atomic") / "repo")
    proc = run_build(repo)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (repo / "site" / MARK).write_text("the site before the interrupted build\n", "utf-8")
    return repo, snapshot(repo / "site")


def _descendants(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, found):
            children += [child, *_descendants(child)]
    return children


def stop_build_at(repo: Path, step: str, how: signal.Signals) -> tuple[int, str]:
    """Start a build, send `how` as `step` starts; its exit status and stderr."""
    proc = subprocess.Popen(
        build_command(),
        cwd=repo,
        env=build_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell job has
    )
    lines = []
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if line.strip() == f"generator: {step} ...":
            break
    else:
        pytest.fail(f"the build ended before {step}: {''.join(lines)[-2000:]}")
    if how == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        # Everything the build started too: nothing is left to clean up after it.
        for pid in [proc.pid, *_descendants(proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    rest = proc.stderr.read()
    proc.wait(timeout=120)
    return proc.returncode, "".join(lines) + rest


# Killed at every step; Ctrl-C where the build waits on a child process (the
# signal reaches the child too), each after a kill: its clean-up is checked too.
STOPS = [
    pytest.param(step, how, id=f"{step}-{name}")
    for step in STEP_NAMES
    for how, name in ((signal.SIGKILL, "kill"), (signal.SIGINT, "ctrl-c"))
    if how == signal.SIGKILL
    or step in {"install_calculator_assets", "run_mkdocs", "build_pdf", "build_offline_bundle"}
]


@pytest.mark.parametrize(("step", "how"), STOPS)
def test_stopped_build_leaves_the_previous_site(previous, step, how):
    repo, before = previous
    status, stderr = stop_build_at(repo, step, how)
    after = snapshot(repo / "site")
    if "generator: publish_site ..." in stderr and MARK not in after:
        # The signal came after the build got to the exchange (a step that
        # takes no time is over before the signal lands): the new site, whole.
        assert after == {k: v for k, v in before.items() if k != MARK}
    else:
        assert after == before
    if how == signal.SIGINT:
        assert status == 130, stderr[-2000:]
        assert stderr.splitlines()[-1] == f"generator: interrupted; {repo / 'site'} left as it was"
        assert "Traceback" not in stderr
        assert "KeyboardInterrupt" not in stderr
        # Neither its own staging folder nor the one the kill before it left.
        assert not list(repo.glob(".site.staging-*"))
    else:
        assert status == -signal.SIGKILL
    if MARK not in after:
        (repo / "site" / MARK).write_text("the site before the interrupted build\n", "utf-8")


# --- The publish step on small trees ----------------------------------------------


def test_replace_site_swaps_whole_folders(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "old.html").write_text("old", "utf-8")
    stage = stage_site(site)
    assert stage.parent == tmp_path
    assert stage.name.startswith(f".site.staging-{os.getpid()}-")
    (stage / "new.html").write_text("new", "utf-8")
    replace_site(stage, site)
    assert snapshot(site) == {"new.html": hashlib.sha256(b"new").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert (site.stat().st_mode & 0o777) == 0o755


def test_replace_site_without_a_previous_site(tmp_path):
    site = tmp_path / "site"
    stage = stage_site(site)
    (stage / "index.html").write_text("x", "utf-8")
    replace_site(stage, site)
    assert [p.name for p in site.iterdir()] == ["index.html"]


def test_stage_site_spares_running_builds_and_removes_dead_ones(tmp_path):
    site = tmp_path / "site"
    mine = stage_site(site)
    dead = tmp_path / ".site.staging-999999999-x"  # above pid_max: no such process
    dead.mkdir()
    stage_site(site)
    assert mine.is_dir()
    assert not dead.exists()
