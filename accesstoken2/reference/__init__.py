"""Migration in one line: modules named like Agora's reference Python files and PyPI ``agoraiotools``.

Each module re-exports this package's implementation under the reference's module, class and
function names and argument orders, so only the import line changes::

    # before: from RtcTokenBuilder2 import RtcTokenBuilder, Role_Publisher      (Agora's reference files)
    # before: from agoraiotools.RtcTokenBuilder2 import RtcTokenBuilder, Role_Publisher
    from accesstoken2.reference.RtcTokenBuilder2 import RtcTokenBuilder, Role_Publisher

007 (AccessToken2): :mod:`.RtcTokenBuilder2`, :mod:`.RtmTokenBuilder2`, :mod:`.ChatTokenBuilder2`,
:mod:`.FpaTokenBuilder2` and :mod:`.fpa_token_builder`, :mod:`.ApaasTokenBuilder` and
:mod:`.apaas_token_builder`, :mod:`.EducationTokenBuilder` and :mod:`.education_token_builder`,
:mod:`.convoai_token_builder`, :mod:`.stt_token_builder`, :mod:`.AccessToken2`.
Legacy 006: :mod:`.RtcTokenBuilder`, :mod:`.RtmTokenBuilder`, :mod:`.AccessToken` (their expiry
arguments are absolute Unix times, not lifetimes).  Older still: :mod:`.DynamicKey` to
:mod:`.DynamicKey5`, :mod:`.SignalingToken`.  agoraiotools' helper modules ``Packer`` and ``utils``
build no token and have no counterpart.

This package's own names are those of agoraiotools' top level, and like them
``RtcTokenBuilder`` and ``RtmTokenBuilder`` here are the legacy 006 builders (``RtcTokenBuilder2``
and ``RtmTokenBuilder2`` are the 007 ones).  ``accesstoken2.RtcTokenBuilder`` is the 007 builder.

Unlike the reference, bad input raises a documented :mod:`accesstoken2.errors` exception instead of
returning an empty string or printing.
"""

from __future__ import annotations

from .AccessToken import AccessToken
from .AccessToken2 import AccessToken2
from .ApaasTokenBuilder import ApaasTokenBuilder
from .ChatTokenBuilder2 import ChatTokenBuilder, ChatTokenBuilder2
from .EducationTokenBuilder import EducationTokenBuilder
from .FpaTokenBuilder2 import FpaTokenBuilder
from .RtcTokenBuilder import RtcTokenBuilder
from .RtcTokenBuilder2 import RtcTokenBuilder2
from .RtmTokenBuilder import RtmTokenBuilder
from .RtmTokenBuilder2 import RtmTokenBuilder2

__all__ = [
    "AccessToken",
    "AccessToken2",
    "ApaasTokenBuilder",
    "ChatTokenBuilder",
    "ChatTokenBuilder2",
    "EducationTokenBuilder",
    "FpaTokenBuilder",
    "RtcTokenBuilder",
    "RtcTokenBuilder2",
    "RtmTokenBuilder",
    "RtmTokenBuilder2",
]
