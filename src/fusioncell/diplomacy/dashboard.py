"""The dashboard's exports: a CSV of every commitment the viewer reads, and a self-contained,
printable HTML page that carries the log's signature over its content.

The HTML's content lies between ``<!--dashboard-content-->`` and ``<!--/dashboard-content-->``;
after it, a C2SP signed note by the log's key states that content's SHA-256, the log's size
when it was made and the newest checkpoint it reflects. Anyone with the log's public key
(``/api/v1/log/key``) checks it: hash the bytes between the markers, compare with the note,
and open the note with the key (``fusioncell.ledger.note.open_note``, or Go's
``sumdb/note``). The note's first line names what it signs, so it never reads as a
checkpoint."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.diplomacy.page_data import FIGURES, Dashboard
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.note import sign_note
from fusioncell.ledger.queries import current_size, newest_checkpoint

NOTE_TITLE = "fusioncell diplomacy dashboard"
START, END = "<!--dashboard-content-->", "<!--/dashboard-content-->"
HEADER = (
    "agreement",
    "agreement_title",
    "commitment",
    "debtor",
    "beneficiaries",
    "obligation",
    "next_milestone",
    "next_milestone_title",
    "next_due_at",
    "next_status",
    "assessed",
    "outcomes",
    "evidence",
)
# A cell a spreadsheet would read as a formula starts with one of these: such text is
# written after an apostrophe (OWASP's advice for CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_CONTENT = re.compile(re.escape(START) + "(.*)" + re.escape(END), re.S)
_HASH = re.compile(r"^sha256 ([0-9a-f]{64})$", re.M)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = " ".join(str(value).split())
    return "'" + text if text.startswith(_FORMULA) else text


def csv_rows(found: Dashboard) -> Iterable[list[str]]:
    yield list(HEADER)
    for r in found.rows:
        yield [
            _cell(x)
            for x in (
                str(r.agreement),
                r.agreement_title,
                r.key,
                r.debtor,
                " ".join(r.beneficiaries),
                r.obligation,
                r.next_key,
                r.next_title,
                r.next_due.isoformat() if r.next_due else None,
                r.next_status,
                r.assessed,
                "; ".join(f"{key}: {outcome}" for key, outcome in r.outcomes),
                " ".join(r.evidence),
            )
        ]
    yield []
    yield ["party", *FIGURES]
    for party, figures in found.parties.items():
        yield [_cell(party), *(str(figures[f]) for f in FIGURES)]


def as_csv(found: Dashboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv_rows(found):
        writer.writerow(row)
    return out.getvalue()


def signed_note(db: Session, content: str) -> str:
    """The log key's signed note over ``content``: its SHA-256, the log's size and the
    newest checkpoint's size and root."""
    keyring = ledger_context(db).keyring
    checkpoint = newest_checkpoint(db)
    lines = [
        NOTE_TITLE,
        keyring.log_signer.name,
        f"sha256 {hashlib.sha256(content.encode()).hexdigest()}",
        f"log size {current_size(db)}",
    ]
    if checkpoint is not None:
        lines.append(f"checkpoint {checkpoint.size} {checkpoint.root.hex()}")
    return sign_note("\n".join(lines) + "\n", [keyring.log_signer]).decode()


def content_of(page: str) -> str | None:
    """The signed content of an exported page, as the note hashes it."""
    found = _CONTENT.search(page)
    return found.group(1) if found else None


def content_hash_in(note_text: str) -> str | None:
    found = _HASH.search(note_text)
    return found.group(1) if found else None
