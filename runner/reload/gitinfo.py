"""Running git, and the SHA + dirty flag of the strategies folder's checkout (off the tick path)."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

GIT_TIMEOUT = 10.0


class GitError(RuntimeError):
    """A git command failed or could not run."""


def run_git(directory: Path, *args: str, timeout: float = GIT_TIMEOUT) -> str:
    """stdout of a git command (trailing newline stripped); GitError on failure."""
    # GIT_OPTIONAL_LOCKS=0: `git status` must not take index.lock while a deploy checks out
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):  # we may run inside a hook
        env.pop(name, None)
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
        raise GitError(f"git {args[0]}: {exc}") from exc
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {done.stderr.strip()[:300]}")
    return done.stdout.rstrip("\n")


def git_info(directory: Path, timeout: float = 5.0) -> tuple[str, bool]:
    """(HEAD sha, folder has uncommitted or untracked changes); ("", False) outside git."""
    try:
        sha = run_git(directory, "rev-parse", "HEAD", timeout=timeout).strip()
        status = run_git(directory, "status", "--porcelain", "--", ".", timeout=timeout)
    except GitError as exc:
        log.debug("no git info for %s: %s", directory, exc)
        return "", False
    return sha, bool(status.strip())
