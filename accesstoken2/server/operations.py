"""What the router does beside answering: the audit line of each issued token, and the reload.

:class:`Operations` is built once per router.  :meth:`Operations.audit` writes one audit line
per token of an answer (:mod:`.audit`); :meth:`Operations.reload`, which ``SIGHUP`` runs,
re-reads the secret files (:mod:`.rotation`) and reopens the audit log.
"""

from __future__ import annotations

from typing import Any, Callable

from .audit import AuditLog, audit_record, request_id_of
from .auth import Principal, bearer_credential
from .config import Settings
from .issuer import Issued
from .metrics import Metrics
from .rotation import SecretReloader

__all__ = ["Operations"]


def _credential(scope: Any) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            credential = bearer_credential(bytes(value))
            return credential.decode("latin-1") if credential is not None else None
    return None


class Operations:
    """The audit log and the secret reloader of one router (``use`` gets reloaded settings)."""

    def __init__(
        self,
        settings: Settings,
        use: Callable[[Settings], None],
        metrics: Metrics | None,
        clock: Callable[[], float],
    ) -> None:
        self.reloader = SecretReloader(settings, use)
        on_failure = metrics.audit_failed if metrics is not None else None
        self.audit_log = AuditLog.open(settings.audit_log, on_failure) if settings.audit_log is not None else None
        self._clock = clock

    def reload(self) -> list[str]:
        """Re-read the secret files and reopen the audit log; the variables refused (see
        :meth:`SecretReloader.reload`)."""
        refused = self.reloader.reload()
        if self.audit_log is not None:
            self.audit_log.reopen()
        return refused

    def audit(self, request: Any, principal: Principal, issued: Issued, settings: Settings) -> None:
        """One audit line per token of ``issued`` (nothing without an audit log)."""
        if self.audit_log is None:
            return
        scope = request.scope
        client = scope.get("client")
        route = getattr(scope.get("route"), "path", None)
        common: dict[str, Any] = {
            "settings": settings,
            "request_id": request_id_of(scope),
            "client": str(client[0])[:64] if client else None,
            "principal_kind": principal.kind,
            "identity": principal.identity,
            "credential": _credential(scope),
            "route": route if isinstance(route, str) else str(scope.get("path", ""))[:200],
            "tokens": tuple(issued.tokens.values()),
            "now": self._clock(),
        }
        for answer_field, token in issued.tokens.items():
            try:
                record = audit_record(answer_field=answer_field, token=token, **common)
            except Exception as error:  # never fail the request for its audit line
                self.audit_log.failed(f"cannot make a line ({type(error).__name__})")
                continue
            self.audit_log.write(record)
