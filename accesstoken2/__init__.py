"""Build, parse, verify and explain Agora access tokens (AccessToken2 "007" and legacy "006").

Drop-in names of Agora's reference Python builders::

    from accesstoken2 import RtcTokenBuilder, Role_Publisher
    token = RtcTokenBuilder.build_token_with_uid(app_id, app_certificate, "room", 42, Role_Publisher, 3600)

Would Agora accept a token for this channel and uid, now?  ``validate(token, app_certificate,
channel_name=..., uid=...)`` returns the parsed token or raises :class:`TokenRejectedError`
(``AccessToken2.verify()`` checks the signature only).

``IMPLEMENTATION`` says whether the C core (``"c"``) or pure Python (``"python"``) is live.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._wire import kernel as _kernel
from .builders import (
    ApaasTokenBuilder,
    ChatTokenBuilder,
    ConvoAITokenBuilder,
    EducationTokenBuilder,
    FpaTokenBuilder,
    Role,
    Role_Publisher,
    Role_Subscriber,
    RtcTokenBuilder,
    RtmTokenBuilder,
    SttTokenBuilder,
    build_app_token,
    build_user_token,
)
from .errors import (
    EmptyTokenError,
    InvalidParameterError,
    MalformedTokenError,
    ParameterTypeError,
    TokenError,
    TokenRejectedError,
)
from .services import (
    ApaasPrivilege,
    ChatPrivilege,
    FcdnPrivilege,
    FpaPrivilege,
    RtcPrivilege,
    Rtm2Permissions,
    Rtm2PermissionType,
    Rtm2Privilege,
    Rtm2ResourceType,
    RtmPrivilege,
    Service,
    ServiceApaas,
    ServiceChat,
    ServiceConvoAI,
    ServiceEducation,
    ServiceFCdn,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm,
    ServiceRtm2,
    ServiceStreaming,
    ServiceStt,
    ServiceType,
    StreamingPrivilege,
)
from .token2 import AccessToken2

if TYPE_CHECKING:
    IMPLEMENTATION: str
    from .cache import ChatAppTokenCache, TokenCache
    from .diagnosis import Finding, Severity, diagnose
    from .explain import TokenInfo, inspect
    from .fingerprint import token_fingerprint
    from .names import NameProblem, agora_name_problems
    from .validation import validate

# inspect/diagnose and the caches load on first use: an application that only builds tokens does not pay for them
_LAZY = {
    "ChatAppTokenCache": "cache",
    "TokenCache": "cache",
    "Finding": "diagnosis",
    "Severity": "diagnosis",
    "diagnose": "diagnosis",
    "TokenInfo": "explain",
    "inspect": "explain",
    "NameProblem": "names",
    "agora_name_problems": "names",
    "token_fingerprint": "fingerprint",
    "validate": "validation",
}


def __getattr__(name: str) -> Any:
    if name == "IMPLEMENTATION":
        # read from the kernel selector each time: it always names the kernel in use
        return _kernel.active.IMPLEMENTATION
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # the public names (the lazy ones included, even before first use) and the package's submodules,
    # not the typing helpers this module imports for itself
    own = {
        name
        for name, value in globals().items()
        if name.startswith("__") or (isinstance(value, ModuleType) and not name.startswith("_"))
    }
    return sorted(own.union(__all__, ["__version__"]))


__version__ = "0.1.0"

#: The reference names this class ``AccessToken`` in its ``AccessToken2`` module.
AccessToken = AccessToken2


def build_tokens(tokens: Iterable[AccessToken2], *, threads: int | None = None) -> list[str]:
    """Build many tokens at once, in the order given.

    With the C core, the work runs on up to ``threads`` OS threads (default: the number of
    CPUs) with the GIL released.  If any token is invalid its error is raised and no token is returned.
    """
    from ._threads import thread_count

    items = list(tokens)
    for index, token in enumerate(items):
        if not isinstance(token, AccessToken2):
            raise ParameterTypeError("tokens", f"tokens[{index}] must be an AccessToken2, not {type(token).__name__}")
    # a generator: the C core builds early jobs on its threads while later ones are still being prepared
    jobs = (token._kernel_job() for token in items)
    result: list[str] = _kernel.active.build_many(jobs, thread_count(threads, len(items)))
    return result


__all__ = [
    "IMPLEMENTATION",
    "AccessToken",
    "AccessToken2",
    "ApaasPrivilege",
    "ApaasTokenBuilder",
    "ChatAppTokenCache",
    "ChatPrivilege",
    "ChatTokenBuilder",
    "ConvoAITokenBuilder",
    "EducationTokenBuilder",
    "EmptyTokenError",
    "FcdnPrivilege",
    "Finding",
    "FpaPrivilege",
    "FpaTokenBuilder",
    "InvalidParameterError",
    "MalformedTokenError",
    "NameProblem",
    "ParameterTypeError",
    "Role",
    "Role_Publisher",
    "Role_Subscriber",
    "RtcPrivilege",
    "RtcTokenBuilder",
    "Rtm2PermissionType",
    "Rtm2Permissions",
    "Rtm2Privilege",
    "Rtm2ResourceType",
    "RtmPrivilege",
    "RtmTokenBuilder",
    "Service",
    "ServiceApaas",
    "ServiceChat",
    "ServiceConvoAI",
    "ServiceEducation",
    "ServiceFCdn",
    "ServiceFpa",
    "ServiceRtc",
    "ServiceRtm",
    "ServiceRtm2",
    "ServiceStreaming",
    "ServiceStt",
    "ServiceType",
    "Severity",
    "StreamingPrivilege",
    "SttTokenBuilder",
    "TokenCache",
    "TokenError",
    "TokenInfo",
    "TokenRejectedError",
    "agora_name_problems",
    "build_app_token",
    "build_tokens",
    "build_user_token",
    "diagnose",
    "inspect",
    "token_fingerprint",
    "validate",
]
