"""The open-file limit: one socket per peer, for a CSMS or a fleet of thousands of chargers."""

from __future__ import annotations

try:
    import resource
except ImportError:  # Windows: no such limit to raise
    resource = None  # type: ignore[assignment]

__all__ = ["raise_nofile"]

_UNLIMITED_SOFT = 1 << 20  # what "as many as allowed" means when the hard limit is unlimited


def raise_nofile() -> int | None:
    """Lift the soft RLIMIT_NOFILE to the hard limit; the soft limit now in effect (None where
    the platform has no such limit)."""
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = max(soft, _UNLIMITED_SOFT) if hard == resource.RLIM_INFINITY else hard
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):  # e.g. above the kernel's nr_open: keep what we have
            return soft
        return target
    return soft
