"""What a scenario needs from the CSMS under test and the run, read from its YAML before it runs.

A case that needs the CSMS to act (send an operation, know a tag, know a charger's credentials)
can only pass when something can make the CSMS act; a case for a feature the CSMS does not
declare does not apply. Both are verdicts of their own, never a pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .loader import Scenario, Step

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")


@dataclass
class Needs:
    operations: list[str] = field(default_factory=list)  # csms: steps, in order
    tags: list[str] = field(default_factory=list)  # setup tags the CSMS must know
    credentials: list[str] = field(default_factory=list)  # charge points with a secret
    registrations: list[str] = field(default_factory=list)  # charge points not Accepted
    profiles: set[int] = field(default_factory=set)  # security profiles connected with
    features: list[str] = field(default_factory=list)

    @property
    def csms_acts(self) -> bool:
        return bool(self.operations or self.tags or self.credentials or self.registrations)

    def acts(self) -> str:
        """What the CSMS must be made to do, for a person."""
        parts = []
        if self.operations:
            parts.append("send " + ", ".join(dict.fromkeys(self.operations)))
        if self.tags:
            parts.append(f"know id tags ({len(self.tags)})")
        if self.credentials:
            parts.append("know charge points' credentials")
        if self.registrations:
            parts.append("answer charge points' boots as the case says (Pending, Rejected)")
        return "; ".join(parts)


def _variables(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(_VARIABLE.findall(value))
    if isinstance(value, dict):
        return {name for item in value.values() for name in _variables(item)}
    if isinstance(value, list):
        return {name for item in value for name in _variables(item)}
    return set()


def _profile(step: Step) -> int | None:
    args = step.args if isinstance(step.args, dict) else {}
    if step.kind in ("connect", "expect_connected") and "profile" in args:
        return int(args["profile"])
    return None


def needs(scenario: Scenario, feature_of: dict[str, str]) -> Needs:
    """`feature_of`: catalogue case id -> the feature it tests."""
    found = Needs()
    found.operations = [
        str(s.args["action"]) for s in scenario.steps if s.kind == "csms" and s.args
    ]
    used = {name for step in scenario.steps for name in _variables(step.args)}
    used |= {name for cp in scenario.charge_points.values() for name in _variables(cp)}
    if scenario.state in ("authorized", "charging") and not all(
        cp.get("id_tag") for cp in scenario.charge_points.values()
    ):
        used.add("tag")  # the starting state presents it
    tags = {"tag": "Accepted", **scenario.setup.get("id_tags", {})}
    found.tags = [name for name in tags if name in used]
    for name, cp in scenario.charge_points.items():
        profile = int(cp.get("security_profile", 1))
        found.profiles.add(max(profile, 1))
        if cp.get("password") or profile >= 2:
            found.credentials.append(name)
        if cp.get("registration", "Accepted") != "Accepted":
            found.registrations.append(name)
    if any(step.kind == "register" for step in scenario.steps):
        found.registrations.append("register")
    found.profiles |= {p for p in map(_profile, scenario.steps) if p is not None}
    found.profiles |= {int(n[-1]) for n in used if n.startswith("csms.url_profile")}
    if scenario.features:
        found.features = list(scenario.features)
    elif scenario.id in feature_of:
        found.features = [feature_of[scenario.id]]
    return found
