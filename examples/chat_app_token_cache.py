"""The Chat app token for your server's Chat REST calls, built once and renewed before it expires.

Run it:  AGORA_APP_ID=... AGORA_APP_CERTIFICATE=... python examples/chat_app_token_cache.py
"""

import os

from accesstoken2 import ChatAppTokenCache, inspect

APP_ID = os.environ["AGORA_APP_ID"]
APP_CERTIFICATE = os.environ["AGORA_APP_CERTIFICATE"]


class Clock:
    """A clock this demo can move forward; leave ``clock=`` out in your code (it is time.time)."""

    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


clock = Clock()
# One hour tokens; a new one is built once fewer than 360 s (10 % of the lifetime) would remain.
tokens = ChatAppTokenCache(APP_ID, APP_CERTIFICATE, expire=3600, clock=clock)

first = tokens.get()  # built now
headers = {"Authorization": f"Bearer {first}"}  # what a Chat REST request carries
print("first token expires at", tokens.expires_at)

clock.now += 3000  # 50 minutes later: 600 s left, more than the margin
assert tokens.get() == first  # the same token, not rebuilt
print("after 50 min: same token")

clock.now += 300  # 55 minutes: 300 s left, inside the margin
renewed = tokens.get()  # built again, valid one hour from now
assert renewed != first
print("after 55 min: renewed, expires at", tokens.expires_at)
print("renewed token issued at", inspect(renewed).issued_at.isoformat())
