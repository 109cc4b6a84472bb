"""A reader of builder shape programs (accesstoken2._wire.shapes), for the tests: the kernel reads programs in its
own three passes (_check_shape, _checked_accounts, _put_program), and this independent reading says what they
must find in a program."""

from __future__ import annotations

from typing import NamedTuple

from accesstoken2._wire.shapes import ACCOUNT, AS_SPEC, shape_mismatch


class Program(NamedTuple):
    """A decoded program."""

    #: (type, ((privilege, lifetime slot), ...), ((rule, value slot), ...)) per service
    services: tuple[tuple[int, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]], ...]
    #: (value slot, type, field index) of every account field, in program order
    accounts: tuple[tuple[int, int, int], ...]
    #: how many lifetimes and values a call must pass at least
    lifetimes: int
    values: int


def decode(program: bytes) -> Program:
    """Read a program: its services, account fields and the lifetimes and values a call must pass."""
    """Read a program (what the compiled kernel does on every call, the pure kernel once per shape)."""
    try:
        count = program[0]
        if not count:
            raise shape_mismatch()
        pos = 1
        services = []
        accounts = []
        lifetimes = values = 0
        for _ in range(count):
            service_type = program[pos] | program[pos + 1] << 8
            privileges = []
            previous = -1
            for _ in range(program[pos + 2]):
                privilege = program[pos + 3] | program[pos + 4] << 8
                if privilege <= previous:  # strictly ascending: what map32 writes
                    raise shape_mismatch()
                privileges.append((privilege, program[pos + 5]))
                lifetimes = max(lifetimes, program[pos + 5] + 1)
                previous = privilege
                pos += 3
            pos += 3
            fields = []
            for index in range(program[pos]):
                rule, slot = program[pos + 1], program[pos + 2]
                if rule not in (AS_SPEC, ACCOUNT):
                    raise shape_mismatch()
                if rule == ACCOUNT:
                    accounts.append((slot, service_type, index))
                fields.append((rule, slot))
                values = max(values, slot + 1)
                pos += 2
            pos += 1
            services.append((service_type, tuple(privileges), tuple(fields)))
    except IndexError:
        raise shape_mismatch() from None
    if pos != len(program):
        raise shape_mismatch()
    return Program(tuple(services), tuple(accounts), max(lifetimes, 1), values)
