"""The CSMS's HTTP API and dashboard (FastAPI, served by uvicorn in the CSMS process)."""

from .app import create_api
from .auth import load_or_create_token, new_token, token_path
from .deps import Backend
from .server import ApiServer

__all__ = ["ApiServer", "Backend", "create_api", "load_or_create_token", "new_token", "token_path"]
