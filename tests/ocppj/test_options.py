"""Options that fall back to OCPP_BENCH_* variables: a bad value from either is a usage error."""

from __future__ import annotations

import argparse

import pytest

from ocppj.options import add_option


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(prog="tool")
    add_option(built, "--ocpp-port", type=int, default=9220, help="port")
    return built


def test_the_environment_gives_the_default_and_the_command_line_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OCPP_BENCH_OCPP_PORT", "9300")
    assert parser().parse_args([]).ocpp_port == 9300
    assert parser().parse_args(["--ocpp-port", "9400"]).ocpp_port == 9400


def test_a_bad_value_from_the_environment_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OCPP_BENCH_OCPP_PORT", "nine")
    built = parser()  # building the parser does not fail: parsing does, with a reason
    with pytest.raises(SystemExit) as exited:
        built.parse_args([])
    assert exited.value.code == 2
    assert "argument --ocpp-port: invalid int value: 'nine'" in capsys.readouterr().err
