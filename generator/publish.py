"""Build step, the last of `STEPS`: the staged site replaces site/ in one rename.

mkdocs builds into a staging folder beside site/ (`stage_site`), the steps
after it work there (the content security policy is added there), and only
when every step has passed does `publish_site` put it in place of site/. A
build that fails or is interrupted before then leaves site/ exactly as it was.

    1. `stage_site(site_dir)`: a new empty folder `.site.staging-<pid>-<random>`
       beside site/ (same file system, so a rename can move it), after removing
       the staging folders of builds that were killed (their pid is gone);
    2. `publish_site(ctx)`: on Linux one renameat2(RENAME_EXCHANGE) swaps the
       staged folder and site/ atomically: at every instant site/ is either the
       old site or the new one, whole. Where the kernel or file system cannot
       exchange, two renames (site/ aside, the staged folder in), the window
       between them as short as two system calls;
    3. the old site, now at the staging path, is removed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from pathlib import Path

from .context import BuildContext, log
from .pages import GeneratorError

STAGING_MARK = ".staging-"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def stage_site(site_dir: Path) -> Path:
    """A new empty staging folder beside site_dir, for one build."""
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_stages(site_dir)
    prefix = f".{site_dir.name}{STAGING_MARK}{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=site_dir.parent))


def discard_stage(stage_dir: Path | None) -> None:
    """Remove a staging folder a failed or interrupted build leaves behind."""
    if stage_dir is not None:
        shutil.rmtree(stage_dir, ignore_errors=True)


def _remove_stale_stages(site_dir: Path) -> None:
    # A build killed with SIGKILL cannot clean up; the next one does, sparing
    # the folders of builds still running (another terminal, a test).
    for stale in site_dir.parent.glob(f".{site_dir.name}{STAGING_MARK}*"):
        pid = stale.name.removeprefix(f".{site_dir.name}{STAGING_MARK}").split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where it is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP}:
        return False
    raise OSError(err, os.strerror(err), str(a))


def replace_site(stage_dir: Path, site_dir: Path) -> None:
    """Put the staged folder in place of site_dir; the old site is removed."""
    stage_dir.chmod(0o755)  # mkdtemp makes it 0700; a web server must read it
    if not site_dir.exists():
        stage_dir.rename(site_dir)
        return
    if not _exchange(stage_dir, site_dir):
        old = stage_dir.with_name(stage_dir.name + "-old")
        site_dir.rename(old)
        stage_dir.rename(site_dir)
        stage_dir = old
    shutil.rmtree(stage_dir, ignore_errors=True)


def publish_site(ctx: BuildContext) -> None:
    """The staged site becomes site/ (see the module docstring)."""
    if ctx.stage_dir is None:
        raise GeneratorError("publish_site needs the staged site (BuildContext.stage_dir)")
    replace_site(ctx.stage_dir, ctx.project.site_dir)
    log(f"site published to {ctx.project.site_dir}")
