"""The CoT track's entries, told once: a member's certificate issued, an event received
from their client and kept, the certificate revoked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session
from tests.cot.samples import spot_marker

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.cot import ca
from fusioncell.cot.actions.certificates import do_issue_certificate, do_revoke_certificates
from fusioncell.cot.actions.events import Received, do_receive_event
from fusioncell.cot.parse import parse_event


def tell_story(
    db: Session, viewer: Callable[[str], Viewer], clock: ManualClock, *, key_dir: Path
) -> Received:
    authority = ca.load_or_create_authority(key_dir, cell="cell", now=clock.now())
    admin = viewer("cell.admin")
    do_issue_certificate(db, admin, username="alpha.liaison", authority=authority, now=clock.now())
    received = do_receive_event(
        db,
        viewer("alpha.liaison"),
        parse_event(spot_marker("marker-1", now=clock.now())),
        now=clock.now(),
    )
    do_revoke_certificates(db, admin, username="alpha.liaison", now=clock.now())
    return received
