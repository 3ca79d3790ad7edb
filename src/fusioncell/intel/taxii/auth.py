"""Who a TAXII request comes from: HTTP Basic with a member's username and password, or a
bearer token as on the API.

TAXII clients send Basic credentials on every request, and an argon2id verification costs
tens of milliseconds by design. So a verified username and password is logged in once, as
``POST /api/v1/auth/token`` would (the same back-off, the same signed ``cell.token.issued``
entry), and the token is kept in this process for a few minutes under an HMAC of the
credentials with a secret of the process: the credentials themselves are never kept, and a
later request with them costs one token lookup. Whatever ends the token (a password change,
disabling the member, revoking it) ends the cached login with it, and the next request
verifies the password again.

The member a cached login (or a bearer token) lets in is remembered too, with the credential
epoch it was read at and the token's expiry: while no credential changed anywhere in the cell
(``cell.queries.credential_epoch``, one small read) and the token has not expired, a request
costs that read rather than the token's lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from fusioncell.cell.actions.auth import do_issue_token
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import credential_epoch, credential_holder
from fusioncell.config import Settings
from fusioncell.errors import InvalidToken, NotAuthenticated
from fusioncell.web.deps import AppClock, AppSettings, Db, bearer_secret

CACHE_SECONDS = 300
MAX_CACHED = 10_000


@dataclass
class BasicLogins:
    """Verified Basic credentials of one app process: HMAC of the credentials → the token
    they were exchanged for, and until when (monotonic) it is used without asking again."""

    ttl: float = CACHE_SECONDS
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    held: dict[bytes, tuple[str, float]] = field(default_factory=dict)
    # HMAC of a token's secret -> whom it let in, the credential epoch then, its expiry.
    seen: dict[bytes, tuple[Viewer, int, datetime]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # How many passwords were verified (the rest were answered from the cache).
    verified: int = 0

    def _mac(self, username: str, password: str) -> bytes:
        message = username.encode() + b"\x00" + password.encode()
        return hmac.new(self.key, message, hashlib.sha256).digest()

    def viewer(
        self,
        db: Session,
        username: str,
        password: str,
        *,
        settings: Settings,
        address: str | None,
        clock_now: datetime,
    ) -> Viewer:
        mac = self._mac(username, password)
        with self.lock:
            found = self.held.get(mac)
        if found is not None and found[1] > time.monotonic():
            viewer = self.token_viewer(db, found[0], now=clock_now)
            if viewer is not None:
                return viewer
        with self.lock:
            self.held.pop(mac, None)
        db.rollback()
        issued = do_issue_token(
            db,
            username=username,
            password=password,
            totp_code=None,
            now=clock_now,
            settings=settings,
            client_address=address,
        )
        self.verified += 1
        expires = time.monotonic() + min(self.ttl, settings.token_ttl_seconds)
        with self.lock:
            if len(self.held) >= MAX_CACHED:
                now = time.monotonic()
                for stale in [k for k, (_s, until) in self.held.items() if until <= now]:
                    del self.held[stale]
                if len(self.held) >= MAX_CACHED:
                    self.held.clear()
            self.held[mac] = (issued.secret, expires)
        viewer = self.token_viewer(db, issued.secret, now=clock_now)
        if viewer is None:  # the member was disabled in between
            raise NotAuthenticated()
        return viewer

    def token_viewer(self, db: Session, secret: str, *, now: datetime) -> Viewer | None:
        """``viewer_for_token``, remembered while no credential changes and the token lasts."""
        mac = hmac.new(self.key, b"token\x00" + secret.encode(), hashlib.sha256).digest()
        epoch = credential_epoch(db)
        with self.lock:
            seen = self.seen.get(mac)
        if seen is not None and seen[1] == epoch and now < seen[2]:
            return seen[0]
        held = credential_holder(db, token=secret, now=now)
        if held is None:
            with self.lock:
                self.seen.pop(mac, None)
            return None
        with self.lock:
            if len(self.seen) >= MAX_CACHED:
                self.seen.clear()
            self.seen[mac] = (held[0], epoch, held[1])
        return held[0]


def basic_logins(request: Request) -> BasicLogins:
    state = request.app.state
    logins: BasicLogins | None = getattr(state, "taxii_basic_logins", None)
    if logins is None:
        logins = state.taxii_basic_logins = BasicLogins()
    return logins


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


def taxii_viewer(request: Request, db: Db, clock: AppClock, settings: AppSettings) -> Viewer:
    header = request.headers.get("authorization", "")
    now = clock.now()
    if (secret := bearer_secret(request)) is not None:
        viewer = basic_logins(request).token_viewer(db, secret, now=now)
        if viewer is None:
            raise InvalidToken()
    elif (credentials := _basic(header)) is not None:
        address = request.client.host if request.client else None
        viewer = basic_logins(request).viewer(
            db, *credentials, settings=settings, address=address, clock_now=now
        )
    else:
        raise NotAuthenticated("send HTTP Basic credentials or a bearer token")
    # The viewer is a snapshot: hand the connection back before the route's own reads.
    db.rollback()
    return viewer


TaxiiViewer = Annotated[Viewer, Depends(taxii_viewer)]
