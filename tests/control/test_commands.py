"""The transitions, one by one: pure functions of (state, args, catalog)."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.commands import REGISTRY, Refused, UsageError, lookup, parse_assignments
from control.params import Catalog, read_catalog
from state_store.desired import DesiredState


def run(command: str, state: DesiredState, catalog: Catalog, **args: object) -> DesiredState:
    spec = lookup(command, args)
    change = spec.transition(state, args, catalog)
    return state.model_copy(update=dict(change.fields))


def test_registry_holds_every_command() -> None:
    assert set(REGISTRY) == {
        "pause", "resume", "reload", "config_set", "risk_set", "flatten", "kill",
    }  # fmt: skip


def test_pause_resume_kill(strategies: Path) -> None:
    cat = read_catalog(strategies)
    paused = run("pause", DesiredState(), cat)
    assert paused.paused and not paused.entries_allowed
    killed = run("kill", paused, cat)
    assert killed.killed and killed.flatten_seq == 1
    resumed = run("resume", killed, cat)
    assert not resumed.paused and not resumed.killed and resumed.entries_allowed
    assert resumed.flatten_seq == 1  # a flatten already requested is not taken back


def test_flatten_and_reload_bump_their_sequence(strategies: Path) -> None:
    cat = read_catalog(strategies)
    state = run("flatten", run("flatten", DesiredState(), cat), cat)
    assert state.flatten_seq == 2 and not state.paused and not state.killed
    state = run("reload", state, cat)
    assert (state.reload_seq, state.reload_module) == (1, "")
    state = run("reload", state, cat, module="_helper")
    assert (state.reload_seq, state.reload_module) == (2, "_helper")


def test_reload_of_unknown_module_is_refused(strategies: Path) -> None:
    with pytest.raises(Refused, match=r"no module 'gamma'.*alpha"):
        run("reload", DesiredState(), read_catalog(strategies), module="gamma")


def test_config_set_types_values_and_merges(strategies: Path) -> None:
    cat = read_catalog(strategies)
    state = DesiredState(config={"alpha": {"size": 6}, "beta": {"limit": 1}})
    values = {"alpha": {"edge": "0.05", "enabled": "false", "mode": "early"}}
    new = run("config_set", state, cat, values=values)
    assert new.config == {
        "alpha": {"size": 6, "edge": 0.05, "enabled": False, "mode": "early"},
        "beta": {"limit": 1},
    }
    assert state.config["alpha"] == {"size": 6}  # the old state is untouched


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"gamma": {"x": "1"}}, "unknown strategy 'gamma'; strategies: alpha, beta"),
        ({"alpha": {"sizes": "1"}}, "alpha has no parameter 'sizes'; parameters: edge, enabled"),
        ({"alpha": {"size": "big"}}, "alpha.size: expected an int, got 'big'"),
        ({"alpha": {"size": "1.5"}}, "alpha.size: expected an int"),
        ({"alpha": {"enabled": "perhaps"}}, "alpha.enabled: expected a bool"),
        ({"alpha": {"edge": "x"}}, "alpha.edge: expected a float"),
        ({"alpha": {"size": True}}, "alpha.size: expected an int, got True"),
    ],
)
def test_config_set_refuses_unknown_keys_and_wrong_types(
    strategies: Path, values: dict[str, dict[str, object]], message: str
) -> None:
    with pytest.raises(Refused, match=message.replace("(", r"\(").replace(")", r"\)")):
        run("config_set", DesiredState(), read_catalog(strategies), values=values)


def test_config_set_names_every_bad_entry(strategies: Path) -> None:
    with pytest.raises(Refused) as info:
        values = {"alpha": {"size": "x", "nope": "1"}, "beta": {"limit": "2"}}
        run("config_set", DesiredState(), read_catalog(strategies), values=values)
    assert "alpha.size" in str(info.value) and "'nope'" in str(info.value)


def test_config_set_without_strategies_folder(tmp_path: Path) -> None:
    with pytest.raises(Refused, match=r"strategies folder .* not found"):
        run("config_set", DesiredState(), read_catalog(tmp_path / "x"), values={"a": {"b": "1"}})


def test_lookup_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown command 'explode'"):
        lookup("explode", {})
    with pytest.raises(UsageError, match="pause takes no argument"):
        lookup("pause", {"module": "x"})


def test_parse_assignments() -> None:
    assert parse_assignments(["alpha.size=7", "alpha.mode=a=b", "beta.limit="]) == {
        "alpha": {"size": "7", "mode": "a=b"},
        "beta": {"limit": ""},
    }
    for bad in (["alpha.size"], ["size=7"], [".size=7"], ["alpha.=7"]):
        with pytest.raises(UsageError):
            parse_assignments(bad)
    with pytest.raises(UsageError):
        parse_assignments([])
