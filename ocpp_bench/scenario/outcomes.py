"""How a step or a case can go: each outcome one exception, mapped to a verdict by the plugin.

- StepFailed / StepError / ProtocolViolation: the CSMS did not do what the case is about
  (failed);
- ScenarioBug / StepBroken: the scenario or the bench is wrong (broken);
- NotRun: the case cannot run here, and the reason says what would let it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .loader import Step


class ScenarioBug(Exception):
    """The scenario asks for something that cannot be: its author's to fix, not the CSMS's."""


class StepFailed(AssertionError):
    """A step's expectation did not hold; `detail` says what was expected and what came."""

    def __init__(self, message: str, detail: str = "") -> None:
        self.message = message
        self.detail = detail
        super().__init__(message + (f"\n{detail}" if detail else ""))


class Located(Exception):
    """A step that went wrong, with its place and the recent frames, for a person to read."""

    def __init__(
        self, step: Step, index: int, message: str, transcripts: dict[str, list[str]], path: str
    ) -> None:
        self.step = step
        self.index = index
        self.message = message
        self.transcripts = transcripts
        self.location = f"{path}:{step.line}"
        super().__init__(str(self))

    def __str__(self) -> str:
        what = f"step {self.index + 1} ({self.step.kind})" if self.index >= 0 else "starting state"
        lines = [
            f"{self.location}: {what} failed",
            "",
            _indent(self.step.source),
            "",
            self.message,
        ]
        for name, frames in self.transcripts.items():
            lines += ["", f"recent frames of {name}:", *["  " + f for f in frames]]
        return "\n".join(lines)


class StepError(Located, AssertionError):
    """The CSMS did not do what the step expects: the case fails."""


class StepBroken(Located):
    """The scenario or the bench went wrong, not the CSMS: the case is broken."""


class ProtocolViolation(AssertionError):
    """The CSMS under test broke the protocol: a frame its OCPP version's schema forbids, a
    CALLERROR or no answer to a charge point's CALL."""


class NotRun(Exception):
    """The case cannot run here: it needs the CSMS to act and nothing can make it (the
    reason says what would)."""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
