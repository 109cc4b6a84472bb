"""Builder shapes: what a public builder writes, compiled once into a small program the kernel runs.

A builder (``ChatTokenBuilder.build_user_token``, ...) always writes the same services with the same
privileges; only the lifetimes and the field values change from call to call.  :func:`builder_shape`
turns that fixed part into bytes, naming each slot of a call's ``lifetimes`` (slot 0 is the token's
expire) and ``values`` after the builder parameter that fills it, and the kernel's ``build007_shape``
fills it (reading the program on every call, in ``_kernel_cy.py``): the builder makes no dict, list or
Service object per token.

The program (every count and slot is a u8, types and privileges are u16 little-endian)::

    program = u8(n) service_1 ... service_n              services in wire order (sorted by type)
    service = u16(type) u8(count) privilege... u8(count) field...
    privilege = u16(privilege id) u8(lifetime slot)      strictly ascending privilege ids
    field   = u8(rule) u8(value slot)                    one per field of the type's spec row

A field's rule is ``=`` (packed as the spec table's wire code says) or ``u``: a uid or account, an
int from 0 to 2**32-1 (decimal text, 0 the empty string) or a str.  A program that does not fit its
lifetimes and values raises :func:`shape_mismatch` (a bug in the caller).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .limits import U16_MAX
from .specs import LAYOUTS, TEXT

#: field rule: the value is packed as the spec table's wire code says
AS_SPEC = ord("=")
#: field rule: the value is a uid or account (docs/FORMAT.md, "uid and account text")
ACCOUNT = ord("u")
#: the largest slot a program can name
MAX_SLOT = 0xFF


class Account(NamedTuple):
    """A field whose value (the value slot named ``name``) is a uid or an account."""

    name: str


#: one service of a shape: type, {privilege id: lifetime slot name}, value slot name (or Account) per field
ShapeService = tuple[int, Mapping[int, str], Sequence["str | Account"]]


def builder_shape(*services: ShapeService, lifetimes: Sequence[str] = ("expire",), values: Sequence[str] = ()) -> bytes:
    """The program of a builder that writes ``services`` (checked against the spec table).

    ``lifetimes`` and ``values`` name the slots of the tuples a call passes, in order (the first lifetime is the
    token's expire); the services say which slot fills each privilege and field by those names, so a shape reads
    as the builder's parameters::

        builder_shape(
            (ServiceType.RTM, {RtmPrivilege.LOGIN: "rtm_token_expire"}, ("rtm_user_id",)),
            lifetimes=("token_expire", "rtm_token_expire"),
            values=("rtm_user_id",),
        )
    """
    if not 0 < len(services) <= MAX_SLOT:
        raise ValueError(f"a builder shape holds 1 to {MAX_SLOT} services, not {len(services)}")
    lifetime_slot, value_slot = _slots("lifetime", lifetimes), _slots("value", values)
    program = bytearray([len(services)])
    previous = -1
    for service_type, privileges, fields in services:
        layout = LAYOUTS.get(service_type)
        if layout is None or len(fields) != len(layout) or service_type < previous:
            raise ValueError(f"service type {service_type} is unknown, out of order or has the wrong field count")
        previous = service_type
        program += service_type.to_bytes(2, "little") + bytes([_slot(len(privileges))])
        for privilege in sorted(privileges):
            if not 0 <= privilege <= U16_MAX:
                raise ValueError(f"privilege {privilege} is not a u16")
            program += privilege.to_bytes(2, "little") + bytes([_named(lifetime_slot, privileges[privilege])])
        program.append(len(fields))
        for code, field in zip(layout, fields):
            if isinstance(field, Account):
                if code != ord(TEXT):
                    raise ValueError(f"an account must fill a text field of service type {service_type}")
                program += bytes([ACCOUNT, _named(value_slot, field.name)])
            else:
                program += bytes([AS_SPEC, _named(value_slot, field)])
    return bytes(program)


def _slots(kind: str, names: Sequence[str]) -> dict[str, int]:
    """name -> slot of a shape's lifetimes or values (distinct names, at most MAX_SLOT + 1 of them)."""
    slots = {name: _slot(index) for index, name in enumerate(names)}
    if len(slots) != len(names):
        raise ValueError(f"the {kind} slots of a builder shape have one name each, not {list(names)}")
    return slots


def _named(slots: dict[str, int], name: str) -> int:
    if name not in slots:
        raise ValueError(f"a builder shape names slot {name!r}, which is not one of {list(slots)}")
    return slots[name]


def _slot(value: int) -> int:
    if not 0 <= value <= MAX_SLOT:
        raise ValueError(f"a slot or count of a builder shape is from 0 to {MAX_SLOT}, not {value}")
    return value


def shape_mismatch() -> ValueError:
    """The error for a program that is malformed or does not fit the lifetimes and values it was given."""
    return ValueError("build007_shape: the builder shape is malformed or does not fit its lifetimes and values")
