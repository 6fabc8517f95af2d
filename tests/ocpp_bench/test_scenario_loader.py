"""Scenario files: what loads, and how a broken file is reported (file, line, reason)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocpp_bench.scenario.loader import ScenarioError, load_file
from ocpp_bench.scenario.matchers import Absent, AnyValue, InRange, Regex, TypeIs, mismatches

GOOD = """\
defaults:
  charge_point: {connectors: 2}
scenarios:
  - id: TC_003_CSMS
    title: Regular charging session
    tags: [core, transaction]
    state: booted
    setup:
      id_tags: {VALID: Accepted}
    steps:
      - plug_in: {connector: 1}
      - present_tag: {tag: "${VALID}", expect: {status: Accepted}}
      - send:
          action: Heartbeat
          expect: {currentTime: !type datetime}
      - expect_call: {action: RemoteStopTransaction, payload: {transactionId: !type integer}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(text)
    return path


def test_good_file_loads_with_lines(tmp_path: Path) -> None:
    [scenario] = load_file(write(tmp_path, GOOD))
    assert (scenario.id, scenario.state, scenario.tags) == (
        "TC_003_CSMS",
        "booted",
        ["core", "transaction"],
    )
    assert scenario.charge_points == {"cp": {"connectors": 2}}
    assert [(s.kind, s.line) for s in scenario.steps] == [
        ("plug_in", 11),
        ("present_tag", 12),
        ("send", 13),
        ("expect_call", 16),
    ]
    assert scenario.steps[2].source.splitlines()[0].strip() == "- send:"
    assert isinstance(scenario.steps[2].args["expect"]["currentTime"], TypeIs)


def test_one_broken_scenario_does_not_hide_the_others_in_its_file(tmp_path: Path) -> None:
    from ocpp_bench.scenario.loader import load_entries

    text = (
        "scenarios:\n  - id: GOOD_1\n    steps: [wait: 0]\n"
        "  - id: BAD\n    steps:\n      - send: {action: Nope}\n"
        "  - id: GOOD_2\n    steps: [wait: 0]\n"
    )
    good_1, bad, good_2 = load_entries(write(tmp_path, text))
    assert isinstance(bad, ScenarioError) and bad.scenario_id == "BAD" and bad.line == 6
    assert not isinstance(good_1, ScenarioError) and good_1.id == "GOOD_1"
    assert not isinstance(good_2, ScenarioError) and good_2.id == "GOOD_2"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("scenarios:\n  - id: A\n    steps: [\n", 4, "YAML error"),
        (
            "scenarios:\n  - id: A\n    steps:\n      - fly_to_moon: {}\n",
            4,
            "unknown step 'fly_to_moon'",
        ),
        (
            "scenarios:\n  - id: A\n    steps:\n      - plug_in: {connector: one}\n",
            4,
            "must be integer",
        ),
        ("scenarios:\n  - id: A\n    stepz: []\n", 2, "must contain ['steps']"),
        (
            "scenarios:\n  - id: A\n    steps: [wait: 0]\n    state: asleep\n",
            4,
            "state must be one of",
        ),
        (
            "scenarios:\n  - id: A\n    steps: [wait: 0]\n  - id: A\n    steps: [wait: 0]\n",
            4,
            "duplicate scenario id",
        ),
        ("scenarios:\n  - id: A\n    steps: []\n", 2, "scenario A has no steps"),
        (
            "scenarios:\n  - id: A\n    steps:\n      - send: {action: Heartbeet}\n",
            4,
            "send: 'Heartbeet' is not an OCPP 1.6 action; did you mean Heartbeat? (raw: true",
        ),
        (
            "scenarios:\n  - id: A\n    steps:\n      - send: {action: Authorize, payload: {}}\n",
            4,
            "send: the Authorize payload breaks the OCPP 1.6 schema: Authorize: payload must "
            "contain ['idTag'] properties; fix it, or add raw: true",
        ),
        (
            "scenarios:\n  - id: A\n    steps:\n      - assert: {value: x, matches: !regex '('}\n",
            4,
            "YAML error: missing ), unterminated subpattern",
        ),
        (
            "scenarios:\n  - id: A\n    steps:\n      - assert: {value: x, matches: !any}\n",
            4,
            "a tag with no value needs a space before the bracket: {status: !any }",
        ),
        (
            "scenarios:\n  - id: A\n    steps:\n      - csms: {action: RemoteStart}\n",
            4,
            "csms: 'RemoteStart' is not an OCPP 1.6 action; did you mean",
        ),
        ("scenarios:\n  - id: A\n    id: B\n    steps: []\n", 3, "duplicate key 'id'"),
        (
            "scenarios:\n  - id: A\n    steps:\n      - send: {action: X, expect: !range [1]}\n",
            4,
            "YAML error",
        ),
        (
            "scenarios:\n  - id: A\n    steps:\n      - plug_in: {}\n        unplug: {}\n",
            4,
            "exactly one kind",
        ),
        (
            "scenarios:\n  - id: A\n    steps:\n      - connect: {subprotocols: ocpp1.6}\n",
            4,
            "must be array",
        ),
        (
            "scenarios:\n  - id: A\n    steps:\n      - expect_connected: {profile: 4}\n",
            4,
            "must be one of",
        ),
    ],
)
def test_broken_file_names_line_and_problem(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as error:
        load_file(path)
    assert error.value.line == line, str(error.value)
    assert words in error.value.message
    assert str(error.value).startswith(f"{path}:{line}: ")


def test_matchers() -> None:
    assert mismatches({"a": 1}, {"a": 1, "b": 2}) == []
    assert mismatches({"a": AnyValue()}, {"a": None}) == []
    assert mismatches({"a": Absent()}, {}) == []
    assert mismatches({"a": Absent()}, {"a": 1}) == ["$.a: expected absent, got 1"]
    assert mismatches({"a": 1}, {}) == ["$.a: missing (expected 1)"]
    assert mismatches({"n": TypeIs("integer")}, {"n": True}) != []
    assert mismatches({"n": TypeIs("number")}, {"n": 1.5}) == []
    assert mismatches(Regex(r"^\d+$"), "123") == []
    assert mismatches(Regex(r"^\d+$"), "12a") != []
    assert mismatches(InRange(0, 10), "7.5") == []
    assert mismatches(InRange(0, 10), 11) != []
    assert mismatches([1, {"b": 2}], [1, {"b": 3}]) == ["$[1].b: expected 2, got 3"]
    assert mismatches(1, 1.0) == []
    assert mismatches("1", 1) == ["$: expected '1', got 1"]


def test_the_readme_lists_every_step_as_the_schema_says() -> None:
    from ocpp_bench.scenario.docs import steps_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- steps:start -->\n", 1)[1].split("\n<!-- steps:end -->", 1)[0]
    assert block == steps_table(), "stale: run python -m ocpp_bench.scenario.docs"


def test_flow_style_matchers_that_the_readme_shows_load(tmp_path: Path) -> None:
    text = (
        "scenarios:\n  - id: A\n    steps:\n"
        "      - assert: {value: {status: x}, matches: {status: !any }}\n"
        "      - assert: {value: [], matches: [!absent ]}\n"
    )
    [scenario] = load_file(write(tmp_path, text))
    assert isinstance(scenario.steps[0].args["matches"]["status"], AnyValue)


MIXED = """\
defaults: {ocpp: "2.0.1"}
scenarios:
  - id: MIXED
    charge_points: {station: {}, old: {ocpp: "1.6"}}
    steps:
      - expect_sent: {action: TransactionEvent, request: {eventType: Started}}
      - {cp: old, expect_sent: {action: StartTransaction}}
"""


def test_actions_are_checked_against_the_version_of_their_charge_point(
    tmp_path: Path,
) -> None:
    [scenario] = load_file(write(tmp_path, MIXED))
    assert scenario.ocpp == "2.0.1"
    assert scenario.charge_points["old"]["ocpp"] == "1.6"
    wrong = MIXED.replace("{cp: old, expect_sent:", "{expect_sent:")
    with pytest.raises(ScenarioError) as raised:
        load_file(write(tmp_path, wrong))
    assert "case.yaml:7: expect_sent: 'StartTransaction' is not an OCPP 2.0.1 action" in str(
        raised.value
    )
