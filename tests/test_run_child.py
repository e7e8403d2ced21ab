"""generator.context.run_child: a Ctrl-C that lands while the child is being
started stops the build and the child both (subprocess.run would leave the
child running, its handle lost inside Popen())."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from generator import context


def test_ctrl_c_during_the_start_stops_the_child(monkeypatch, tmp_path):
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def popen_hit_by_ctrl_c(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        os.kill(os.getpid(), signal.SIGINT)  # as if it landed inside Popen()
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen_hit_by_ctrl_c)
    marker = tmp_path / "child-finished"
    child = f"import time, pathlib; time.sleep(3); pathlib.Path({str(marker)!r}).touch()"
    with pytest.raises(KeyboardInterrupt):
        context.run_child([sys.executable, "-c", child])
    assert len(started) == 1
    assert started[0].poll() == -signal.SIGKILL  # stopped and reaped, not orphaned
    assert not marker.exists()


@pytest.mark.parametrize(
    ("code", "kwargs", "out"),
    [
        ("print('out')", {"capture_output": True, "text": True}, "out\n"),
        ("import sys; sys.exit(3)", {}, None),
    ],
)
def test_runs_like_subprocess_run(code, kwargs, out):
    proc = context.run_child([sys.executable, "-c", code], **kwargs)
    assert proc.stdout == out
    assert proc.returncode == (3 if "exit" in code else 0)


def test_a_timeout_stops_the_child():
    with pytest.raises(subprocess.TimeoutExpired):
        context.run_child([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
