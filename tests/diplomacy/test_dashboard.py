"""The diplomatic dashboard over the demo's mirrored story: the same figures for both parties
on one scale, the CSV (a header row, no cell a spreadsheet reads as a formula) and the
printable HTML page whose content the log's key signs."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fusioncell.clock import ManualClock
from fusioncell.diplomacy import dashboard as exports
from fusioncell.diplomacy.page_data import FIGURES, Dashboard, Row
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.errors import NoteError
from fusioncell.ledger.note import Ed25519Verifier, open_note
from fusioncell.scenario.diplomacy_story import STORY_SPAN, load_diplomacy_story

LogIn = Callable[..., str]
HTML = {"Accept": "text/html"}


def _story(db: Session, clock: ManualClock) -> None:
    start = clock.now()
    load_diplomacy_story(db, start=start)
    db.commit()
    clock.current = start + STORY_SPAN


def _figures(html: str, party: str) -> dict[str, int]:
    row = html[html.index(f'<tr data-party="{party}">') :]
    row = row[: row.index("</tr>")]
    found = {}
    for figure in FIGURES:
        at = row.index(f'data-figure="{figure}" data-value="') + len(
            f'data-figure="{figure}" data-value="'
        )
        found[figure] = int(row[at : row.index('"', at)])
    return found


def test_the_mirrored_story_gives_both_parties_the_same_figures_and_the_exports_agree(
    client: TestClient, db: Session, clock: ManualClock, log_in: LogIn, ledger: LedgerContext
) -> None:
    _story(db, clock)
    log_in("supervisor.chair")
    html = client.get("/agreements/dashboard", headers=HTML).text
    alpha, bravo = _figures(html, "ALPHA"), _figures(html, "BRAVO")
    # Mirrored in what was assessed; the open milestones are each commitment's own
    # (ALPHA's withdrawal has three phases).
    assessed = ("met", "partially_met", "breached", "late")
    assert {f: alpha[f] for f in assessed} == {f: bravo[f] for f in assessed}
    assert alpha["met"] >= 1 and alpha["breached"] == 1 and alpha["partially_met"] == 1
    assert alpha["open"] >= 1

    answer = client.get("/agreements/dashboard.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == list(exports.HEADER)
    keys = {r[2] for r in rows[1:] if len(r) == len(exports.HEADER)}
    assert {"C2", "C3"} <= keys and any(k.startswith("C1") for k in keys)
    per_party = {r[0]: r[1:] for r in rows if r and r[0] in ("ALPHA", "BRAVO")}
    assert per_party["ALPHA"] == [str(alpha[f]) for f in FIGURES]
    assert per_party["BRAVO"] == [str(bravo[f]) for f in FIGURES]

    page = client.get("/agreements/dashboard.html")
    assert page.status_code == 200 and "<script" not in page.text and "@media print" in page.text
    content = exports.content_of(page.text)
    assert content is not None and "C3" in content
    # As the README checks a copy.
    found = re.search(r'<pre id="signed-note">(.*?)</pre>', page.text, re.S)
    assert found is not None
    note = unescape(found.group(1))
    key = Ed25519Verifier.from_key_string(ledger.keyring.log_signer.verifier().key_string())
    opened = open_note(note.encode(), [key])
    assert opened.text.startswith(exports.NOTE_TITLE + "\n")
    assert exports.content_hash_in(opened.text) == hashlib.sha256(content.encode()).hexdigest()
    assert "log size " in opened.text
    tampered = note.replace("sha256 ", "sha256 0", 1)
    with pytest.raises(NoteError):
        open_note(tampered.encode(), [key])


def test_a_cell_that_reads_as_a_formula_is_written_as_text() -> None:
    row = Row(
        agreement=uuid.uuid4(),
        agreement_title="=HYPERLINK(1)",
        key="C9",
        debtor="ALPHA",
        beneficiaries=["BRAVO"],
        obligation="+1 more",
        next_key=None,
        next_title=None,
        next_due=None,
        next_status=None,
        assessed=0,
        outcomes=[],
        evidence=[],
    )
    board = Dashboard([row], {"ALPHA": dict.fromkeys(FIGURES, 0)}, 1, datetime.now(UTC))
    [header, line, *_] = list(csv.reader(io.StringIO(exports.as_csv(board))))
    assert header == list(exports.HEADER)
    assert line[1] == "'=HYPERLINK(1)" and line[5] == "'+1 more"
