"""Authorization data held by the charge point: the cache and the local authorization list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocppj.timestamps import parse

from .config import Configuration

IdTagInfo = dict[str, Any]


def effective(info: IdTagInfo, now: datetime) -> IdTagInfo:
    """`info` with status Expired when its expiryDate has passed."""
    expiry = info.get("expiryDate")
    if expiry and info.get("status") == "Accepted" and parse(expiry) <= now:
        return {**info, "status": "Expired"}
    return info


class AuthStore:
    """Authorization cache (AuthorizationCacheEnabled) and local list (LocalAuthListEnabled)."""

    __slots__ = ("cache", "config", "list_version", "local_list")

    def __init__(self, config: Configuration) -> None:
        self.config = config
        self.cache: dict[str, IdTagInfo] = {}
        self.local_list: dict[str, IdTagInfo] = {}
        self.list_version = 0

    def lookup(self, id_tag: str, now: datetime) -> tuple[IdTagInfo, str] | None:
        """What the charge point knows locally about `id_tag`, and where from ("list"/"cache")."""
        if self.config.get_bool("LocalAuthListEnabled") and id_tag in self.local_list:
            return effective(self.local_list[id_tag], now), "list"
        if self.config.get_bool("AuthorizationCacheEnabled") and id_tag in self.cache:
            return effective(self.cache[id_tag], now), "cache"
        return None

    def remember(self, id_tag: str, info: IdTagInfo) -> None:
        """Update the cache with an answer of the CSMS (unless the tag is on the local list)."""
        if self.config.get_bool("AuthorizationCacheEnabled") and id_tag not in self.local_list:
            self.cache[id_tag] = dict(info)

    def clear_cache(self) -> str:
        if not self.config.get_bool("AuthorizationCacheEnabled"):
            return "Rejected"
        self.cache.clear()
        return "Accepted"

    def get_version(self) -> int:
        if not self.config.get_bool("LocalAuthListEnabled"):
            return -1
        return self.list_version

    def send_local_list(self, version: int, update_type: str, entries: list[dict[str, Any]]) -> str:
        """Apply a SendLocalList: Accepted, Failed, NotSupported or VersionMismatch."""
        if "LocalAuthListManagement" not in self.config.get_list("SupportedFeatureProfiles"):
            return "NotSupported"
        if not self.config.get_bool("LocalAuthListEnabled"):
            return "Failed"
        if len(entries) > self.config.get_int("SendLocalListMaxLength"):
            return "Failed"
        if update_type == "Differential":
            if version <= self.list_version:
                return "VersionMismatch"
            updated = dict(self.local_list)
        else:
            updated = {}
        for entry in entries:
            info = entry.get("idTagInfo")
            if info is None:
                updated.pop(entry["idTag"], None)
            else:
                updated[entry["idTag"]] = dict(info)
        if len(updated) > self.config.get_int("LocalAuthListMaxLength"):
            return "Failed"
        self.local_list = updated
        self.list_version = version
        for tag in updated:
            self.cache.pop(tag, None)
        return "Accepted"
