"""A small API client for members who keep their own key: the CLI uses it, and so can scripts.

It signs each entry on the member's machine (no custody) with ``ledger.signing`` and sends it
in the ``Fusioncell-Entry`` header beside the request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fusioncell.errors import InvalidInput
from fusioncell.hotline import forms
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.rules import RulesError, parse_rules
from fusioncell.ledger import tree
from fusioncell.ledger.checkpoint import Checkpoint, parse_checkpoint
from fusioncell.ledger.entries import b64, body_hash, key_id, parse_leaf, unb64
from fusioncell.ledger.errors import CheckpointError, NoteError, ProofError
from fusioncell.ledger.note import Ed25519Verifier, open_note
from fusioncell.ledger.signing import ENTRY_HEADER, encode_entry_header, sign_entry
from fusioncell.own_key import public_key_of


class ClientError(Exception):
    """A request the server refused, or a server that could not be reached: one line.

    ``status`` is the HTTP status of a refusal, and ``reason`` its problem's detail.
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason or message


def refusal(response: httpx.Response) -> str:
    """What a refusal says, once: its problem's detail (or title), else the start of its body."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        said = problem.get("detail") or problem.get("title")
        if isinstance(said, str) and said:
            return said
    return response.text.strip()[:200] or response.reason_phrase


def unreachable(exc: httpx.HTTPError) -> str:
    """Why a server could not be reached, in a few words."""
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    reason = str(exc).strip() or exc.__class__.__name__
    return reason.splitlines()[0]


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
        self._me: Any = None
        self._owned = http is None

    def close(self) -> None:
        if self._owned:
            self.http.close()

    def __enter__(self) -> CellClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach {self.server}: {unreachable(exc)}") from None
        if response.status_code >= 400:
            reason = refusal(response)
            raise ClientError(
                f"{method} {path} failed ({response.status_code}): {reason}",
                status=response.status_code,
                reason=reason,
            )
        return response

    def log_in(self, username: str, password: str, *, totp: str | None = None) -> None:
        body = {"username": username, "password": password, "totp": totp}
        try:
            response = self._request("POST", "/api/v1/auth/token", json=body)
        except ClientError as exc:
            if exc.status is None:
                raise
            raise ClientError(
                f"{self.server} refused the login of {username}: {exc.reason}",
                status=exc.status,
                reason=exc.reason,
            ) from None
        self.token = response.json()["access_token"]

    def get(self, path: str, **kwargs: Any) -> Any:
        return self._request("GET", path, **kwargs).json()

    def post(self, path: str, **kwargs: Any) -> Any:
        """A request the server signs for the member (custody), where no key is given."""
        return self._request("POST", path, **kwargs).json()

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

    # -- the log, as a client checks it ----------------------------------------------------

    def log_key(self) -> Ed25519Verifier:
        """The server's own word for its log key: trust on first use unless pinned."""
        try:
            return Ed25519Verifier.from_key_string(self.get("/api/v1/log/key")["verifier_key"])
        except (NoteError, KeyError, TypeError) as exc:
            raise ClientError(f"the server's log key is unusable: {exc}") from None

    def verified_checkpoint(self, log_key: Ed25519Verifier) -> Checkpoint:
        """The latest checkpoint, after checking the log key's signature on it."""
        note = self._request("GET", "/log/checkpoint").text
        try:
            checkpoint = parse_checkpoint(open_note(note.encode(), [log_key]).text)
        except (NoteError, CheckpointError) as exc:
            raise ClientError(f"the checkpoint does not verify with the log key: {exc}") from None
        if checkpoint.origin != log_key.name:
            raise ClientError(f"the checkpoint is for another log: {checkpoint.origin!r}")
        return checkpoint

    def check_consistency(self, old: Checkpoint, new: Checkpoint) -> None:
        """A newer checkpoint must extend the one this client already trusts (no fork)."""
        if new.size == old.size and new.root_hash == old.root_hash:
            return
        proof = self.get(
            "/api/v1/log/proof/consistency", params={"first": old.size, "second": new.size}
        )["proof"]
        try:
            tree.verify_consistency(
                old.size, new.size, [unb64(h) for h in proof], old.root_hash, new.root_hash
            )
        except (ProofError, ValueError) as exc:
            raise ClientError(
                f"checkpoint {new.size} does not extend checkpoint {old.size}: {exc}"
            ) from None

    def check_inclusion(self, checkpoint: Checkpoint, *, index: int, leaf_hash: bytes) -> None:
        """The entry at ``index`` with this leaf hash is in the tree ``checkpoint`` commits to."""
        proof = self.get(
            "/api/v1/log/proof/inclusion", params={"index": index, "tree_size": checkpoint.size}
        )["proof"]
        try:
            tree.verify_inclusion(
                leaf_hash, index, checkpoint.size, [unb64(h) for h in proof], checkpoint.root_hash
            )
        except (ProofError, ValueError) as exc:
            raise ClientError(
                f"entry {index} is not proven in checkpoint {checkpoint.size}: {exc}"
            ) from None

    def check_entry(
        self,
        checkpoint: Checkpoint,
        index: int,
        *,
        entry_type: str,
        expected: dict[str, Any],
        noun: str,
        name: str,
        leaf_hash: bytes | None = None,
    ) -> datetime:
        """The entry at ``index`` is a ``entry_type`` whose body, as served and committed to by
        its header, holds ``expected`` (and its leaf hashes to ``leaf_hash``, if given), and is
        in the tree ``checkpoint`` commits to. Returns the log's time of the entry."""
        entry = self.get(f"/api/v1/log/entries/{index}")
        leaf = unb64(entry["leaf"])
        found = tree.leaf_hash(leaf)
        parsed = parse_leaf(leaf)
        body, salt = entry.get("body"), entry.get("salt")
        problem = None
        if leaf_hash is not None and found != leaf_hash:
            problem = f"its entry's leaf does not hash to the {noun}'s leaf hash"
        elif parsed.header["type"] != entry_type:
            problem = f"its entry is a {parsed.header['type']}, not a {noun}"
        elif body is None or salt is None or body_hash(unb64(salt), body) != parsed.header["body"]:
            problem = "its entry's header does not commit to the body served"
        elif any(body.get(field) != value for field, value in expected.items()):
            problem = f"the {noun} served differs from the body its entry commits to"
        if problem is not None:
            raise ClientError(f"{noun} {name} at entry {index}: {problem}")
        self.check_inclusion(checkpoint, index=index, leaf_hash=found)
        return parsed.logged_at

    def check_message(self, checkpoint: Checkpoint, message: dict[str, Any]) -> datetime:
        """A message as the API serves it is what its entry says, and the entry is in the tree
        ``checkpoint`` commits to. Returns the log's time of the entry."""
        fields = ("message", "channel", "precedence", "sender", "text", "fields")
        served = ("id", "channel_id", "precedence", "sender", "text", "fields")
        return self.check_entry(
            checkpoint,
            int(message["log_index"]),
            entry_type=HotlineEntry.MESSAGE_SENT.value,
            expected={f: message.get(s) for f, s in zip(fields, served, strict=True)},
            noun="message",
            name=str(message["id"]),
            leaf_hash=unb64(message["leaf_hash"]),
        )

    # -- the hotline, signed here ----------------------------------------------------------

    def send_message(
        self,
        private: Ed25519PrivateKey,
        *,
        channel_id: uuid.UUID,
        precedence: str,
        text: str | None = None,
        template: str | None = None,
        fields: dict[str, Any] | None = None,
        attachments: Sequence[dict[str, Any]] = (),
        message_id: uuid.UUID | None = None,
    ) -> Any:
        """Send a hotline message whose ``hotline.message.sent`` entry is signed by ``private``.

        The client chooses the message id, so a retry with the same id and content returns the
        first message instead of sending it twice.
        """
        message_id = message_id or uuid.uuid4()
        policy = self.get("/api/v1/log/policy")["policy"]
        body = message_body(
            message_id=message_id,
            channel_id=channel_id,
            sender=self.me()["username"],
            precedence=precedence,
            text=text,
            template=template,
            fields=fields,
            attachments=attachments,
            hotline_policy=hotline_policy_hash(policy),
        )
        request: dict[str, Any] = {
            "id": str(message_id),
            "precedence": precedence,
            "attachments": body["attachments"],
        }
        if template is None:
            request["text"] = text
        else:
            request |= {"template": template, "fields": body["fields"]}
        return self.signed(
            "POST",
            f"/api/v1/channels/{channel_id}/messages",
            private,
            entry_type=HotlineEntry.MESSAGE_SENT.value,
            body=body,
            json=request,
        )

    def acknowledge_message(
        self,
        private: Ed25519PrivateKey,
        message: dict[str, Any],
        checkpoint: Checkpoint,
        *,
        ack_id: uuid.UUID | None = None,
    ) -> Any:
        """Acknowledge ``message`` (as the API returned it), citing the checkpoint this client
        verified; the ``hotline.message.acknowledged`` entry is signed by ``private``."""
        ack_id = ack_id or uuid.uuid4()
        body = ack_body(
            ack_id=ack_id,
            message_id=uuid.UUID(str(message["id"])),
            message_index=int(message["log_index"]),
            message_leaf_hash=str(message["leaf_hash"]),
            organisation_id=uuid.UUID(str(self.me()["organisation"]["id"])),
            checkpoint=checkpoint,
        )
        return self.signed(
            "POST",
            f"/api/v1/messages/{message['id']}/ack",
            private,
            entry_type=HotlineEntry.MESSAGE_ACKNOWLEDGED.value,
            body=body,
            json={"id": str(ack_id), "checkpoint_size": checkpoint.size},
        )

    def me(self) -> Any:
        if self._me is None:
            self._me = self.get("/api/v1/me")
        return self._me


