"""The TLS options give one client context for every charger of a process."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

from loadtests.options import LoadOptions


def test_one_tls_context_from_the_tls_options(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    client = ca.issue_cert("LOAD-0-00001")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    client.cert_chain_pems[0].write_to_path(str(cert_file))
    client.private_key_pem.write_to_path(str(key_file))
    base = dict(
        id_prefix="LOAD-",
        profile="steady",
        password=None,
        id_tag="{id}",
        heartbeat_interval=0,
        status_interval=30.0,
        session_duration=60.0,
        session_pause=10.0,
        meter_interval=10,
        storm_interval=60.0,
        boot_timeout=120.0,
    )
    plain = LoadOptions(csms_url="ws://h/ocpp", tls_ca=None, cert=None, key=None, **base)
    assert plain.ssl_context() is None
    secure = LoadOptions(
        csms_url="wss://h/ocpp",
        tls_ca=str(ca_file),
        cert=str(cert_file),
        key=str(key_file),
        **base,
    )
    context = secure.ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.get_ca_certs()  # our CA loaded


def test_a_version_mix_is_spread_over_the_chargers() -> None:
    import argparse

    import pytest

    from loadtests.options import parse_mix

    assert parse_mix("1.6:70, 2.0.1:30") == (("1.6", 70), ("2.0.1", 30))
    for bad in ("1.6", "1.6:x", "2.0:50", "1.6:0", "1.6:50,1.6:50"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_mix(bad)
    options = LoadOptions(
        csms_url="ws://h/ocpp", id_prefix="L-", profile="steady", password=None, tls_ca=None,
        cert=None, key=None, id_tag="{id}", heartbeat_interval=0, status_interval=30.0,
        session_duration=60.0, session_pause=10.0, meter_interval=10, storm_interval=60.0,
        boot_timeout=120.0, ocpp_mix=(("1.6", 70), ("2.0.1", 30)),
    )  # fmt: skip
    for count in (10, 50, 1000):  # any number of users gets about the shares
        versions = [options.version_of(n) for n in range(count)]
        assert abs(versions.count("2.0.1") - 0.3 * count) <= max(1, 0.02 * count), count
    assert options.version_of(7) == options.version_of(7)  # the same charger, the same version
