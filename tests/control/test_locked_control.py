"""Control can never be locked (issue 13, cases 4 and 6), as the CLI and the HTTP API see it.

Case 4: a hand-edited control.json with version 2**53-1 used to be obeyed, after
which pause/resume failed with a traceback (CLI) or a 500 (API). Case 6: config
overrides a strategy cannot use ("lots", -5, 1e12) were copied from a hand-edited
control.json, and `ctl config set good.size=-5` was accepted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from click.testing import Result

from state_store.desired import MAX_VERSION, DesiredState
from state_store.files import write_json_atomic
from state_store.keys import Keys
from state_store.settings import Settings
from tests.control.test_cli_ctl import ctl

GOOD = """
from state_store.view import Param

PARAMS = {"size": Param(5, min=1, max=100), "edge": Param(0.04, min=0.0, max=0.5), "tag": "a"}


def decide(view):
    return []
"""


@pytest.fixture(autouse=True)
def good_strategy(strategies: Path) -> None:
    (strategies / "good.py").write_text(GOOD)


def hand_edit(settings: Settings, **fields: object) -> None:
    """What an operator's editor does: control.json replaced with these fields."""
    write_json_atomic(settings.control_file, DesiredState().model_dump() | fields)


def assert_clean_refusal(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("refused:"), result.output
    for word in words:
        assert word in lines[0], lines[0]


# -- case 4 ------------------------------------------------------------------------
def test_hand_edited_version_at_the_limit_is_refused_and_commands_still_work(
    settings: Settings,
) -> None:
    assert ctl(settings, "resume").exit_code == 0  # version 1 in Redis and control.json
    hand_edit(settings, version=MAX_VERSION, paused=True)
    status = json.loads(ctl(settings, "status", "--json").stdout)
    assert status["control"]["version"] == 1 and not status["control"]["paused"]
    assert any("leaves no room for commands" in note for note in status["notes"])
    for command in ("pause", "resume", "pause"):
        result = ctl(settings, command)
        assert result.exit_code == 0, result.output
    state = json.loads(settings.control_file.read_text())
    assert state["version"] == 4 and state["paused"]
    assert list(settings.home.glob("control.json.rejected-*")), "the bad file is kept aside"


def test_a_version_no_command_can_bump_is_refused_with_exit_1_and_one_line(
    settings: Settings, real_redis: redis.Redis
) -> None:
    assert ctl(settings, "pause").exit_code == 0
    real_redis.hset(Keys(settings.bot).control, mapping={"version": str(MAX_VERSION)})
    assert_clean_refusal(ctl(settings, "resume"), "no command can bump it")
    real_redis.hset(Keys(settings.bot).control, mapping={"version": "7"})
    real_redis.hset(Keys(settings.bot).control, mapping={"reload_seq": str(MAX_VERSION)})
    assert_clean_refusal(ctl(settings, "reload"), "reload cannot be applied", "reload_seq")
    assert ctl(settings, "resume").exit_code == 0  # everything else still works


# -- case 6 ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("assignment", "why"),
    [
        ("good.size=-5", "-5 is below its minimum 1"),
        ("good.size=1000000000000", "above its maximum 100"),
        ("good.size=1e12", "expected an int"),
        ("good.size=lots", "expected an int"),
        ("good.edge=0.9", "0.9 is above its maximum 0.5"),
    ],
)
def test_config_set_outside_the_declared_limits_is_refused(
    settings: Settings, assignment: str, why: str
) -> None:
    assert_clean_refusal(ctl(settings, "config", "set", assignment), why)
    assert ctl(settings, "config", "set", "good.size=100", "good.edge=0").exit_code == 0


@pytest.mark.parametrize("bad", ["lots", -5, 1e12])
def test_hand_edited_config_is_validated_like_a_command(
    settings: Settings, real_redis: redis.Redis, bad: object
) -> None:
    assert ctl(settings, "config", "set", "good.size=7").exit_code == 0  # version 1
    hand_edit(settings, version=2, config={"good": {"size": bad}})
    status = json.loads(ctl(settings, "status", "--json").stdout)
    refusal = [note for note in status["notes"] if "refused" in note]
    assert refusal and "good.size" in refusal[0], status["notes"]
    assert status["control"]["version"] == 1
    assert real_redis.hget(Keys(settings.bot).control, "version") == "1"  # never copied
    result = ctl(settings, "pause")  # the next command sets the file aside and goes on
    assert result.exit_code == 0 and "refused" in result.output, result.output
    state = json.loads(settings.control_file.read_text())
    assert state["paused"] and state["config"] == {"good": {"size": 7}}


def test_hand_edited_config_with_redis_down_drops_what_params_refuse(
    down_settings: Settings,
) -> None:
    hand_edit(down_settings, version=3, config={"good": {"size": -5, "tag": "b"}})
    result = ctl(down_settings, "pause")
    assert result.exit_code == 0 and "good.size" in result.output, result.output
    state = json.loads(down_settings.control_file.read_text())
    assert state["paused"] and state["version"] == 4 and state["config"] == {"good": {"tag": "b"}}
