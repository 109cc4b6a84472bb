"""The plain values the kernels take and return (type aliases only): the kernel contract (:mod:`.kernel`), both
kernels and the packers name them from here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: (service type, {privilege: expire}, field values in the order of the spec table)
ServiceValues = tuple[int, Mapping[int, int], Sequence[Any]]
#: the arguments of build007: app id, certificate, issue_ts, expire, salt, services (written in this order)
Build007Args = tuple[str, str, int, int, int, Sequence[ServiceValues]]
#: parse007: signature, signing_info, app id, issue_ts, expire, salt, where the services are (ServicesAt),
#: the unknown service type where reading stopped or -1
Parsed007 = tuple[Any, ...]
#: (offset of the first service in signing_info, services of known types, the service count written)
ServicesAt = tuple[int, int, int]
#: (service type, {privilege: value}, field values in the order of the spec table)
ParsedService = tuple[int, dict[int, int], tuple[Any, ...]]
#: services007: the services made, {service type: count} of the known services after them (in token order),
#: and {position in the services made: permission tree entries left out} for the trees it cut
ServicesRead = tuple[list[ParsedService], dict[int, int], dict[int, int]]
#: parse006: app id, signature, crc(channel), crc(uid), message, salt, ts, privileges
Parsed006 = tuple[Any, ...]
