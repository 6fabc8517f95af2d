"""Command-line options that fall back to OCPP_BENCH_* environment variables: one rule for
every command (csms, sim, run, bench), so it sits on the bottom floor."""

from __future__ import annotations

import argparse
import os
from typing import Any

ENV_PREFIX = "OCPP_BENCH_"


def env_name(option: str) -> str:
    """`--ocpp-port` -> `OCPP_BENCH_OCPP_PORT`."""
    return ENV_PREFIX + option.lstrip("-").replace("-", "_").upper()


def add_option(
    parser: argparse.ArgumentParser, option: str, *, default: Any = None, **kwargs: Any
) -> None:
    """Add `option`, whose default is read from its environment variable when that is set."""
    env = env_name(option)
    raw = os.environ.get(env)
    if kwargs.get("action") == "store_true":
        value: Any = raw.lower() in ("1", "true", "yes", "on") if raw is not None else default
    elif raw is not None:
        value = raw  # argparse converts a string default with `type`: a bad one is a usage error
    else:
        value = default
    help_text = kwargs.pop("help", "")
    parser.add_argument(option, default=value, help=f"{help_text} [env {env}]".strip(), **kwargs)
