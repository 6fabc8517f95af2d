"""The API's bearer token: given, or generated once and kept beside the SQLite file (in a
PostgreSQL database, see `CsmsApp`)."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

TOKEN_FILE = "api-token"


def token_path(db_path: Path) -> Path:
    return db_path.parent / TOKEN_FILE


def load_or_create_token(db_path: Path) -> str:
    """The token stored beside `db_path`; a new random one is written (mode 0600) if none."""
    path = token_path(db_path)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    if token:
        return token
    token = new_token()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    return token


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(given.encode(), expected.encode())
