"""Server TLS contexts for security profiles 2 (TLS) and 3 (mutual TLS)."""

from __future__ import annotations

import ssl
from pathlib import Path


def server_context(
    cert_file: Path,
    key_file: Path | None,
    client_ca: Path | None = None,
    *,
    client_cert_optional: bool = False,
) -> ssl.SSLContext:
    """TLS 1.2+ with our certificate; with `client_ca`, a client certificate is requested and
    verified: required (profile 3), or, with `client_cert_optional`, one a client may leave
    out (a listener for profiles 2 and 3, where admission decides who needs one)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    if client_ca is not None:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL if client_cert_optional else ssl.CERT_REQUIRED
    return context
