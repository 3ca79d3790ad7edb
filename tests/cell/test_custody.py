"""Key custody cannot strand a member: revoking the key the server holds issues a fresh one.

The audit: after ``POST /api/v1/keys/{own}/revoke``, logout, password change, language change
and reading an undelivered message all answered 422 unknown-key, and no route issued a new
custodial key.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD
from tests.helpers.verifying import verify_database

from fusioncell.cell.entries import CellEntry
from fusioncell.clock import ManualClock
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.ledger.actions import do_sign_checkpoint
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogEntry, LogKey

Headers = Callable[[str], dict[str, str]]


def _custodial_keys(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    keys = client.get("/api/v1/keys", headers=headers).json()
    return [key for key in keys if key["custodial"]]


def test_revoking_ones_own_custodial_key_issues_a_fresh_one_and_every_account_action_works(
    client: TestClient, token_for: Headers, db: Session, settings: object
) -> None:
    bravo = token_for("bravo.liaison")
    message = client.post(
        f"/api/v1/channels/{CELL_CHANNEL_ID}/messages",
        json={"precedence": "ROUTINE", "text": "Not yet delivered to BRAVO."},
        headers=token_for("alpha.liaison"),
    ).json()
    [old] = _custodial_keys(client, bravo)

    revoked = client.post(f"/api/v1/keys/{old['key_id']}/revoke", headers=bravo)

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_index"] is not None
    [fresh] = [k for k in _custodial_keys(client, bravo) if k["revoked_index"] is None]
    assert fresh["key_id"] != old["key_id"]
    # Everything the audit found refused now works, signed with the fresh key (a delivery
    # is the log's own statement, signed by the log's key).
    read = client.get(f"/api/v1/messages/{message['id']}", headers=bravo)
    assert read.status_code == 200, read.text
    assert (
        client.put("/api/v1/me/language", json={"language": "he"}, headers=bravo).status_code == 204
    )
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": DEMO_PASSWORD, "new_password": "a-brand-new-password"},
        headers=bravo,
    )
    assert changed.status_code in {200, 204}, changed.text
    db.rollback()
    authors = set(
        db.scalars(
            select(LogEntry.author_key_id).where(
                LogEntry.entry_type.in_(
                    [CellEntry.LANGUAGE_SET.value, CellEntry.PASSWORD_CHANGED.value]
                ),
                LogEntry.index > revoked.json()["revoked_index"],
            )
        )
    )
    assert authors == {fresh["key_id"]}
    db.rollback()
    assert db.get(LogKey, fresh["key_id"]).sealed_seed is not None  # type: ignore[union-attr]


def test_the_operator_revoking_a_members_custodial_key_leaves_the_member_able_to_log_out(
    client: TestClient, token_for: Headers, db: Session
) -> None:
    member = token_for("hum1.coordinator")
    [old] = _custodial_keys(client, member)

    revoked = client.post(f"/api/v1/keys/{old['key_id']}/revoke", headers=token_for("cell.admin"))
    logged_out = client.delete("/api/v1/auth/token", headers=member)

    assert revoked.status_code == 200
    assert logged_out.status_code == 204, logged_out.text
    assert client.get("/api/v1/me", headers=member).status_code == 401


def test_the_log_still_verifies_after_custodial_keys_are_revoked_and_reissued(
    client: TestClient,
    token_for: Headers,
    db: Session,
    engine: Engine,
    ledger: LedgerContext,
    clock: ManualClock,
) -> None:
    bravo = token_for("bravo.liaison")
    for _round in range(2):
        [current] = [k for k in _custodial_keys(client, bravo) if k["revoked_index"] is None]
        assert client.post(f"/api/v1/keys/{current['key_id']}/revoke", headers=bravo).is_success
    client.put("/api/v1/me/language", json={"language": "ar"}, headers=bravo)
    db.rollback()
    do_sign_checkpoint(db, now=clock.now())

    report = verify_database(engine, ledger)

    assert report.ok, report.summary()
