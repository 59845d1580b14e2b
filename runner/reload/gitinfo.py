"""Git SHA and dirty flag of the strategies folder's checkout (off the tick path)."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)


def git_info(directory: Path, timeout: float = 5.0) -> tuple[str, bool]:
    """(HEAD sha, folder has uncommitted or untracked changes); ("", False) outside git."""
    sha = _git(directory, timeout, "rev-parse", "HEAD")
    if not sha:
        return "", False
    status = _git(directory, timeout, "status", "--porcelain", "--", ".")
    return sha, bool(status)


def _git(directory: Path, timeout: float, *args: str) -> str:
    # GIT_OPTIONAL_LOCKS=0: `git status` must not take index.lock while a deploy checks out
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("git %s in %s failed: %s", args[0], directory, exc)
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
