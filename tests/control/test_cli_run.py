from __future__ import annotations

from click.testing import CliRunner

from control.cli import main


def test_run_help_lists_strategy_filter_and_folder() -> None:
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0, result.output
    assert "--strategy TEXT" in result.output and "--strategies TEXT" in result.output


def test_run_refuses_a_non_positive_tick(tmp_path: object) -> None:
    result = CliRunner().invoke(
        main, ["run", "--replica", "r1", "--tick", "0", "--redis-url", "redis://127.0.0.1:1/0"]
    )
    assert result.exit_code == 2 and "--tick" in result.output
