"""No `neverblink` command prints a Python traceback for an operator's mistake.

Every command of the CLI (walked from the click tree, so a new one is covered
too) is run with a bad flag, a wrong Redis URL, an unreachable Redis and a
home that cannot exist; each answers with one error line and a non-zero exit.
Commands built to work on without Redis (`ctl` on control.json, `run`,
`watch` and `serve` in degraded mode) are run that way only where they end.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from control.cli import main
from state_store.private_redis import free_port
from tests.control.conftest import dead_url

REPO = Path(__file__).resolve().parents[2]
#: what a command needs besides the flag under test (its required arguments)
REQUIRED = {
    "ctl config set": ["alpha.size=1"],
    "ctl risk set": ["bot.max_shares=200"],
    "replay": ["audit.jsonl"],
    "run": ["--replica", "r1"],
}


def leaf_commands(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[str]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield " ".join((*path, name))
            yield from leaf_commands(command, (*path, name))
        else:
            yield " ".join((*path, name))


def command_of(path: str) -> click.Command:
    command: click.Command = main
    for name in path.split():
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def takes(path: str, option: str) -> bool:
    return any(option in p.opts for p in command_of(path).params)


ALL = list(leaf_commands())
WITH_SETTINGS = [c for c in ALL if takes(c, "--home")]


def invoke(path: str, *args: str) -> Result:
    argv = [*path.split(), *REQUIRED.get(path, []), *args]
    env = {"NEVERBLINK_REDIS_URL": "", "NEVERBLINK_HOME": ""}
    return CliRunner().invoke(main, argv, env=env)


def assert_one_line_error(result: Result, exit_codes: tuple[int, ...] = (1, 2)) -> str:
    assert result.exit_code in exit_codes, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_the_walk_finds_every_command() -> None:
    assert {"state", "venue", "worker", "demo", "ctl status", "redis stop", "run"} <= set(ALL)
    assert len(ALL) >= 20


@pytest.mark.parametrize("path", ALL)
def test_a_bad_flag(path: str) -> None:
    line = assert_one_line_error(invoke(path, "--no-such-flag"), (2,))
    assert "--no-such-flag" in line


@pytest.mark.parametrize("path", WITH_SETTINGS)
def test_a_wrong_redis_url(path: str) -> None:
    result = invoke(path, "--redis-url", "http://user:secret@127.0.0.1:6379/0")
    line = assert_one_line_error(result, (1,))
    assert "bad Redis URL" in line and "redis://" in line and "secret" not in result.output


@pytest.mark.parametrize("path", ["bench store", "bench deploy", "replay"])
def test_a_wrong_benchmark_or_sandbox_url(path: str) -> None:
    option = "--sandbox-redis" if path == "replay" else "--redis-url"
    line = assert_one_line_error(invoke(path, option, "redis://127.0.0.1:port/0"), (1,))
    assert "bad Redis URL" in line


#: commands that cannot work without the bot's Redis: they say so and stop
NEED_REDIS = ["state", "venue", "worker", "demo"]


@pytest.mark.parametrize("path", NEED_REDIS)
def test_an_unreachable_redis(path: str) -> None:
    extra = ["--port", str(free_port())] if path == "demo" else []
    line = assert_one_line_error(invoke(path, "--redis-url", dead_url(), *extra), (1,))
    assert "Redis at redis://127.0.0.1:" in line and "does not answer" in line


def test_an_unreachable_benchmark_redis() -> None:
    url = dead_url()
    line = assert_one_line_error(invoke("bench store", "--redis-url", url, "--iterations", "1"))
    assert "Redis unreachable" in line


@pytest.mark.parametrize("path", ["ctl status", "ctl pause", "ctl config get"])
def test_control_commands_fall_back_to_the_file_plane(path: str, tmp_path: Path) -> None:
    result = invoke(path, "--redis-url", dead_url(), "--home", str(tmp_path / "home"))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


#: every command that touches the home, with the home under a regular file
HOME_USERS = [
    "state", "venue", "worker", "demo", "run", "watch", "serve", "redis", "redis status",
    "redis stop", "ctl status", "ctl pause", "ctl config set",
]  # fmt: skip


@pytest.mark.parametrize("path", HOME_USERS)
def test_a_home_that_cannot_exist(path: str, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    extra = ["--port", str(free_port())] if path in ("demo", "serve", "venue") else []
    strategies = REPO / "strategies"
    args = ["--home", str(blocker / "home"), "--strategies", str(strategies), *extra]
    result = invoke(path, *args)
    if path in ("redis status", "redis stop"):  # nothing runs there: they say so
        assert result.exit_code in (0, 3) and "Traceback" not in result.output, result.output
        return
    line = assert_one_line_error(result, (1,))
    assert str(blocker) in line or "not running" in line


def test_a_missing_home_is_not_created_by_reading(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    line = assert_one_line_error(invoke("state", "--home", str(home)), (1,))
    assert "not running" in line and "neverblink demo" in line
    assert not home.exists()


@pytest.mark.parametrize("path", NEED_REDIS)
def test_the_real_process_prints_one_line(path: str) -> None:
    """The issue's reproduction, as a user runs it: a subprocess, stderr as printed."""
    argv = [sys.executable, "-m", "control", *path.split(), "--redis-url", dead_url()]
    argv += ["--port", str(free_port())] if path == "demo" else []
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
