"""``POST /inspect``: decode a token and diagnose it against the server's own credentials.

The answer is bounded whatever the token holds: repeated findings are folded into one with a
``count``, long lists of services and privileges are cut with a count of what was left out,
long texts are shortened, and the answer never exceeds :data:`MAX_ANSWER_BYTES` of JSON.
"""

from __future__ import annotations

import json
from typing import Any

from ..diagnosis import examine
from .config import Settings

__all__ = ["MAX_ANSWER_BYTES", "bound_answer", "inspect_token", "inspect_token_json"]

MAX_ANSWER_BYTES = 64 * 1024
MAX_LISTED = 32
MAX_TEXT_CHARS = 512


def inspect_token(
    token: str,
    settings: Settings,
    *,
    channel: str | None = None,
    uid: int | str | None = None,
    user_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The token's content (``info``), whether its signature matches the server's certificate or
    its secondary one (``signature_valid``: True, False, or None when it could not be checked) and
    ``findings``.

    A token that cannot be decoded (cut short, missing its ``=``, an App ID pasted as a token...)
    has ``info`` None and the findings of :func:`~accesstoken2.diagnose` that say why
    (``truncated``, ``malformed``...), as the library and the CLI report it.  The certificate
    is used to verify, never returned.
    """
    # one read of the token: examine() gives diagnose's findings and the content they are about
    findings, content = examine(
        token,
        # while rotating, the primary and the secondary: signature-ok says which one matched
        settings.checking_certificates,
        settings.app_id,
        channel,
        uid,
        user_id,
        None,
        (),
        now,
    )
    codes = {finding.code for finding in findings}
    listed = [finding.to_dict() for finding in findings]
    # a token that cannot be read has an error finding that says why (truncated, malformed...)
    info: dict[str, Any] | None = None if content is None else content.to_dict()
    signature_valid = True if "signature-ok" in codes else False if "signature-mismatch" in codes else None
    return {"info": info, "signature_valid": signature_valid, "findings": listed}


def inspect_token_json(token: str, settings: Settings, **checks: Any) -> bytes:
    """:func:`inspect_token`, bounded by :func:`bound_answer`, as JSON bytes."""
    return bound_answer(inspect_token(token, settings, **checks))


def _fold(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    folded: dict[tuple[Any, ...], dict[str, Any]] = {}
    for finding in findings:
        key = (finding.get("severity"), finding.get("code"), finding.get("message"))
        count = finding.get("count", 1)
        count = count if isinstance(count, int) and count > 0 else 1
        if key in folded:
            folded[key]["count"] += count
        else:
            folded[key] = {**finding, "count": count}
    return [finding if finding["count"] > 1 else _without(finding, "count") for finding in folded.values()]


def _without(mapping: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if key != name}


def _cut(container: dict[str, Any], name: str, limit: int) -> None:
    items = container.get(name)
    if isinstance(items, list) and len(items) > limit:
        container[name] = items[:limit]
        container[f"{name}_omitted"] = len(items) - limit


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        return f"{value[:MAX_TEXT_CHARS]}...(+{len(value) - MAX_TEXT_CHARS} chars)"
    if isinstance(value, dict):
        return {key: _shorten(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shorten(item) for item in value]
    return value


def _encode(answer: dict[str, Any]) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode("ascii")


def bound_answer(answer: dict[str, Any], limit: int = MAX_ANSWER_BYTES) -> bytes:
    """``answer`` (from :func:`inspect_token`) as JSON of at most ``limit`` bytes.

    Repeated findings are folded, the lists of services, privileges and findings cut to
    :data:`MAX_LISTED` items (``<name>_omitted`` says how many were left out) and long texts
    shortened; if that is still too long, ``info`` keeps only its scalar fields.
    """
    answer = dict(answer)
    findings = _fold(list(answer.get("findings") or ()))
    answer["findings"] = findings
    _cut(answer, "findings", MAX_LISTED)
    info = answer.get("info")
    if isinstance(info, dict):
        info = dict(info)
        _cut(info, "services", MAX_LISTED)
        services = []
        for service in info.get("services") or ():
            service = dict(service) if isinstance(service, dict) else service
            if isinstance(service, dict):
                _cut(service, "privileges", MAX_LISTED)
            services.append(service)
        if "services" in info:
            info["services"] = services
        answer["info"] = info
    answer = _shorten(answer)
    data = _encode(answer)
    if len(data) <= limit:
        return data
    if isinstance(answer.get("info"), dict):
        summary = {key: value for key, value in answer["info"].items() if not isinstance(value, (list, dict))}
        listed = answer["info"].get("services")
        summary["services_omitted"] = (len(listed) if isinstance(listed, list) else 0) + int(
            answer["info"].get("services_omitted", 0)
        )
        answer["info"] = summary
    data = _encode(answer)
    if len(data) <= limit:
        return data
    # Cannot happen with the library's findings (each is short); kept so the bound always holds.
    return _encode({"info": None, "signature_valid": answer.get("signature_valid"), "findings": [], "truncated": True})
