"""Where a charge point connects with each security profile, and with which TLS context: the
one home of profile -> (URL, TLS) for the CLI, fleets, the scenarios and Locust."""

from __future__ import annotations

import ssl
from collections.abc import Callable

from .connection import Target, TargetLookup, tls_context
from .errors import SimulatorError

__all__ = ["Endpoints", "NoEndpoint"]

# client_cert(identity, context): load the certificate made for `identity` into `context`
ClientCert = Callable[[str, ssl.SSLContext], None]


class NoEndpoint(SimulatorError):
    """No CSMS URL is known for a security profile."""

    def __init__(self, profile: int) -> None:
        self.profile = profile
        super().__init__(f"no CSMS URL for security profile {profile}")


class Endpoints:
    """The CSMS's URL per security profile, and the TLS contexts that go with them.

    Profile 0 and 1: `urls[1]` (plain, or TLS for a wss:// URL); 2: `urls[2]`, trusting
    `tls_ca`; 3: `urls[3]` with a client certificate: `client_cert(identity, context)` when
    given (a CSMS that issues one per charge point), else `cert`/`key`, the same for all.
    Without any, profile 3 has no endpoint. One TLS context serves every charge point that
    can share it."""

    def __init__(
        self,
        urls: dict[int, str],
        *,
        tls_ca: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        client_cert: ClientCert | None = None,
    ) -> None:
        self.urls = urls
        self.tls_ca, self.cert, self.key = tls_ca, cert, key
        self.client_cert = client_cert
        self._shared: ssl.SSLContext | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        others: dict[int, str],
        *,
        tls_ca: str | None = None,
        cert: str | None = None,
        key: str | None = None,
    ) -> Endpoints:
        """The endpoints of a charge point that connects at `url`, with the URLs of `others`
        (profile: URL) for a raised SecurityProfile; `url` is profile 1's when it is ws://
        (a wss:// one is no way down to plain)."""
        urls = {1: url} if url.startswith("ws://") else {}
        return cls({**urls, **others}, tls_ca=tls_ca, cert=cert, key=key)

    def url(self, profile: int) -> str:
        """The URL for `profile`; NoEndpoint when there is none."""
        url = self.urls.get(max(profile, 1))
        if url is None:
            raise NoEndpoint(profile)
        return url

    def target(self, identity: str, profile: int) -> Target | None:
        """Where `identity` connects with `profile`, None when it cannot."""
        if max(profile, 1) not in self.urls:
            return None
        if profile == 3 and self.client_cert is None and self.cert is None:
            return None  # no client certificate to present
        return Target(self.url(profile), self.ssl_context(identity, profile))

    def lookup(self, identity: str) -> TargetLookup:
        """`target` for one charge point: where a raised SecurityProfile takes it."""
        return lambda profile: self.target(identity, profile)

    def ssl_context(self, identity: str, profile: int) -> ssl.SSLContext | None:
        if profile <= 1 and not self.url(profile).startswith("wss:"):
            return None
        if profile == 3 and self.client_cert is not None:
            context = tls_context(ca_file=self.tls_ca)
            self.client_cert(identity, context)
            return context
        if self._shared is None:
            self._shared = tls_context(ca_file=self.tls_ca, cert_file=self.cert, key_file=self.key)
        return self._shared

    def certificate_identity(self) -> str | None:
        """With one client certificate for all (`cert`), a profile-3 charge point is who its
        certificate says: the common name."""
        if self.client_cert is not None or self.cert is None:
            return None
        from cryptography import x509  # loaded only for profile 3
        from cryptography.x509.oid import NameOID

        with open(self.cert, "rb") as file:
            certificate = x509.load_pem_x509_certificate(file.read())
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else None
