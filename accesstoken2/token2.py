"""AccessToken2, the "007" token: build, parse and verify."""

from __future__ import annotations

import time
from typing import Any

from ._listing import MAX_LISTED, lowest
from ._redact import Redactor
from ._wire import kernel as _kernel
from ._wire.checks import ONE_DAY, check_ids, check_int, check_u32, warn_lifetimes
from ._wire.limits import MAX_CONTENT, U16_MAX, U32_MAX
from ._wire.specs import LAYOUTS
from ._wire.values import Build007Args, ParsedService, ServicesAt
from .errors import EmptyTokenError, InvalidParameterError, ParameterTypeError
from .services import SERVICE_NAMES, Service, service_class

__all__ = ["AccessToken2", "KernelJob"]

KernelJob = Build007Args


def random_salt() -> int:
    """A salt from :mod:`secrets`, uniform in 1..99,999,999 (the active kernel's pool, see ``_wire/_kernel_cy.py``)."""
    return _kernel.active.random_salt()


class AccessToken2:
    """An AccessToken2 ("007") token: an app id, times, a salt and a list of services.

    ``issue_ts=0`` means now; ``expire`` is the lifetime in seconds from ``issue_ts``;
    ``salt=None`` draws a random salt from :mod:`secrets`.  Build with :meth:`build`;
    read a token string with :meth:`parse` and check its signature with :meth:`verify` (whether Agora
    would accept it: :func:`accesstoken2.validate`).
    """

    __slots__ = (
        "_app_certificate",
        "_app_id",
        "_built",
        "_expire",
        "_issue_ts",
        "_parsed_services",
        "_salt",
        "_services",
        "_signature",
        "_signing_info",
        "_unknown_service_type",
    )

    def __init__(
        self,
        app_id: str = "",
        app_certificate: str = "",
        issue_ts: int = 0,
        expire: int = 900,
        *,
        salt: int | None = None,
    ) -> None:
        if not isinstance(app_id, str):
            raise ParameterTypeError(
                "app_id", f"app_id must be a str of 32 hexadecimal characters, not {type(app_id).__name__}"
            )
        if not isinstance(app_certificate, str):
            raise ParameterTypeError(
                "app_certificate",
                f"app_certificate must be a str of 32 hexadecimal characters, not {type(app_certificate).__name__}",
            )
        if type(issue_ts) is not int or not 0 <= issue_ts <= U32_MAX:
            issue_ts = check_u32("issue_ts", issue_ts)
        # fast path: an exact int up to 24 hours, as check_u32 and warn_lifetimes would let pass silently
        if type(expire) is not int or not 0 <= expire <= ONE_DAY:
            expire = check_u32("expire", expire)
            warn_lifetimes(expire)
        self._app_id = app_id
        self._app_certificate = app_certificate
        self._issue_ts = issue_ts or int(time.time())
        self._expire = expire
        self._salt = random_salt() if salt is None else check_int("salt", salt, 0, U32_MAX)
        self._services: list[Service] = []
        self._parsed_services: ServicesAt | None = None
        self._signature: bytes | None = None
        self._signing_info: bytes | None = None
        self._unknown_service_type: int | None = None
        self._built: str | None = None

    @property
    def app_id(self) -> str:
        return self._app_id

    @property
    def issue_ts(self) -> int:
        """Issue time, Unix seconds."""
        return self._issue_ts

    @property
    def expire(self) -> int:
        """Lifetime in seconds counted from :attr:`issue_ts`."""
        return self._expire

    @property
    def salt(self) -> int:
        return self._salt

    @property
    def services(self) -> tuple[Service, ...]:
        """The services in the order they were added (for a parsed token: token order)."""
        return tuple(self._service_list())

    def _service_list(self) -> list[Service]:
        # a parsed token makes its Service objects on first use: parse + verify pays for none
        where = self._parsed_services
        if where is not None:
            assert self._signing_info is not None
            # MAX_CONTENT: every service and every tree entry (no list is longer than the content)
            parsed, _, _ = _kernel.active.services007(self._signing_info, where, MAX_CONTENT)
            self._services = _made(parsed)
            self._parsed_services = None
        return self._services

    def _first_services(self, limit: int) -> tuple[list[Service], dict[int, int], dict[int, int]]:
        """The first ``limit`` of :attr:`services`, {service type: count} of the others, in that order, and
        {position: permission tree entries left out} of the listed ones whose tree was cut.

        A parsed token makes only those ``limit``, each tree within ``limit`` entries a level (explaining a
        crafted token of 16,000 services makes 32); a token's own services are listed with their trees whole."""
        where = self._parsed_services
        if where is None:
            counts: dict[int, int] = {}
            for service in self._services[limit:]:
                counts[service.TYPE] = counts.get(service.TYPE, 0) + 1
            return self._services[:limit], counts, {}
        assert self._signing_info is not None
        parsed, counts, cut = _kernel.active.services007(self._signing_info, where, limit)
        return _made(parsed), counts, cut

    @property
    def signature(self) -> bytes | None:
        """The signature of the last built or parsed token, or None."""
        self._read_built()
        return self._signature

    def _read_built(self) -> None:
        if self._signature is None and self._built is not None:
            parsed = _kernel.active.parse007(self._built)
            self._signature = parsed[0]
            self._signing_info = parsed[1]

    @property
    def unknown_service_type(self) -> int | None:
        """For a parsed token: the unknown service type where reading stopped, else None."""
        return self._unknown_service_type

    def add_service(self, service: Service) -> None:
        """Add a service.  Services of one type may repeat; they keep the order of addition."""
        if not isinstance(service, Service):
            raise ParameterTypeError("service", f"service must be a Service instance, not {type(service).__name__}")
        if service.TYPE not in LAYOUTS:
            raise InvalidParameterError(
                "service",
                f"service must be of a known service type (ServiceRtc, ServiceChat, ...), not type {service.TYPE}",
            )
        self._service_list().append(service)

    def get_services(self, service_type: int) -> list[Service]:
        """All services of ``service_type``, in order."""
        return [service for service in self._service_list() if service.TYPE == service_type]

    def _kernel_job(self) -> KernelJob:
        """The arguments of the kernel's build007: the kernel checks the ids and packs the services."""
        services = self._service_list()
        if len(services) == 1:
            # fast path, one service: it restates the checks below (not empty, at most 65,535), and one service
            # needs no sorting
            wire = [services[0]._wire()]
            return (self._app_id, self._app_certificate, self._issue_ts, self._expire, self._salt, wire)
        if not services or len(services) > U16_MAX:
            # the ids are checked first, as the kernel would
            check_ids(self._app_id, self._app_certificate)
        if not services:
            raise EmptyTokenError("services", "the token has no service; add at least one with add_service()")
        if len(services) > U16_MAX:
            raise InvalidParameterError(
                "services", f"the token holds {len(services)} services; at most {U16_MAX} are allowed"
            )
        # services are written sorted by type; sorted() is stable, so repeats keep their order
        wire = [service._wire() for service in sorted(services, key=_service_type)]
        return (self._app_id, self._app_certificate, self._issue_ts, self._expire, self._salt, wire)

    def build(self) -> str:
        """The token string.  Raises instead of ever returning an empty or invalid token.

        Calling it again gives the same string.
        """
        token: str = _kernel.active.build007(*self._kernel_job())
        self._built = token
        self._signature = self._signing_info = None
        return token

    @classmethod
    def parse(cls, token: str) -> AccessToken2:
        """Read a "007" token string.  Raises :class:`MalformedTokenError` if it is not one.

        A service of an unknown type ends the reading: the services before it are kept
        (see :attr:`unknown_service_type`) and the signature can still be verified.
        """
        # the hot half of parse + verify: one kernel call (which refuses a token that is not a str, with
        # checks.require_str's ParameterTypeError), the slots set here (no helper call), the services unmade
        signature, signing_info, app_id, issue_ts, expire, salt, services, unknown = _kernel.active.parse007(token)
        result = cls.__new__(cls)
        result._app_id = app_id
        result._app_certificate = ""
        result._issue_ts = issue_ts
        result._expire = expire
        result._salt = salt
        result._services = []
        result._parsed_services = services
        result._signature = signature
        result._signing_info = signing_info
        result._unknown_service_type = None if unknown < 0 else unknown
        result._built = None
        return result

    def from_string(self, origin_token: str) -> bool:
        """Reference API: load ``origin_token`` into this object.

        Returns False when the version prefix is not "007" (the state is cleared); raises
        :class:`MalformedTokenError` (a ValueError) for any other defect, as the reference does.
        """
        if not isinstance(origin_token, str):
            raise ParameterTypeError("origin_token", f"origin_token must be a str, not {type(origin_token).__name__}")
        if not origin_token.startswith("007"):
            self._app_id = self._app_certificate = ""
            self._issue_ts = self._expire = self._salt = 0
            self._services = []
            self._parsed_services = None
            self._signature = self._signing_info = self._built = None
            self._unknown_service_type = None
            return False
        parsed = AccessToken2.parse(origin_token)
        for name in AccessToken2.__slots__:
            setattr(self, name, getattr(parsed, name))
        return True

    def verify(self, app_certificate: str) -> bool:
        """True when the signature of the parsed (or built) token matches ``app_certificate``.

        This checks the signature only.  True does not mean Agora will accept the token: it may have
        expired, or be for another channel, uid or service.  To ask that, use
        ``accesstoken2.validate(token, app_certificate, channel_name=..., uid=...)``, which checks all of
        it and raises :class:`~accesstoken2.errors.TokenRejectedError` saying why.

        The signature is recomputed over the bytes as received and compared in constant time.
        A certificate that is not 32 hexadecimal characters gives False.
        """
        if not isinstance(app_certificate, str):
            raise ParameterTypeError(
                "app_certificate", f"app_certificate must be a str, not {type(app_certificate).__name__}"
            )
        signing_info = self._signing_info
        if signing_info is None:
            # a built token: read its signature and signing_info once
            self._read_built()
            signing_info = self._signing_info
            if signing_info is None:
                return False
        # signature and signing_info are set and cleared together
        return _kernel.active.verify007(
            self._signature,  # type: ignore[arg-type]
            signing_info,
            app_certificate,
            self._issue_ts,
            self._salt,
        )

    verify_signature = verify

    def to_dict(self) -> dict[str, Any]:
        """The token's content as plain data (never the certificate).

        Bounded whatever the token holds: at most :data:`~accesstoken2.explain.MAX_LISTED` services, the
        others counted by name in ``omitted_services``; per service the
        :data:`~accesstoken2.explain.MAX_PRIVILEGES_LISTED` lowest privilege ids (``omitted_privileges``
        counts the others) and, for a parsed token, the first ``MAX_LISTED`` entries of each level of an RTM2
        permission tree (``omitted_permissions`` counts the others)."""
        listed, omitted, cut = self._first_services(MAX_LISTED)
        return {
            "app_id": self._app_id,
            "issue_ts": self._issue_ts,
            "expire": self._expire,
            "salt": self._salt,
            "services": [_service_dict(service, cut.get(position, 0)) for position, service in enumerate(listed)],
            "omitted_services": {SERVICE_NAMES[kind]: count for kind, count in omitted.items()},
        }

    def __repr__(self) -> str:
        listed, omitted, _ = self._first_services(MAX_LISTED)
        names = [service.name for service in listed]
        more = sum(omitted.values())
        if more:
            names.append(f"... {more:,} more")
        text = (
            f"AccessToken2(app_id={self._app_id!r}, issue_ts={self._issue_ts}, expire={self._expire}, "
            f"salt={self._salt}, services=[{', '.join(names)}])"
        )
        return Redactor(self._app_certificate)(text)


def _made(parsed: list[ParsedService]) -> list[Service]:
    return [service_class(kind)._from_wire(privileges, fields) for kind, privileges, fields in parsed]


def _service_type(service: Service) -> int:
    return service.TYPE


def _service_dict(service: Service, tree_left_out: int) -> dict[str, Any]:
    privileges = service.privileges
    listed = lowest(privileges)
    data: dict[str, Any] = {"type": service.TYPE, **_plain_fields(service)}
    data["privileges"] = dict(listed)
    data["omitted_privileges"] = len(privileges) - len(listed)
    if "permissions" in data:
        data["omitted_permissions"] = tree_left_out
    return data


def _plain_fields(service: Service) -> dict[str, Any]:
    fields = service.fields()
    permissions = fields.get("permissions")
    if permissions is not None:
        fields["permissions"] = {
            rtype: {ptype: list(names) for ptype, names in by_permission.items()}
            for rtype, by_permission in permissions.details.items()
        }
    return fields
