"""Would Agora accept this token for this use?  :func:`validate` answers yes (the parsed token) or raises.

It is :func:`~accesstoken2.diagnose` with a verdict: a token is rejected exactly when diagnose reports
an error finding for the same arguments, so the two never disagree.  Warnings and information
(a lifetime over 24 hours, a subscriber token, ...) do not reject.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Union, cast

from .diagnosis import Severity, examine
from .errors import InvalidParameterError, ParameterTypeError, TokenRejectedError
from .explain import Moment
from .legacy.access_token import AccessToken
from .token2 import AccessToken2

__all__ = ["ParsedToken", "TokenRejectedError", "validate"]

#: What :func:`validate` returns: the parsed 007 token, or the parsed legacy 006 one.
ParsedToken = Union[AccessToken2, AccessToken]


def validate(
    token: str,
    app_certificate: str | Sequence[str],
    *,
    channel_name: str | None = None,
    uid: int | str | None = None,
    user_id: str | None = None,
    service: str | int | None = None,
    privileges: Iterable[str | int] = (),
    now: Moment | None = None,
) -> ParsedToken:
    """The parsed token, when Agora would accept it now (or at ``now``) for what was asked.

    Unlike ``AccessToken2.verify()``, which checks the signature only, this checks everything
    :func:`~accesstoken2.diagnose` does: the signature against ``app_certificate`` (one str, or a
    sequence such as ``[primary, secondary]`` while rotating: any of them may match), the expiry of
    the token and of its privileges, the channel and uid (RTC), the user id (RTM), that the token
    holds ``service`` and each of ``privileges`` (names such as ``"publish_audio_stream"``, or ids),
    and the token's shape.  It works for 007 tokens (returns :class:`AccessToken2`) and legacy 006
    ones (returns ``accesstoken2.legacy.AccessToken``).

    Raises :class:`~accesstoken2.errors.TokenRejectedError` when diagnose reports any error finding:
    its ``code`` is the first one's (``expired``, ``signature-mismatch``, ``channel-mismatch``, ...)
    and its ``findings`` are all of them.  Bad arguments raise
    :class:`~accesstoken2.errors.ParameterTypeError` (a wrong type, in a certificate sequence too) or
    :class:`~accesstoken2.errors.InvalidParameterError` (an empty certificate sequence or one of more than
    eight, an unknown
    privilege name, or a 006 token without ``channel_name`` and ``uid``, or ``user_id``: it holds only
    their CRCs, so its signature cannot be checked without them).  No message shows a certificate.
    """
    if app_certificate is None:
        raise ParameterTypeError(
            "app_certificate", "app_certificate must be a str or a sequence of str (primary, secondary), not None"
        )
    # no app id: the token's own is the one its signature covers
    findings, info = examine(token, app_certificate, None, channel_name, uid, user_id, service, privileges, now)
    errors = [finding for finding in findings if finding.severity is Severity.ERROR]
    if errors:
        raise TokenRejectedError(errors)
    assert info is not None  # a token that cannot be read is an error finding
    if not any(finding.code == "signature-ok" for finding in findings):
        # no error, yet the signature was not checked: a 006 token without its channel and uid
        raise InvalidParameterError(
            "channel_name",
            "a 006 token holds only CRCs of its channel name and uid: validating it needs channel_name and uid "
            "(or user_id for an RTM token)",
        )
    return cast(ParsedToken, info.token)
