"""Agora's own rules for channel names, user accounts and RTM user ids.

The builders accept whatever the reference builders accept, so that a switch of import changes no
token.  Agora's servers are stricter: a token for a name they refuse is a token that cannot work.
:func:`agora_name_problems` says which of Agora's documented rules a value breaks; the token server
refuses such a request with a 400 and :func:`~accesstoken2.diagnose` reports each broken rule.

The rules (Agora's documentation):

* ``channel_name``: 1 to 64 bytes from the 89 characters a-z, A-Z, 0-9, space and
  ``! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,``;
* ``user_account``: 1 to 255 bytes from the same 89 characters;
* ``rtm_user_id``: 1 to 64 printable ASCII characters.

Messages never repeat the value (a certificate pasted into the wrong argument stays secret); a
character outside the set is named by its position and code point.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from .errors import ParameterTypeError

__all__ = ["NAME_KINDS", "PROBLEM_CODES", "NameProblem", "agora_name_problems"]

#: the 89 characters Agora allows in channel names and user accounts
AGORA_NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + " !#$%&()+-:;<=.>?@[]^_{}|~,")

#: each rule's stable code, with what it means (diagnose reports a broken rule under its code)
PROBLEM_CODES: dict[str, str] = {
    "name-empty": "a channel name, user account or RTM user id that is empty, which Agora refuses",
    "name-too-long": "a channel name, user account or RTM user id longer than Agora accepts",
    "name-character": "a channel name, user account or RTM user id with a character Agora does not accept",
}

_SET_WORDS = "the 89 characters a-z, A-Z, 0-9, space and ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,"
_PRINTABLE_WORDS = "printable ASCII (U+0020 to U+007E)"
# the first character outside a set, found by one search in C (a value can be 65,535 characters long)
_OUTSIDE_SET = re.compile("[^" + "".join(sorted(re.escape(character) for character in AGORA_NAME_CHARACTERS)) + "]")
_OUTSIDE_PRINTABLE = re.compile("[^\x20-\x7e]")

#: kind -> (longest, counted in bytes (else characters), the first character outside the allowed ones, the
#: allowed ones in words, what it is called)
_RULES: dict[str, tuple[int, bool, re.Pattern[str], str, str]] = {
    "channel_name": (64, True, _OUTSIDE_SET, _SET_WORDS, "a channel name"),
    "user_account": (255, True, _OUTSIDE_SET, _SET_WORDS, "a user account"),
    "rtm_user_id": (64, False, _OUTSIDE_PRINTABLE, _PRINTABLE_WORDS, "an RTM user id"),
}
#: the kinds :func:`agora_name_problems` knows
NAME_KINDS = tuple(_RULES)


@dataclass(frozen=True)
class NameProblem:
    """One broken rule: ``code`` is stable (``name-empty``, ``name-too-long``, ``name-character``),
    ``kind`` the kind of value, ``message`` one sentence that never repeats the value."""

    code: str
    kind: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The problem as JSON-ready data."""
        return {"code": self.code, "kind": self.kind, "message": self.message}


def agora_name_problems(kind: str, value: str) -> list[NameProblem]:
    """The rules of Agora's that ``value`` breaks as a ``kind`` (see :data:`NAME_KINDS`); empty when none.

    Raises :class:`~accesstoken2.errors.ParameterTypeError` when ``kind`` is unknown or ``value`` is not
    a str.
    """
    rule = _RULES.get(kind) if isinstance(kind, str) else None
    if rule is None:
        raise ParameterTypeError("kind", f"kind must be one of {', '.join(NAME_KINDS)}")
    if not isinstance(value, str):
        raise ParameterTypeError(kind, f"{kind} must be a str, not {type(value).__name__}")
    longest, in_bytes, outside, allowed, called = rule
    unit = "bytes" if in_bytes else "characters"
    problems: list[NameProblem] = []
    if not value:
        problems.append(NameProblem("name-empty", kind, f"{called} must not be empty (1 to {longest} {unit})"))
        return problems
    size = len(value.encode("utf-8", "surrogatepass")) if in_bytes else len(value)
    if size > longest:
        message = f"{called} is {size} {unit}; Agora allows at most {longest}"
        problems.append(NameProblem("name-too-long", kind, message))
    found = outside.search(value)
    if found is not None:
        problems.append(
            NameProblem(
                "name-character",
                kind,
                f"{called} has U+{ord(found.group()):04X} at character {found.start()}; Agora allows only {allowed}",
            )
        )
    return problems
