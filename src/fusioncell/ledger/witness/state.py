"""The witness's memory: what it cosigned per origin, the pinned log key, and evidence.

One JSON file, replaced whole through a temporary file, fsync, rename and an fsync of the
directory, so that a crash at any point leaves either the old state or the new one: a witness
that came back with an older size could be led to cosign a fork.

Evidence is kept whole and for good: each item is a pair of checkpoints the log's key signed
for one size with two roots, so only the log (or whoever holds its key) can add one, and each
pair is kept once however often it is sent. Version 1 files also kept "inconsistent" items,
a checkpoint that came with a proof that did not verify: anyone can send that with a genuine
checkpoint and a made-up proof, so it proves nothing, and loading such a file drops them.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fusioncell.ledger.checkpoint import MAX_TREE_SIZE, Checkpoint, parse_checkpoint
from fusioncell.ledger.errors import CheckpointError, NoteError
from fusioncell.ledger.note import decode_base64, parse_note
from fusioncell.ledger.tree import HASH_SIZE

STATE_VERSION = 2
FORK = "fork"


class WitnessStateError(Exception):
    """The state file cannot be read as this witness wrote it."""


@dataclass(frozen=True)
class CosignedCheckpoint:
    size: int
    root: bytes
    checkpoint: str  # the signed note: checkpoint text and the log's verified signature(s)

    def to_json(self) -> dict[str, Any]:
        root = base64.b64encode(self.root).decode()
        return {"size": self.size, "root": root, "checkpoint": self.checkpoint}


class WitnessState:
    """The witness's memory: one JSON file, replaced whole and durably on every change.

    ``lock`` must be held from reading ``latest`` to the save that follows, so that checking
    a request's old size and recording its new one are one step.
    """

    def __init__(
        self,
        path: Path,
        *,
        log_key: str | None = None,
        logs: dict[str, CosignedCheckpoint] | None = None,
        evidence: list[dict[str, Any]] | None = None,
    ) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._log_key = log_key
        self._logs = dict(logs or {})
        self._evidence = list(evidence or [])
        self._evidence_keys = {fork_key(item) for item in self._evidence}

    @classmethod
    def load(cls, path: Path) -> WitnessState:
        """The state in ``path``, or an empty one if there is no file yet (it is written later)."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path)
        except OSError as error:
            raise WitnessStateError(f"cannot read state file {path}: {error.strerror}") from None
        try:
            data = json.loads(raw)
            if data["version"] not in (1, STATE_VERSION):
                raise WitnessStateError(f"state file {path} has unknown version {data['version']}")
            log_key = data["log_key"]
            if log_key is not None and not isinstance(log_key, str):
                raise TypeError("log_key")
            logs = {origin: _cosigned_from_json(item) for origin, item in data["logs"].items()}
            evidence = data["evidence"]
            if not isinstance(evidence, list) or not all(isinstance(e, dict) for e in evidence):
                raise TypeError("evidence")
            if data["version"] == 1:
                evidence = [item for item in evidence if item.get("kind") == FORK]
            for item in evidence:
                fork_key(item)  # each item must be a readable pair
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            detail = f"no {error}" if isinstance(error, KeyError) else str(error)
            raise WitnessStateError(f"state file {path} is corrupt ({detail})") from None
        return cls(path, log_key=log_key, logs=logs, evidence=evidence)

    @property
    def log_key(self) -> str | None:
        return self._log_key

    @property
    def evidence(self) -> list[dict[str, Any]]:
        return list(self._evidence)

    def latest(self, origin: str) -> CosignedCheckpoint | None:
        return self._logs.get(origin)

    def pin_log_key(self, vkey: str) -> None:
        with self.lock:
            self._save(log_key=vkey)
            self._log_key = vkey

    def record_cosigned(self, origin: str, cosigned: CosignedCheckpoint) -> None:
        """Durably remember ``cosigned``; the caller holds ``lock``."""
        logs = {**self._logs, origin: cosigned}
        self._save(logs=logs)
        self._logs = logs

    def record_evidence(self, item: dict[str, Any]) -> bool:
        """Durably keep a fork, once; the caller holds ``lock``. Whether it was new."""
        key = fork_key(item)
        if key in self._evidence_keys:
            return False
        evidence = [*self._evidence, item]
        self._save(evidence=evidence)
        self._evidence = evidence
        self._evidence_keys.add(key)
        return True

    def _save(
        self,
        *,
        log_key: str | None = None,
        logs: dict[str, CosignedCheckpoint] | None = None,
        evidence: list[dict[str, Any]] | None = None,
    ) -> None:
        data = {
            "version": STATE_VERSION,
            "log_key": log_key if log_key is not None else self._log_key,
            "logs": {o: c.to_json() for o, c in (logs if logs is not None else self._logs).items()},
            "evidence": evidence if evidence is not None else self._evidence,
        }
        write_durably(self.path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def write_durably(path: Path, content: bytes) -> None:
    """Replace ``path`` so that a crash leaves the old file or the new one, never a mix or none."""
    directory = path.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)  # the rename itself is durable only once the directory is
    finally:
        os.close(directory_fd)


def fork_key(item: dict[str, Any]) -> tuple[str, int, frozenset[bytes]]:
    """What a fork item proves: one origin, one size, two roots (in either order), read from
    the two signed notes themselves, so that the same fork is the same key however it came."""
    if item.get("kind") != FORK:
        raise ValueError("evidence that is not a fork")
    checkpoints = [
        _checkpoint_in(item["checkpoint"]),
        _checkpoint_in(item["cosigned"]["checkpoint"]),
    ]
    origins = {c.origin for c in checkpoints}
    sizes = {c.size for c in checkpoints}
    roots = frozenset(c.root_hash for c in checkpoints)
    if len(origins) != 1 or len(sizes) != 1 or len(roots) != 2:
        raise ValueError("evidence that is not one size with two roots")
    return origins.pop(), sizes.pop(), roots


def _checkpoint_in(note: Any) -> Checkpoint:
    if not isinstance(note, str):
        raise TypeError("evidence checkpoint")
    try:
        return parse_checkpoint(parse_note(note.encode())[0])
    except (NoteError, CheckpointError) as error:
        raise ValueError(f"evidence checkpoint: {error}") from None


def _cosigned_from_json(item: Any) -> CosignedCheckpoint:
    size, root, checkpoint = item["size"], item["root"], item["checkpoint"]
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_TREE_SIZE:
        raise ValueError("bad size")
    if not isinstance(checkpoint, str):
        raise TypeError("checkpoint")
    digest = decode_base64(root)
    if len(digest) != HASH_SIZE:
        raise ValueError("bad root")
    return CosignedCheckpoint(size, digest, checkpoint)
