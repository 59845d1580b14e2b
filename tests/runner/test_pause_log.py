"""A runner says, once, when entries stop (pause, kill) and when they resume."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from runner.control_read import read_desired
from runner.runtime import Runtime
from state_store.desired import DesiredState
from state_store.desired_file import write_file
from state_store.keys import Keys


def runtime(control_file: Path) -> Any:
    return SimpleNamespace(
        settings=SimpleNamespace(control_file=control_file),
        client=None,
        store=SimpleNamespace(keys=Keys("b")),
        config=SimpleNamespace(replica="r1"),
        control_error="",
        last_desired=None,
        paused=False,
    )


def test_pause_kill_and_resume_are_logged_once_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "control.json"
    rt = runtime(path)
    caplog.set_level(logging.INFO, logger="runner.control_read")
    steps = [
        DesiredState(version=1),
        DesiredState(version=2, paused=True, updated_by="alice"),
        DesiredState(version=2, paused=True, updated_by="alice"),  # next tick: nothing new
        DesiredState(version=3, paused=False, updated_by="bob"),
        DesiredState(version=4, killed=True, updated_by="carol"),
    ]
    for state in steps:
        write_file(path, state)
        read_desired(cast(Runtime, rt), redis_up=False)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "runner r1 paused: no new entries; open orders and positions stay "
        "(control version 2 by alice)",
        "runner r1 resumed: new entries allowed (control version 3 by bob)",
        "runner r1 killed: flattening, no new entries until resume (control version 4 by carol)",
    ]
    assert rt.paused
