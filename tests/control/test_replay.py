"""`neverblink replay`: a recorded control sequence against a dry-run bot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from control.cli import main
from control.replay import ReplayError, ReplayOptions, read_recording, replay
from control.service import ControlService
from state_store.audit import AuditEntry, append_jsonl
from state_store.settings import Settings
from tests.control.conftest import dead_url

# Buys Up in every market on every tick (a new intent key per venue second).
BUYER = """
from decimal import Decimal

from state_store.models import Intent

PARAMS = {"size": 5, "outcome": "Up"}


def decide(view):
    out = []
    for m in view.markets:
        book = m.up if view.params["outcome"] == "Up" else m.down
        ask = book.best_ask
        if ask is None or ask >= Decimal("0.99") or m.time_left < 2:
            continue
        size = Decimal(view.params["size"])
        key = "t" + str(int(view.now))
        out.append(Intent(key, m.market, view.params["outcome"], "BUY", ask, size, "GTC"))
    return out
"""


@pytest.fixture
def buyer(tmp_path: Path) -> Path:
    folder = tmp_path / "buyer"
    folder.mkdir()
    (folder / "buyer.py").write_text(BUYER)
    return folder


@pytest.fixture
def recording(tmp_path: Path, buyer: Path) -> Path:
    """A session recorded with Redis down (any audit.jsonl will do), plus odd entries."""
    settings = Settings(tmp_path / "recorded", dead_url(), "live", buyer)
    service = ControlService(settings)
    service.apply("pause", actor="ann")
    service.apply("resume", actor="ann")
    service.apply("config_set", {"values": {"buyer": {"size": "7"}}}, actor="bob")
    service.apply("kill", actor="bob")
    entry = AuditEntry(
        ts=1.0, who="vim", command="hand_edit", old_version=4, new_version=5, plane="file",
        change_id="", args={"source": "control.json"},
    )  # fmt: skip
    append_jsonl(settings.audit_file, entry)
    service.apply("resume", actor="ann")
    stale = AuditEntry(
        ts=2.0, who="bob", command="config_set", old_version=5, new_version=6, plane="redis",
        change_id="x", args={"values": {"buyer": {"gone": 1}}},
    )  # fmt: skip
    append_jsonl(settings.audit_file, stale)
    return settings.audit_file


def test_replay_reports_what_the_bot_did_step_by_step(recording: Path, buyer: Path) -> None:
    report = replay(recording, ReplayOptions(strategies=buyer, ticks=3, tick_s=5.0))
    assert report.bot.startswith("replay-")
    steps = {s.step: s for s in report.steps}
    assert [s.command for s in report.steps] == [
        "(start)", "pause", "resume", "config_set", "kill", "hand_edit", "resume", "config_set",
    ]  # fmt: skip
    assert steps[0].outcome == "baseline" and steps[0].orders_placed > 0 and not steps[0].paused
    assert steps[1].paused and steps[1].orders_placed == 0 and steps[1].version == 1
    assert not steps[2].paused and steps[2].orders_placed > 0
    assert steps[3].config == {"buyer": {"size": 7}} and steps[3].orders_placed > 0
    assert steps[4].paused and steps[4].killed and steps[4].orders_placed == 0
    assert steps[5].outcome == "skipped" and "hand edit" in steps[5].message
    assert not steps[6].paused and not steps[6].killed and steps[6].orders_placed > 0
    assert steps[7].outcome == "refused" and "no parameter 'gone'" in steps[7].message
    assert steps[6].who == "ann" and steps[3].who == "bob"
    assert any(s.positions for s in report.steps)  # GTC buys at the ask fill at the venue


def test_replay_cli_table_and_json(recording: Path, buyer: Path) -> None:
    args = ["replay", str(recording), "--strategies", str(buyer), "--ticks", "1"]
    table = CliRunner().invoke(main, args)
    assert table.exit_code == 0, table.output
    assert "Steps" in table.output and "hand_edit" in table.output and "refused" in table.output
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["steps"]) == 8 and data["steps"][1]["paused"] is True


def test_replay_with_a_given_redis_cleans_up_its_keys(
    recording: Path, buyer: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    real_redis.set("nb:{live}:keep", "1")
    report = replay(recording, ReplayOptions(strategies=buyer, ticks=1, redis_url=redis_url))
    assert report.redis == redis_url
    assert real_redis.keys("*") == ["nb:{live}:keep"]


def test_unreadable_recordings_are_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"ts": 1, "command": "pause"}\nnot json\n')
    with pytest.raises(ReplayError, match="line 2"):
        read_recording(path)
    path.write_text("")
    with pytest.raises(ReplayError, match="no entries"):
        read_recording(path)
    result = CliRunner().invoke(main, ["replay", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 1 and "cannot replay" in result.output
