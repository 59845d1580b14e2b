"""The runner obeys a hand-edited control.json only when a command could have written it
(issue 13, cases 4 and 6): an invalid one is refused with the reason in status, and the
strategy keeps trading on the last valid state."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from runner.tick import merged_params, run_tick
from state_store.desired import MAX_VERSION, DesiredState
from state_store.files import write_json_atomic
from state_store.param_spec import Param
from tests.runner.conftest import RuntimeFactory

GOOD = """
from decimal import Decimal

from state_store.models import Intent
from state_store.view import Param

PARAMS = {"size": Param(5, min=1, max=50)}


def decide(view):
    out = []
    for m in view.markets:
        ask = m.up.best_ask
        if ask is not None and ask < Decimal("0.99"):
            size = Decimal(view.params["size"])
            out.append(Intent(f"buy-{view.tick}", m.market, "Up", "BUY", ask, size, "FAK"))
    return out
"""


def only_good(strategies_dir: Path) -> None:
    for path in strategies_dir.glob("*.py"):
        path.unlink()
    (strategies_dir / "good.py").write_text(GOOD)


def runner_status(rt: object) -> dict[str, object]:
    status = json.loads(rt.settings.status_file.read_text())  # type: ignore[attr-defined]
    section: dict[str, object] = status["runners"]["r1"]
    return section


@pytest.mark.parametrize("bad", ["lots", -5, 1e12])
def test_hand_edited_config_outside_params_is_refused_and_trading_goes_on(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis, bad: object
) -> None:
    only_good(strategies_dir)
    rt = make_runtime()
    assert run_tick(rt).created > 0
    edit = DesiredState(version=9).model_dump() | {"config": {"good": {"size": bad}}}
    write_json_atomic(rt.settings.control_file, edit)
    created = sum(run_tick(rt).created for _ in range(3))
    assert created > 0, "the strategy must keep trading on the last valid state"
    error = str(runner_status(rt)["control_error"])
    assert "refused" in error and "good.size" in error, error
    assert real_redis.hget(rt.store.keys.control, "version") in (None, "0")  # never copied
    sizes = {o.size for m in rt.store.markets() for o in rt.store.market_orders(m)}
    assert sizes == {Decimal(5)}


def test_hand_edited_version_at_the_limit_is_not_obeyed(
    make_runtime: RuntimeFactory, strategies_dir: Path
) -> None:
    only_good(strategies_dir)
    rt = make_runtime()
    run_tick(rt)
    write_json_atomic(
        rt.settings.control_file, DesiredState(version=MAX_VERSION, paused=True).model_dump()
    )
    report = run_tick(rt)
    assert not report.paused and report.created > 0
    assert "leaves no room for commands" in str(runner_status(rt)["control_error"])


def test_a_valid_hand_edit_is_obeyed(make_runtime: RuntimeFactory, strategies_dir: Path) -> None:
    only_good(strategies_dir)
    rt = make_runtime()
    run_tick(rt)
    edit = DesiredState(version=3).model_dump() | {"config": {"good": {"size": 7}}}
    write_json_atomic(rt.settings.control_file, edit)
    run_tick(rt)
    assert runner_status(rt)["control_error"] == ""
    assert rt.client.hget(rt.store.keys.control, "version") == "3"


def test_merged_params_unwraps_param_and_drops_values_outside_its_limits() -> None:
    declared = {"size": Param(5, min=1, max=50), "edge": 0.02, "tag": "a"}
    assert merged_params(declared, {"size": 7, "edge": 1}) == {"size": 7, "edge": 1, "tag": "a"}
    assert merged_params(declared, {"size": -5})["size"] == 5
    assert merged_params(declared, {"size": 10**12})["size"] == 5
    assert merged_params(declared, {"size": "lots"})["size"] == 5
