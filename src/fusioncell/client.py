"""A small API client for members who keep their own key: the CLI uses it, and so can scripts.

It signs each entry on the member's machine (no custody) with ``ledger.signing`` and sends it
in the ``Fusioncell-Entry`` header beside the request.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fusioncell.ledger.entries import b64, key_id
from fusioncell.ledger.signing import ENTRY_HEADER, encode_entry_header, sign_entry


class ClientError(Exception):
    """A request the server refused, or a server that could not be reached: one line."""


def generate_key_file(path: Path) -> Ed25519PrivateKey:
    """Write a new private key (PKCS#8 PEM) readable by its owner only; never overwrite."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return private


def load_key_file(path: Path) -> Ed25519PrivateKey:
    if path.stat().st_mode & 0o077:
        raise ClientError(f"{path} is readable by others: chmod 600 {path}")
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ClientError(f"{path} does not hold an Ed25519 private key")
    return private


def public_key_of(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes_raw()


class CellClient:
    def __init__(
        self,
        server: str,
        *,
        http: httpx.Client | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.server = server.rstrip("/")
        self.now = now
        self.http = http or httpx.Client(base_url=self.server, timeout=10)
        self.token: str | None = None

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach {self.server}: {exc}") from None
        if response.status_code >= 400:
            try:
                problem = response.json()
                message = f"{problem.get('title')}: {problem.get('detail')}"
            except ValueError:
                message = response.text.strip()[:200]
            raise ClientError(f"{method} {path} failed ({response.status_code}): {message}")
        return response

    def log_in(self, username: str, password: str, *, totp: str | None = None) -> None:
        body = {"username": username, "password": password, "totp": totp}
        self.token = self._request("POST", "/api/v1/auth/token", json=body).json()["access_token"]

    def get(self, path: str, **kwargs: Any) -> Any:
        return self._request("GET", path, **kwargs).json()

    def signed(
        self,
        method: str,
        path: str,
        private: Ed25519PrivateKey,
        *,
        entry_type: str,
        body: dict[str, Any],
        json: Any = None,
        key: dict[str, Any] | None = None,
    ) -> Any:
        """Send a request with its entry signed here, by ``private``."""
        policy = self.get("/api/v1/log/policy")["hash"]
        header, signature, salt = sign_entry(
            private,
            entry_type,
            body,
            policy_hash=policy,
            now=self.now(),
            custodial=False,
            key=key,
        )
        entry = encode_entry_header(header, signature, salt)
        return self._request(method, path, json=json, headers={ENTRY_HEADER: entry}).json()

    def enroll(self, private: Ed25519PrivateKey) -> Any:
        me = self.get("/api/v1/me")
        public = public_key_of(private)
        identity = key_id(public)
        return self.signed(
            "POST",
            "/api/v1/keys",
            private,
            entry_type="cell.key.enrolled",
            body={"member": me["id"], "key": identity, "custodial": False},
            json={"public_key": b64(public)},
            key={"id": identity, "public": b64(public), "member": me["id"]},
        )
