"""Issue 100,000 Chat user tokens at once with build_tokens (the C core builds them on all CPUs).

Run it:  AGORA_APP_ID=... AGORA_APP_CERTIFICATE=... python examples/issue_many_tokens.py [COUNT]
"""

import os
import sys
import time

from accesstoken2 import AccessToken2, ChatPrivilege, ServiceChat, build_tokens, inspect

APP_ID = os.environ["AGORA_APP_ID"]
APP_CERTIFICATE = os.environ["AGORA_APP_CERTIFICATE"]
count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def chat_user_token(user_id: str) -> AccessToken2:
    """A token object, not built yet: build_tokens builds them all in one call."""
    token = AccessToken2(APP_ID, APP_CERTIFICATE, expire=24 * 3600)
    service = ServiceChat(user_id)
    service.add_privilege(ChatPrivilege.USER, 24 * 3600)
    token.add_service(service)
    return token


started = time.perf_counter()
prepared = [chat_user_token(f"user-{number}") for number in range(count)]
tokens = build_tokens(prepared)  # in the order given; any invalid token raises and returns nothing
elapsed = time.perf_counter() - started

print(f"{len(tokens):,} tokens in {elapsed:.2f} s ({elapsed / len(tokens) * 1e6:.1f} µs each)")
last = inspect(tokens[-1])
print("the last one is for", last.services[0].fields["user_id"])
