"""Request bodies read strictly: bounded, strict UTF-8, strict JSON, validated without echo.

FastAPI's own body handling reads the body before the route's dependencies run (so before
authentication), echoes the input in validation errors and answers some unparsable bodies
outside JSON.  Routes here read their body with :func:`read_model` instead, after authenticating the caller.
"""

# No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
import json
from typing import Any, Optional, TypeVar

from fastapi import HTTPException, Request
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from .guard import escape

__all__ = ["MAX_NUMBER_CHARS", "body_schema", "clean_errors", "parse_json", "read_model"]

Model = TypeVar("Model", bound=BaseModel)

#: A JSON number with more characters is refused: nothing the server takes needs one, and
#: ``int()`` on a long digit string is slow (and refused past 4300 digits).
MAX_NUMBER_CHARS = 40
MAX_ERRORS = 10


class _BodyError(ValueError):
    pass


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _BodyError(f"a number in the body has {len(text)} characters; at most {MAX_NUMBER_CHARS} are allowed")
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _BodyError(f"a number in the body has {len(text)} characters; at most {MAX_NUMBER_CHARS} are allowed")
    return float(text)


def _no_constant(text: str) -> Any:
    raise _BodyError(f"{text} is not valid JSON: send numbers as finite decimals")


# One decoder for every body: json.loads builds a new one (and its scanner) per call when given hooks.
_DECODER = json.JSONDecoder(parse_int=_bounded_int, parse_float=_bounded_float, parse_constant=_no_constant)

#: No token request nests deeper than this; the limit is checked before parsing because whether
#: json.loads hits RecursionError on deep input depends on the Python version (3.13 does not).
MAX_DEPTH = 32


def _too_deep(text: str) -> bool:
    # counting brackets is done in C; only a body with many of them is walked character by character
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_json(body: bytes) -> Any:
    """The JSON value of ``body``; a 422 :class:`HTTPException` that never echoes it."""
    if not body.strip():
        raise HTTPException(
            422, [{"loc": ["body"], "msg": "the request body is empty: send a JSON object", "type": "missing"}]
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HTTPException(422, f"the request body is not valid UTF-8 (byte {error.start})") from None
    if _too_deep(text):
        raise HTTPException(422, f"the request body is nested too deeply: at most {MAX_DEPTH} levels are allowed")
    try:
        if text.startswith("\ufeff"):  # what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except _BodyError as error:
        raise HTTPException(422, str(error)) from None
    except json.JSONDecodeError as error:
        raise HTTPException(422, f"the request body is not valid JSON: {error.msg} at character {error.pos}") from None
    except RecursionError:
        raise HTTPException(422, "the request body is nested too deeply") from None


def clean_errors(errors: Any) -> list[dict[str, Any]]:
    """pydantic's errors without the input, its context or any long client-chosen key."""
    cleaned = []
    for error in list(errors)[:MAX_ERRORS]:
        location = [item if isinstance(item, int) else escape(str(item), 64) for item in error.get("loc", ())]
        cleaned.append({"loc": location, "msg": escape(str(error.get("msg", "")), 200), "type": str(error.get("type"))})
    return cleaned


async def read_model(request: Request, model: "type[Model]", max_bytes: int) -> Model:
    """The request body as ``model``: at most ``max_bytes`` bytes (413), UTF-8 JSON (422) and
    valid (422, with the errors but never the input).  Call it after authenticating."""
    # The guard middleware has usually read and capped the body already (one message); this cap
    # holds when the router is mounted in an application without it.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise HTTPException(413, f"request body larger than {max_bytes} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    value = parse_json(chunks[0] if len(chunks) == 1 else b"".join(chunks))
    if not isinstance(value, dict):
        raise HTTPException(422, [{"loc": ["body"], "msg": "the body must be a JSON object", "type": "dict_type"}])
    try:
        return model.model_validate(value)
    except ValidationError as error:
        located = [{**item, "loc": ["body", *item["loc"]]} for item in clean_errors(error.errors())]
        raise HTTPException(422, located) from None


def body_schema(model: "type[BaseModel]", description: Optional[str] = None) -> dict[str, Any]:
    """The ``openapi_extra`` that documents ``model`` as the JSON request body."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        "requestBody": {
            "required": True,
            "description": description or model.__doc__ or "",
            "content": {"application/json": {"schema": schema}},
        }
    }
