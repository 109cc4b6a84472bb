"""Random salts from :mod:`secrets`, drawn in bulk: the pure kernel's ``random_salt``.

The compiled kernel keeps the same kind of pool in C memory (``_speedups.random_salt``); both follow
one rule, stated here:

- 4 KiB from ``secrets.token_bytes`` (the OS's cryptographic source) become up to 1,024 salts: each
  32-bit word gives its low 27 bits, kept when below 99,999,999 (rejection sampling, so every salt
  in 1..99,999,999 is equally likely); every salt uses its own fresh random bits.
- Salts are not secret (each token carries its salt in clear), so keeping a pool costs nothing;
  it only has to be unpredictable and never handed out twice.
- A forked child drops the pool it inherited (``os.register_at_fork``), so parent and child never
  hand out the same salts.
"""

from __future__ import annotations

import os
import secrets
import threading
from array import array

from .limits import SALT_MAX, SALT_MIN

#: 2**27 is the first power of two above SALT_MAX
SALT_BITS = (1 << 27) - 1
#: random bytes drawn at a time
POOL_BYTES = 4096
# an array type code of 32-bit words
_WORD = "I" if array("I").itemsize == 4 else "L"


class SaltSource:
    """A pool of ready salts.  Taking one is a ``list.pop()``, which is atomic, so the common path takes no
    lock; refilling does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: list[int] = []

    def forget(self) -> None:
        """In a forked child: drop the parent's salts (and a lock another thread may have held)."""
        self._lock = threading.Lock()
        self._ready = []

    def salt(self) -> int:
        """Uniform in 1..99,999,999."""
        while True:
            try:
                return self._ready.pop()
            except IndexError:
                self._refill()

    def _refill(self) -> None:
        with self._lock:
            if not self._ready:
                words = array(_WORD, secrets.token_bytes(POOL_BYTES))
                self._ready = [SALT_MIN + bits for bits in (word & SALT_BITS for word in words) if bits < SALT_MAX]


_salts = SaltSource()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_salts.forget)


def random_salt() -> int:
    """A salt from :mod:`secrets`, uniform in 1..99,999,999."""
    return _salts.salt()