def hotline_policy_hash(policy: dict[str, Any]) -> str:
    """The hash a message binds: of the hotline part of the log's policy document."""
    try:
        return parse_rules(policy["hotline"]).hash
    except (RulesError, KeyError, TypeError) as exc:
        raise ClientError(f"the server's hotline policy is unusable: {exc}") from None


def message_body(
    *,
    message_id: uuid.UUID,
    channel_id: uuid.UUID,
    sender: str,
    precedence: str,
    text: str | None,
    template: str | None,
    fields: dict[str, Any] | None,
    attachments: Sequence[dict[str, Any]],
    hotline_policy: str,
) -> dict[str, Any]:
    """The body the server records for a message (``hotline.actions.messages``), built here so
    the signature commits to exactly it. Template fields are normalised as the server does."""
    if (text is None) == (template is None):
        raise ClientError("give either a text or a template with its fields")
    checked = None
    if template is not None:
        try:
            checked = forms.check_fields(template, fields or {})
        except InvalidInput as exc:
            problems = exc.extensions.get("errors") or [{"field": "-", "message": exc.detail}]
            listed = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
            raise ClientError(f"template {template}: {listed}") from None
    return {
        "message": str(message_id),
        "channel": str(channel_id),
        "sender": sender,
        "precedence": precedence,
        "form": template or forms.TEXT,
        "text": text,
        "fields": checked,
        "attachments": [
            {"sha256": a["sha256"], "size": a["size"], "name": a["name"]} for a in attachments
        ],
        "relay_of": None,
        "hotline_policy": hotline_policy,
    }


def ack_body(
    *,
    ack_id: uuid.UUID,
    message_id: uuid.UUID,
    message_index: int,
    message_leaf_hash: str,
    organisation_id: uuid.UUID,
    checkpoint: Checkpoint,
) -> dict[str, Any]:
    """The body the server records for an acknowledgement, citing a verified checkpoint."""
    return {
        "ack": str(ack_id),
        "message": str(message_id),
        "message_index": message_index,
        "message_leaf_hash": message_leaf_hash,
        "organisation": str(organisation_id),
        "checkpoint": {"size": checkpoint.size, "root": b64(checkpoint.root_hash)},
    }
