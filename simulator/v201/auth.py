"""Authorization of a 2.0.1 station (OCPP 2.0.1 C): idTokens with their types, the
authorization cache (AuthCacheCtrlr), the local authorization list (LocalAuthListCtrlr,
SendLocalList) and the rules for deciding offline (LocalAuthorizeOffline,
OfflineTxForUnknownIdEnabled, LocalPreAuthorize)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ocppj import CallTimeout, ConnectionLost
from ocppj.timestamps import iso, parse

from ..behaviour import Services
from ..errors import NotConnected

if TYPE_CHECKING:
    from .device_model import DeviceModel

__all__ = ["AuthStore", "id_token"]

log = logging.getLogger("simulator")
Payload = dict[str, Any]
TOKEN_TYPES = frozenset(
    {
        "Central",
        "eMAID",
        "ISO14443",
        "ISO15693",
        "KeyCode",
        "Local",
        "MacAddress",
        "NoAuthorization",
    }
)
_Key = tuple[str, str]


def id_token(text: str) -> Payload:
    """An IdToken from a tag as a driver gives it: `TYPE:VALUE` (eMAID:NL-ABC-123) or just
    the value, an RFID card (ISO14443)."""
    kind, sep, value = text.partition(":")
    if sep and kind in TOKEN_TYPES:
        return {"idToken": value, "type": kind}
    return {"idToken": text, "type": "ISO14443"}


def _key(token: Payload) -> _Key:
    return str(token["idToken"]), str(token["type"])


class AuthStore:
    """The cache and the local list of one station, and its authorization decisions."""

    __slots__ = ("cache", "certificate_count", "list_version", "local_list", "model", "station")

    def __init__(self, model: DeviceModel, station: Services) -> None:
        self.model = model
        self.station = station
        self.cache: dict[_Key, Payload] = {}  # idTokenInfo with its cacheExpiryDateTime
        self.local_list: dict[_Key, Payload] = {}
        self.list_version = 0
        self.certificate_count = 0  # installed certificates (SecurityCtrlr.CertificateEntries)

    def local(self, token: Payload, now: datetime) -> Payload | None:
        """What the station knows of `token` itself: from the list, else from the cache (an
        entry past its cacheExpiryDateTime is Expired)."""
        key = _key(token)
        model = self.model
        if model.get_bool("LocalAuthListCtrlr.Enabled") and key in self.local_list:
            return self.local_list[key]
        if model.get_bool("AuthCacheCtrlr.Enabled") and key in self.cache:
            info = self.cache[key]
            expiry = info.get("cacheExpiryDateTime")
            if expiry and parse(expiry) <= now and info.get("status") == "Accepted":
                return {**info, "status": "Expired"}
            return info
        return None

    def _no_post_authorize(self, token: Payload) -> bool:
        """C10.FR.03, C12.FR.05, C14.FR.03: a token the cache or the list holds as not
        Accepted is asked of the CSMS again, unless their DisablePostAuthorize says not."""
        model = self.model
        listed = model.get_bool("LocalAuthListCtrlr.Enabled") and _key(token) in self.local_list
        where = "LocalAuthListCtrlr" if listed else "AuthCacheCtrlr"
        return model.get_bool(f"{where}.DisablePostAuthorize")

    def remember(self, token: Payload, info: Payload) -> None:
        """Cache an answer of the CSMS (C10), for AuthCacheCtrlr.LifeTime unless it says."""
        if self.model.get_bool("AuthCacheCtrlr.Enabled") and _key(token) not in self.local_list:
            self.put(token, info)

    def put(self, token: Payload, info: Payload) -> None:
        """A cache entry, for AuthCacheCtrlr.LifeTime unless `info` says."""
        entry = dict(info)
        if "cacheExpiryDateTime" not in entry:
            lifetime = timedelta(seconds=self.model.get_int("AuthCacheCtrlr.LifeTime"))
            entry["cacheExpiryDateTime"] = iso(self.station.now() + lifetime)
        self.cache[_key(token)] = entry

    async def authorize(self, token: Payload) -> Payload:
        """The idTokenInfo to act on: no check when AuthCtrlr is disabled or the type is
        NoAuthorization; the local one first with LocalPreAuthorize (one not Accepted asked
        of the CSMS again, unless DisablePostAuthorize); the CSMS's while online
        (unless DisableRemoteAuthorization); offline by the list, the cache and the rules."""
        model, station = self.model, self.station
        if not model.get_bool("AuthCtrlr.Enabled") or token["type"] == "NoAuthorization":
            return {"status": "Accepted"}
        known = self.local(token, station.now())
        offline = not station.online
        if not offline and not model.get_bool("AuthCtrlr.DisableRemoteAuthorization"):
            if (
                known is not None
                and model.get_bool("AuthCtrlr.LocalPreAuthorize")
                and (known.get("status") == "Accepted" or self._no_post_authorize(token))
            ):
                return known
            try:
                answer = await station.call("Authorize", {"idToken": token})
            except (NotConnected, ConnectionLost, CallTimeout) as exc:
                log.info("%s: Authorize failed (%s): deciding offline", station.identity, exc)
                offline = True
            else:
                info: Payload = answer["idTokenInfo"]
                self.remember(token, info)
                return info
        if known is not None:
            if not offline or model.get_bool("AuthCtrlr.LocalAuthorizeOffline"):
                return known
            return {"status": "Invalid"}
        if offline and model.get_bool("AuthCtrlr.OfflineTxForUnknownIdEnabled"):
            return {"status": "Accepted"}
        return {"status": "Invalid" if offline else "Unknown"}

    def clear_cache(self) -> str:
        if not self.model.get_bool("AuthCacheCtrlr.Enabled"):
            return "Rejected"
        self.cache.clear()
        return "Accepted"

    def send_local_list(self, version: int, update: str, entries: list[Payload]) -> str:
        """SendLocalList (D01): Accepted, Failed or VersionMismatch."""
        model = self.model
        if not model.get_bool("LocalAuthListCtrlr.Enabled"):
            return "Failed"
        if len(entries) > model.get_int("LocalAuthListCtrlr.ItemsPerMessage"):
            return "Failed"
        if update == "Differential":
            if version <= self.list_version:
                return "VersionMismatch"
            updated = dict(self.local_list)
        else:
            updated = {}
        for entry in entries:
            info = entry.get("idTokenInfo")
            if info is None:
                updated.pop(_key(entry["idToken"]), None)
            else:
                updated[_key(entry["idToken"])] = dict(info)
        self.local_list = updated
        self.list_version = version
        for key in updated:
            self.cache.pop(key, None)
        return "Accepted"

    def version(self) -> int:
        """GetLocalListVersion: 0 when there is no list (D02)."""
        if not self.model.get_bool("LocalAuthListCtrlr.Enabled"):
            return 0
        return self.list_version
