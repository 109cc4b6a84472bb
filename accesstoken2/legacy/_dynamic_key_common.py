"""Input checks and text pieces shared by the DynamicKey generators (versions 1 to 5).

Versions 1 to 4 sign text: ``ts10`` is a number as 10 zero-padded decimal digits, ``hex8`` a u32
as 8 lower-case hex digits, and the signature is the lower-case hex HMAC-SHA1 keyed with the
certificate text.
"""

from __future__ import annotations

import hmac
from typing import Any, NamedTuple

from .._wire.checks import check_ids, check_int, check_text, check_u32
from .._wire.limits import U32_MAX

I32_MIN = -0x80000000


def u32_wrapped(name: str, value: Any) -> int:
    """A uid or random int: 0..2**32-1, or a negative int32 read as unsigned as the reference does."""
    return check_int(name, value, I32_MIN, U32_MAX) & U32_MAX


def ts10(value: int) -> str:
    return f"{value:010d}"


def hex8(value: int) -> str:
    return f"{value:08x}"


class TextKeyInputs(NamedTuple):
    """The checked inputs every text DynamicKey (versions 1 to 4) starts from."""

    app_id: str
    certificate: bytes
    channel_name: str
    unix_ts: int
    random_int: int

    @classmethod
    def checked(
        cls, app_id: Any, app_certificate: Any, channel_name: Any, unix_ts: Any, random_int: Any
    ) -> TextKeyInputs:
        certificate = check_ids(app_id, app_certificate)[1]
        check_text("channel_name", channel_name)
        return cls(
            app_id, certificate, channel_name, check_u32("unix_ts", unix_ts), u32_wrapped("random_int", random_int)
        )

    def head(self) -> str:
        """app id, ts10(unix_ts), hex8(random_int): how every text key starts after its signature."""
        return self.app_id + ts10(self.unix_ts) + hex8(self.random_int)

    def signature(self, prefix: str = "", *numbers: int) -> str:
        """Hex HMAC-SHA1 over prefix + head + channel name + ts10 of each number."""
        content = prefix + self.head() + self.channel_name + "".join(ts10(number) for number in numbers)
        return hmac.digest(self.certificate, content.encode("utf-8"), "sha1").hex()
