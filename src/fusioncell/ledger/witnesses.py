"""Pushing checkpoints to the parties' witnesses (C2SP tlog-witness ``add-checkpoint``)."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusioncell.ledger import tree
from fusioncell.ledger.actions import do_keep_cosignature
from fusioncell.ledger.append import DbHashReader
from fusioncell.ledger.checkpoint import CosignatureVerifier
from fusioncell.ledger.errors import CheckpointError, NoteError
from fusioncell.ledger.models import LogCheckpoint, LogCosignature

log = logging.getLogger("fusioncell.witnesses")


@dataclass(frozen=True)
class Witness:
    verifier: CosignatureVerifier
    url: str

    @property
    def name(self) -> str:
        return self.verifier.name


def parse_witnesses(spec: str) -> list[Witness]:
    """``"<verifier key> <url>; <verifier key> <url>"`` as in ``FUSIONCELL_WITNESSES``."""
    witnesses = []
    for part in spec.split(";"):
        if not part.strip():
            continue
        try:
            vkey, url = part.split()
            witnesses.append(Witness(CosignatureVerifier.from_key_string(vkey), url.rstrip("/")))
        except (ValueError, NoteError) as exc:
            raise ValueError(f"FUSIONCELL_WITNESSES: cannot read {part.strip()!r}: {exc}") from None
    return witnesses


def add_checkpoint_request(old_size: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def _last_cosigned_size(db: Session, witness: Witness) -> int:
    size = db.scalar(
        select(func.max(LogCosignature.size)).where(LogCosignature.witness == witness.name)
    )
    return int(size or 0)


def push(
    db: Session, client: httpx.Client, witness: Witness, checkpoint: LogCheckpoint, *, now: datetime
) -> bool:
    """Ask one witness to cosign; keep the cosignature. Returns whether it cosigned."""
    old = _last_cosigned_size(db, witness)
    for _attempt in range(2):
        proof = (
            tree.prove_tree(checkpoint.size, old, DbHashReader(db))
            if 0 < old < checkpoint.size
            else []
        )
        db.rollback()
        try:
            response = client.post(
                f"{witness.url}/add-checkpoint",
                content=add_checkpoint_request(old, proof, checkpoint.note),
            )
        except httpx.HTTPError as exc:
            log.warning("witness %s unreachable: %s", witness.name, exc)
            return False
        if response.status_code == 409 and response.headers.get("content-type", "").startswith(
            "text/x.tlog.size"
        ):
            old = int(response.text.strip())  # the witness saw a different size: retry from it
            continue
        if response.status_code != 200:
            log.warning(
                "witness %s refused checkpoint %d: %d %s",
                witness.name,
                checkpoint.size,
                response.status_code,
                response.text.strip()[:200],
            )
            return False
        kept = False
        for line in response.text.splitlines():
            if not line.strip():
                continue
            try:
                do_keep_cosignature(
                    db, size=checkpoint.size, witness=witness.verifier, line=line, now=now
                )
                kept = True
            except CheckpointError as exc:
                log.warning("%s", exc)
        return kept
    return False
