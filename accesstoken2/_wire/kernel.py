"""The kernel contract and the one variable that selects the kernel.

A kernel takes and returns plain values (str, bytes, int, dicts of int, the RTM2 permission tree):
the object model validates what only it knows, a kernel checks, packs, signs, compresses and encodes.
Both kernels raise the same errors from the same tables (:mod:`.checks` for parameters,
:mod:`.stages` for malformed tokens).

``active`` is the kernel in use: the compiled ``_speedups`` when it is importable, else :mod:`.pure`;
``ACCESSTOKEN2_NO_EXTENSIONS=1`` (any non-empty value other than ``0``) forces the pure kernel.
:func:`use` switches it (the test fixture does).  ``IMPLEMENTATION`` (here and on the package) always
names ``active``: ``"c"`` or ``"python"``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from . import pure
from .values import (
    Build007Args,
    Parsed006,
    Parsed007,
    ServicesAt,
    ServicesRead,
    ServiceValues,
)


class Kernel(Protocol):
    """What both kernels provide (``mypy --strict`` checks each module against it)."""

    IMPLEMENTATION: str

    def hmac_sha256(self, key: bytes, msg: bytes, /) -> bytes:
        """HMAC-SHA256."""

    def crc32(self, data: bytes, /) -> int:
        """zlib's CRC-32."""

    def compress(self, data: bytes, /) -> bytes:
        """The bytes of ``zlib.compress(data, 6)``: zlib itself (pure) or the project's own encoder (C)."""

    def build007(
        self,
        app_id: str,
        app_certificate: str,
        issue_ts: int,
        expire: int,
        salt: int,
        services: Sequence[ServiceValues],
        /,
    ) -> str:
        """Check, pack, sign, compress and encode a 007 token; services are written in the order given."""

    def build007_shape(
        self,
        shape: bytes,
        app_id: str,
        app_certificate: str,
        issue_ts: int | None,
        salt: int | None,
        lifetimes: tuple[Any, ...],
        values: tuple[Any, ...],
        /,
    ) -> str:
        """A public builder's token in one call (see :mod:`.shapes`): ``shape`` says which services and
        privileges it writes, ``lifetimes`` (slot 0: the token's expire) and ``values`` fill it.

        ``issue_ts`` None or 0: now; ``salt`` None: :meth:`random_salt`.  Checks, in this order: the shape,
        the lifetimes (u32, one warning over 24 hours), the accounts, issue_ts, salt, the ids, the fields."""

    def random_salt(self) -> int:
        """A salt from :mod:`secrets`, uniform in 1..99,999,999, from a pool a forked child drops
        (see :mod:`.salts`)."""

    def build_many(self, jobs: Iterable[Build007Args], threads: int, /) -> list[str]:
        """build007 over many argument tuples, on up to ``threads`` threads, results in order."""

    def parse007(self, token: str, /) -> Parsed007:
        """Decode and check a 007 token (MalformedTokenError with a stage for anything else).

        The services are checked but not made: :meth:`services007` makes them when they are read."""

    def services007(self, signing_info: bytes, where: ServicesAt, limit: int, /) -> ServicesRead:
        """The first ``limit`` services of a token parse007 accepted, made, and the others counted by type.

        ``limit`` bounds every list made: the services, and in each RTM2 permission tree the resource type
        entries, the permission type entries and the resource names (the first ``limit`` of each, in wire
        order; the entries left out are counted).  ``limit >= MAX_CONTENT`` makes everything, since no list
        holds more entries than the content has bytes; explaining makes a few and only counts the rest, so a
        crafted token of 16,000 services or tree entries costs one walk over its bytes, not 16,000 objects."""

    def verify007(
        self, signature: bytes, signing_info: bytes, app_certificate: str, issue_ts: int, salt: int, /
    ) -> bool:
        """Recompute the signature over signing_info as received; compare in constant time.

        A certificate that is not a str of 32 hexadecimal characters gives False."""

    def build006(
        self,
        app_id: str,
        app_certificate: str,
        channel_name: bytes,
        uid: bytes,
        salt: int | None,
        ts: int | None,
        privileges: Mapping[int, int],
        /,
    ) -> str:
        """Check, pack, sign and encode a 006 token; ``salt`` None: :meth:`random_salt`, ``ts`` None: now plus
        ``DEFAULT_LIFETIME_006`` (the clock time.time() reads)."""

    def build006_grant(
        self,
        app_id: Any,
        app_certificate: Any,
        channel_name: Any,
        uid: Any,
        privilege_ids: Any,
        expire: Any,
        /,
    ) -> str | None:
        """:meth:`build006` for one common case in one call: ``privilege_ids`` (a tuple of ascending u16 ids)
        each granted until ``expire``, the salt drawn, ts now plus ``DEFAULT_LIFETIME_006``.

        None (nothing checked, nothing drawn) unless every argument has its common form: the ids exact str,
        ``channel_name`` an exact str of ASCII characters up to ``MAX_TEXT``, ``uid`` one too or an exact int
        0..U32_MAX (0 is the empty text), ``expire`` an exact int in u32; the caller then takes its full path,
        whose checks give every other argument its own error.  In that form, build006's errors (the ids)."""

    def parse006(self, token: str, /) -> Parsed006:
        """Decode a 006 token (MalformedTokenError with a stage for anything else)."""

    def verify006(
        self,
        signature: bytes,
        app_id: bytes,
        app_certificate: bytes,
        channel_name: bytes,
        uid: bytes,
        message: bytes,
        /,
    ) -> bool:
        """Recompute the 006 signature; compare in constant time."""


def extensions_disabled() -> bool:
    """True when ``ACCESSTOKEN2_NO_EXTENSIONS`` asks for the pure-Python kernel."""
    return os.environ.get("ACCESSTOKEN2_NO_EXTENSIONS", "") not in ("", "0")


def compiled() -> Kernel | None:
    """The compiled kernel, or None when it is not built (or disabled)."""
    if extensions_disabled():
        return None
    try:
        module: Kernel = importlib.import_module("accesstoken2._wire._speedups")
    except ImportError:
        return None
    return module


def kernels() -> dict[str, Kernel]:
    """Every kernel available here, by IMPLEMENTATION name."""
    found: dict[str, Kernel] = {"python": pure}
    c = compiled()
    if c is not None:
        found["c"] = c
    return found


if TYPE_CHECKING:
    # mypy --strict checks both twins against the contract
    from . import _speedups

    _PURE: Kernel = pure
    _COMPILED: Kernel = _speedups

#: THE selector: the kernel every caller uses (``kernel.active.build007(...)``)
active: Kernel = compiled() or pure


def use(name: str) -> None:
    """Make the kernel named ``name`` (``"c"`` or ``"python"``) the active one."""
    global active
    active = kernels()[name]


def __getattr__(name: str) -> str:
    # IMPLEMENTATION is read from the active kernel, so it can never disagree with it
    if name == "IMPLEMENTATION":
        return active.IMPLEMENTATION
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
