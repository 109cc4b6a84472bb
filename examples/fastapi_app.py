"""A FastAPI app that hands tokens to its logged-in users, and serves a browser client that renews its
token before it expires (static/index.html and static/renew.js).

Run it:  AGORA_APP_ID=... AGORA_APP_CERTIFICATE=... uvicorn examples.fastapi_app:app --port 8000
Then open http://127.0.0.1:8000/ in a browser.  The login is a stand-in (a name, no password): put
your own session or JWT check in ``current_user``.
"""

import os
import secrets
import time
from pathlib import Path
from typing import Optional

from fastapi import Cookie, FastAPI, HTTPException, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel

from accesstoken2 import Role_Publisher, RtcTokenBuilder

APP_ID = os.environ["AGORA_APP_ID"]
APP_CERTIFICATE = os.environ["AGORA_APP_CERTIFICATE"]  # server side only
# Short, so that the browser client visibly renews; an hour or so is usual.
TOKEN_LIFETIME = int(os.environ.get("TOKEN_LIFETIME", "120"))
STATIC = Path(__file__).parent / "static"

app = FastAPI()
sessions: dict[str, str] = {}  # session id -> user; use your real session store


def current_user(session_id: Optional[str]) -> str:
    user = sessions.get(session_id or "")
    if user is None:
        raise HTTPException(401, "log in first")
    return user


class Login(BaseModel):
    user: str


@app.post("/login")
def login(body: Login, response: Response) -> dict[str, str]:
    session_id = secrets.token_urlsafe(32)
    sessions[session_id] = body.user  # stand-in: check a password or an identity provider here
    response.set_cookie("session", session_id, httponly=True, samesite="strict")
    return {"user": body.user}


@app.get("/token/{channel}")
def rtc_token(channel: str, session: Optional[str] = Cookie(default=None)) -> dict[str, object]:
    user = current_user(session)
    issued = int(time.time())
    token = RtcTokenBuilder.build_token_with_user_account(
        APP_ID, APP_CERTIFICATE, channel, user, Role_Publisher, TOKEN_LIFETIME, issue_ts=issued
    )
    # expires_in is counted here, on the server: the browser's clock may be wrong.
    return {"rtcToken": token, "account": user, "expires_at": issued + TOKEN_LIFETIME, "expires_in": TOKEN_LIFETIME}


@app.get("/")
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html")


@app.get("/renew.js")
def script() -> FileResponse:
    return FileResponse(STATIC / "renew.js", media_type="text/javascript")
