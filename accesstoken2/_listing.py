"""How much of a token the library lists when it shows one (``to_dict``, ``repr``, :func:`inspect`,
:func:`diagnose`): at most :data:`MAX_LISTED` of each list (:data:`MAX_PRIVILEGES_LISTED` privileges per
service), the rest counted.

Agora's builders write a handful of services, privileges and RTM2 permission entries, while a crafted
token can hold 16,000 services, 10,000 privileges or 16,000 permission tree entries; showing them one by
one would cost tens of milliseconds and say nothing more.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

#: the most services, and entries of each level of an RTM2 permission tree, listed
MAX_LISTED = 32
#: the most privileges listed per service: no service defines more than 4, and 32 services of 32 privileges
#: would be 1,024 entries to show
MAX_PRIVILEGES_LISTED = 8


def lowest(items: Mapping[int, int], limit: int = MAX_PRIVILEGES_LISTED) -> list[tuple[int, int]]:
    """The ``limit`` lowest-keyed items, sorted (without sorting thousands of them)."""
    if len(items) <= limit:
        return sorted(items.items())
    return [(key, items[key]) for key in heapq.nsmallest(limit, items)]
