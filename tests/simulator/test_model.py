"""The charge point's model without sockets: state machine, keys, meter, profiles, auth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator import EV, ChargePointSpec, InvalidTransition, Meter, create_charge_point
from simulator.connection import Backoff
from simulator.v16.auth import AuthStore
from simulator.v16.config import Configuration
from simulator.v16.connector import TRANSITIONS, Status, check_transition
from simulator.v16.profiles import ProfileStore

S = Status
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


class NoRipple:
    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        (S.AVAILABLE, S.PREPARING, True),
        (S.AVAILABLE, S.FINISHING, False),
        (S.PREPARING, S.RESERVED, False),
        (S.CHARGING, S.PREPARING, False),
        (S.FINISHING, S.CHARGING, False),
        (S.RESERVED, S.CHARGING, False),
        (S.FAULTED, S.RESERVED, True),
        (S.SUSPENDED_EV, S.CHARGING, True),
    ],
)
def test_transitions_follow_the_spec_table(current: Status, target: Status, ok: bool) -> None:
    if ok:
        check_transition(1, current, target)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(1, current, target)


def test_table_has_no_self_loops_and_connector_zero_is_limited() -> None:
    assert all(state not in targets for state, targets in TRANSITIONS.items())
    with pytest.raises(InvalidTransition, match="connector 0"):
        check_transition(0, S.AVAILABLE, S.PREPARING)
    check_transition(0, S.AVAILABLE, S.UNAVAILABLE)


def test_configuration_rules() -> None:
    config = Configuration({"NumberOfConnectors": "2"}, {"Custom": ("x", True)})
    assert config.change("HeartbeatInterval", "30") == "Accepted"
    assert config.get_int("HeartbeatInterval") == 30
    assert config.change("HeartbeatInterval", "-1") == "Rejected"
    assert config.change("LocalPreAuthorize", "TRUE") == "Accepted"
    assert config.get_bool("LocalPreAuthorize")
    assert config.change("Custom", "y") == "Rejected"  # custom readonly
    assert config.change("SecurityProfile", "1") == "RebootRequired"
    config.set("MeterValuesSampledDataMaxLength", 2)
    too_many = "Energy.Active.Import.Register,Power.Active.Import,SoC"
    assert config.change("MeterValuesSampledData", too_many) == "Rejected"
    report = config.report(["AuthorizationKey", "Nope", "NumberOfConnectors"])
    assert report == {
        "configurationKey": [{"key": "NumberOfConnectors", "readonly": True, "value": "2"}],
        "unknownKey": ["Nope"],
    }


def test_meter_energy_is_monotonic_and_follows_the_limit() -> None:
    clock = FakeClock()
    meter = Meter(max_power_w=11_000, clock=clock, rng=NoRipple())
    meter.set(ev=EV(capacity_wh=50_000, soc=10, max_power_w=11_000), flowing=True)
    clock.t = 3600  # one hour at 11 kW
    assert meter.register_wh() == 11_000
    meter.set(limit_w=3_680)
    clock.t = 7200
    assert meter.register_wh() == 14_680
    assert meter.ev is not None and meter.ev.soc == pytest.approx(10 + 100 * 14_680 * 0.92 / 50_000)
    meter.set(flowing=False)
    clock.t = 9000
    assert meter.register_wh() == 14_680
    assert meter.power_w == 0


def test_ev_tapers_above_80_percent() -> None:
    ev = EV(soc=90, max_power_w=10_000)
    assert ev.acceptance_w() == pytest.approx(5_000)
    assert EV(soc=100).acceptance_w() == 0


def profile(pid: int, purpose: str, level: int, limit: float, **extra: object) -> dict[str, object]:
    schedule = {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        **extra.pop("schedule", {}),  # type: ignore[dict-item]
    }
    return {
        "chargingProfileId": pid,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": extra.pop("kind", "Absolute"),
        "chargingSchedule": {"startSchedule": T0.isoformat(), **schedule},
        **extra,
    }


def test_profiles_stack_by_level_purpose_and_connector() -> None:
    store = ProfileStore()
    tx_start = T0
    at = T0 + timedelta(minutes=5)
    assert store.install(0, profile(1, "TxDefaultProfile", 0, 7_000), None) == "Accepted"
    assert store.limit_w(1, at, tx_start, 230) == 7_000
    assert store.install(0, profile(2, "TxDefaultProfile", 3, 5_000), None) == "Accepted"
    assert store.limit_w(1, at, tx_start, 230) == 5_000  # higher stack level wins
    assert store.install(1, profile(3, "TxDefaultProfile", 0, 6_000), None) == "Accepted"
    assert store.limit_w(1, at, tx_start, 230) == 6_000  # connector's own beats connector 0
    assert store.install(1, profile(4, "TxProfile", 0, 9_000), 42) == "Accepted"
    assert store.limit_w(1, at, tx_start, 230) == 9_000  # TxProfile overrides TxDefault
    assert store.install(0, profile(5, "ChargePointMaxProfile", 0, 4_000), None) == "Accepted"
    assert store.limit_w(1, at, tx_start, 230) == 4_000  # ...but not the charge point max
    assert store.install(1, profile(6, "ChargePointMaxProfile", 0, 1), None) == "Rejected"
    assert store.install(1, profile(7, "TxProfile", 0, 1), None) == "Rejected"  # no tx
    store.end_transaction(1)
    assert store.clear(purpose="ChargePointMaxProfile") == "Accepted"
    assert store.limit_w(1, at, tx_start, 230) == 6_000
    assert store.clear(profile_id=99) == "Unknown"


def test_composite_schedule_and_recurring_profile() -> None:
    store = ProfileStore()
    daily = profile(
        1,
        "TxDefaultProfile",
        0,
        0,
        kind="Recurring",
        recurrencyKind="Daily",
        schedule={
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 11_000},
                {"startPeriod": 3600, "limit": 3_000},
            ]
        },
    )
    store.install(0, daily, None)
    next_day = T0 + timedelta(days=1, minutes=30)
    assert store.limit_w(1, next_day, next_day, 230) == 11_000
    assert store.limit_w(1, next_day + timedelta(hours=1), next_day, 230) == 3_000
    composite = store.composite(1, next_day, 7200, "W", next_day, 230, 3)
    assert composite is not None
    assert composite["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11_000},
        {"startPeriod": 1800, "limit": 3_000},
    ]


def test_local_list_and_cache() -> None:
    config = Configuration()
    auth = AuthStore(config)
    entries = [
        {"idTag": "A", "idTagInfo": {"status": "Accepted"}},
        {"idTag": "B", "idTagInfo": {"status": "Blocked"}},
    ]
    assert auth.send_local_list(1, "Full", entries) == "Accepted"
    assert auth.send_local_list(2, "Differential", [{"idTag": "B"}]) == "Accepted"
    assert set(auth.local_list) == {"A"}
    assert auth.send_local_list(2, "Differential", []) == "VersionMismatch"
    auth.remember("C", {"status": "Accepted", "expiryDate": "2020-01-01T00:00:00Z"})
    found = auth.lookup("C", T0)
    assert found is not None and found[0]["status"] == "Expired" and found[1] == "cache"
    config.set("AuthorizationCacheEnabled", False)
    assert auth.lookup("C", T0) is None
    assert auth.clear_cache() == "Rejected"


def test_backoff_is_capped() -> None:
    backoff = Backoff(initial=1, factor=3, maximum=10, jitter=0, rng=NoRipple())
    assert [backoff.delay(n) for n in range(4)] == [1, 3, 9, 10]


def test_security_state_costs_a_new_charge_point_nothing() -> None:
    """Keys and certificates live in class defaults until used, a security profile switch
    holds nothing until one happens: a fleet of thousands holds none of them (see
    reports/simulator-capacity.md)."""
    cp = create_charge_point(ChargePointSpec("CP-SMALL"), "ws://127.0.0.1:1/ocpp")
    security = cp.behaviour.security
    lazy = {"csr_key", "certificate_key", "certificates", "cert_types"}
    assert not lazy & set(vars(security))
    assert security.csr_key is None and cp.profile_targets is None and cp.security().profile == 0
    assert cp.link.switched_profile is None and cp.link._previous is None
