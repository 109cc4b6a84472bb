"""Keeping a certificate out of text the library shows: findings, reprs and messages.

A certificate a caller gave may come back in a value it also gave (a channel name, a uid, an app id),
in any letter case; :class:`Redactor` finds it whatever its case and puts :data:`MASK` in its place.
"""

from __future__ import annotations

import re

#: what a certificate is shown as
MASK = "<app certificate>"
#: shorter secrets are not searched for: no certificate is that short, and masking every "a" would garble text
MIN_SECRET = 8


class Redactor:
    """Masks each of the secrets given (surrounding whitespace ignored; None and short ones skipped) in any
    letter case, and whatever matches one of ``shapes`` (regular expressions), with ``mask``."""

    __slots__ = ("_mask", "_pattern")

    def __init__(self, *secrets: str | None, mask: str = MASK, shapes: tuple[str, ...] = ()) -> None:
        needles = {secret.strip() for secret in secrets if isinstance(secret, str)}
        # the longest first, so that a secret holding another is masked whole
        kept = sorted((needle for needle in needles if len(needle) >= MIN_SECRET), key=len, reverse=True)
        alternatives = [*map(re.escape, kept), *shapes]
        self._pattern = re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None
        self._mask = mask

    def found_in(self, text: str) -> bool:
        """True when ``text`` holds a secret, in any letter case."""
        return self._pattern is not None and self._pattern.search(text) is not None

    def __call__(self, text: str) -> str:
        """``text`` with every occurrence of a secret, in any letter case, replaced by the mask."""
        return text if self._pattern is None else self._pattern.sub(self._mask, text)
