"""The add-checkpoint decision of https://c2sp.org/tlog-witness, free of HTTP.

Statuses and their order follow the spec text: 400 malformed, 404 unknown origin, 403 no valid
log signature, 400 ``old`` above the checkpoint size, 409 ``old`` is not the cosigned size (body:
that size, ``text/x.tlog.size``), 422 the proof does not verify, 409 the same size with another
root. Parsing is strict, as in ``note``: one spelling per request.

Only the last of these is evidence against the log: two checkpoints its key signed, one size,
two roots. A proof that does not verify says nothing about the log, since whoever sent it may
have made it up; it is a refused request, logged like any other refusal.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from fusioncell.ledger.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    Cosigner,
    cosignature_line,
    parse_checkpoint,
)
from fusioncell.ledger.errors import CheckpointError, NoteError, ProofError
from fusioncell.ledger.note import Ed25519Verifier, Note, decode_base64, open_note, parse_note
from fusioncell.ledger.tree import HASH_SIZE, verify_consistency
from fusioncell.ledger.witness.state import FORK, CosignedCheckpoint, WitnessState

SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63  # the spec's limit on clients; a tree of 2**63 - 1 leaves needs no more

logger = logging.getLogger("fusioncell.ledger.witness")

_OLD_LINE = re.compile(r"old (0|[1-9][0-9]*)")


class Refusal(Exception):
    """Why an add-checkpoint request is not cosigned, with the status the spec assigns."""

    def __init__(
        self, status: int, reason: str, *, cosigned_size: int | None = None, logged: bool = False
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.cosigned_size = cosigned_size  # set for 409: the body a log retries from
        self.logged = logged  # already logged where the context was at hand


@dataclass(frozen=True)
class AddCheckpointRequest:
    old_size: int
    proof: tuple[bytes, ...]
    note: bytes


def parse_add_checkpoint(body: bytes) -> AddCheckpointRequest:
    """Split the body into the old size, the proof hashes and the note; strictly, as 400s."""
    head, blank, note = body.partition(b"\n\n")
    if not blank or note.startswith(b"\n"):
        raise Refusal(400, "malformed request: want one empty line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise Refusal(400, "malformed request: non-ASCII before the checkpoint") from None
    old = _OLD_LINE.fullmatch(lines[0])
    if old is None or int(old[1]) > MAX_TREE_SIZE:
        raise Refusal(400, "malformed request: the first line must be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refusal(400, f"malformed request: more than {MAX_PROOF_LINES} proof lines")
    proof = []
    for line in lines[1:]:
        try:
            digest = decode_base64(line)
        except ValueError as error:
            raise Refusal(400, f"malformed request: a proof line is {error}") from None
        if len(digest) != HASH_SIZE:
            raise Refusal(400, "malformed request: a proof line is not a 32-byte hash")
        proof.append(digest)
    return AddCheckpointRequest(int(old[1]), tuple(proof), note)


class Witness:
    """The add-checkpoint decision, free of HTTP so that it can be called and tested directly."""

    def __init__(
        self,
        *,
        cosigner: Cosigner,
        log_verifier: Ed25519Verifier,
        state: WitnessState,
        clock: Callable[[], int],
    ) -> None:
        self.cosigner = cosigner
        self.log_verifier = log_verifier
        self.state = state
        self.clock = clock

    @property
    def origin(self) -> str:
        return self.log_verifier.name

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line(s) for the request's checkpoint, or a ``Refusal``."""
        try:
            return self._add_checkpoint(body)
        except Refusal as refusal:
            if not refusal.logged:
                logger.warning("refused checkpoint for %s: %s", self.origin, refusal.reason)
            raise

    def _add_checkpoint(self, body: bytes) -> str:
        request = parse_add_checkpoint(body)
        note = self._open(request.note)
        try:
            checkpoint = parse_checkpoint(note.text)
        except CheckpointError as error:
            raise Refusal(400, f"malformed checkpoint: {error}") from None
        if request.old_size > checkpoint.size:
            raise Refusal(400, f"old size {request.old_size} exceeds size {checkpoint.size}")
        signed = note.text + "\n" + "".join(s.line() for s in note.signatures)
        with self.state.lock:
            latest = self.state.latest(self.origin)
            cosigned_size = 0 if latest is None else latest.size
            if (
                latest is not None
                and latest.size == checkpoint.size
                and latest.root != checkpoint.root_hash
            ):
                self._refuse_fork(checkpoint, signed, latest)
            if request.old_size != cosigned_size:
                reason = f"old size {request.old_size} is not the cosigned size {cosigned_size}"
                raise Refusal(409, reason, cosigned_size=cosigned_size)
            self._check_consistency(request, checkpoint, latest)
            self.state.record_cosigned(
                self.origin, CosignedCheckpoint(checkpoint.size, checkpoint.root_hash, signed)
            )
        logger.info("cosigned checkpoint for %s at size %d", self.origin, checkpoint.size)
        return cosignature_line(note.text, self.cosigner, self.clock())

    def _open(self, message: bytes) -> Note:
        try:
            text, _ = parse_note(message)
        except NoteError as error:
            raise Refusal(400, str(error)) from None
        origin = text.split("\n", 1)[0]
        if origin != self.origin:
            raise Refusal(404, f"unknown log origin {origin!r}")
        try:
            return open_note(message, [self.log_verifier])
        except NoteError as error:
            raise Refusal(
                403, f"checkpoint for {origin} not signed by the log key: {error}"
            ) from None

    def _check_consistency(
        self,
        request: AddCheckpointRequest,
        checkpoint: Checkpoint,
        latest: CosignedCheckpoint | None,
    ) -> None:
        if request.old_size == 0 or request.old_size == checkpoint.size:
            if request.proof:  # nothing to prove from the empty tree, or to the same tree
                raise Refusal(422, f"a proof from size {request.old_size} must be empty")
            return
        assert latest is not None  # old_size is the cosigned size, which is not 0
        try:
            verify_consistency(
                latest.size, checkpoint.size, request.proof, latest.root, checkpoint.root_hash
            )
        except ProofError as error:
            # Not evidence: anyone can send a genuine checkpoint with a made-up proof. A log
            # that forked shows it where two checkpoints of one size carry two roots.
            raise Refusal(
                422,
                f"consistency proof from size {latest.size} to {checkpoint.size} does not verify: "
                f"{error}",
            ) from None

    def _refuse_fork(
        self, checkpoint: Checkpoint, signed: str, latest: CosignedCheckpoint
    ) -> NoReturn:
        item = {
            "kind": FORK,
            "time": self.clock(),
            "origin": self.origin,
            "checkpoint": signed,
            "cosigned": latest.to_json(),
        }
        try:
            kept = "kept" if self.state.record_evidence(item) else "already kept"
        except OSError:  # the refusal stands even if the disk does not take the evidence
            logger.exception("could not write evidence for %s to the state file", self.origin)
            kept = "NOT kept (see the error above)"
        logger.error(
            "refused checkpoint for %s: size %d root %s conflicts with cosigned size %d root %s "
            "(a fork); %s as evidence",
            self.origin,
            checkpoint.size,
            _b64(checkpoint.root_hash),
            latest.size,
            _b64(latest.root),
            kept,
        )
        raise Refusal(409, "same size, different root", cosigned_size=latest.size, logged=True)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()
