"""The kernel contract and the one variable that selects the kernel.

A kernel takes and returns plain values (str, bytes, int, dicts of int, the RTM2 permission tree):
the object model validates what only it knows, a kernel checks, packs, signs, compresses and encodes.

There is one kernel source, :mod:`._kernel_cy` (Cython's pure-Python mode), in two forms: compiled into
the extension ``accesstoken2._wire._kernel_cy`` when it was built, and run as plain Python from the same
file (loaded as ``accesstoken2._wire._kernel_py``).  ``pure`` is always the interpreted form, loaded when it is
first asked for (compiling the source costs an import tens of milliseconds); ``active`` is the compiled form
when it is importable, else ``pure``; ``ACCESSTOKEN2_NO_EXTENSIONS=1`` (any non-empty
value other than ``0``) forces ``pure``.  :func:`use` switches it (the test fixture does).
``IMPLEMENTATION`` (here and on the package) always names ``active``: ``"c"`` or ``"python"``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from .values import (
    Build007Args,
    Parsed006,
    Parsed007,
    ServicesAt,
    ServicesRead,
    ServiceValues,
)


class Kernel(Protocol):
    """What the kernel provides, in both its forms (``mypy --strict`` checks the source against it)."""

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

    def pack_service(self, service_type: Any, privileges: Any, fields: Any, /) -> bytes:
        """One 007 service's bytes (type, privilege map, fields as the spec table lays them out), checked as
        :meth:`build007` checks it."""

    def pack_permissions(self, tree: Any, /) -> bytes:
        """An RTM2 permission tree's bytes, checked as :meth:`build007` checks it."""

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


_SOURCE = Path(__file__).with_name("_kernel_cy.py")
_COMPILED_NAME = f"{__package__}._kernel_cy"
_INTERPRETED_NAME = f"{__package__}._kernel_py"


def _interpreted() -> Kernel:
    """The kernel source run as plain Python (one module per process, under its own name)."""
    module = sys.modules.get(_INTERPRETED_NAME)
    if module is None:
        spec = importlib.util.spec_from_file_location(_INTERPRETED_NAME, _SOURCE)
        if spec is None or spec.loader is None:  # pragma: no cover - the file ships with the package
            raise ImportError(f"cannot load the kernel source {_SOURCE}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[_INTERPRETED_NAME] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[_INTERPRETED_NAME]
            raise
    return cast(Kernel, module)


def compiled() -> Kernel | None:
    """The compiled kernel, or None when it is not built (or disabled)."""
    if extensions_disabled():
        return None
    spec = importlib.util.find_spec(_COMPILED_NAME)
    # without the extension, the name finds the source itself: that is the interpreted form, not a compiled one
    if spec is None or spec.origin is None or spec.origin.endswith(".py"):
        return None
    try:
        module: Kernel = cast(Kernel, importlib.import_module(_COMPILED_NAME))
    except ImportError:
        return None
    return module


def kernels() -> dict[str, Kernel]:
    """Every kernel available here, by IMPLEMENTATION name."""
    found: dict[str, Kernel] = {"python": _interpreted()}
    c = compiled()
    if c is not None:
        found["c"] = c
    return found


if TYPE_CHECKING:
    # mypy --strict checks the kernel source's signatures against the contract
    from . import _kernel_cy

    _SOURCE_KEEPS_THE_CONTRACT: Kernel = _kernel_cy

#: THE selector: the kernel every caller uses (``kernel.active.build007(...)``)
active: Kernel = compiled() or _interpreted()


def use(name: str) -> None:
    """Make the kernel named ``name`` (``"c"`` or ``"python"``) the active one."""
    global active
    active = kernels()[name]


def __getattr__(name: str) -> Any:
    # IMPLEMENTATION is read from the active kernel, so it can never disagree with it
    if name == "IMPLEMENTATION":
        return active.IMPLEMENTATION
    # pure, the interpreted form, is loaded only when something asks for it
    if name == "pure":
        return _interpreted()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
