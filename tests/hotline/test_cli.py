"""``fusioncell hotline send|ack|tail`` against a real server: entries signed by the member's
own key, acknowledgements citing a verified checkpoint, and ``tail`` printing each message
only once its inclusion in the log is proven."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD
from tests.servers import serve_cell
from typer.testing import CliRunner

from fusioncell.cli import app as fusioncell_app
from fusioncell.client import ClientError
from fusioncell.client_stream import SseEvent, parse_sse
from fusioncell.config import Settings
from fusioncell.hotline.cli import hotline_app
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.labels import channel_label
from fusioncell.hotline.models import ChannelKind, Escalation, Message
from fusioncell.hotline.rules import DEFAULT_RULES, parse_rules
from fusioncell.ledger.entries import key_id
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.ledger.note import Ed25519Signer
from fusioncell.own_key import load_key_file, public_key_of

POINT = '{"type": "Point", "coordinates": [35.85, 33.15]}'
CELL = channel_label(ChannelKind.CELL.value, "Cell", "en")  # as the pages name it
# FLASH as shipped, but acknowledged within 2 s and escalated then, with no second step soon.
FAST_FLASH = """[precedence.FLASH]
delivered_seconds = 15
ack_seconds = 2
repeat_seconds = 0
ladder = [
  { after_seconds = 2, notify = ["party_duty_officer", "supervisor_duty_officer"] },
  { after_seconds = 600, notify = ["party_liaison"] },
]

"""


@pytest.fixture
def server(engine: Engine, database_url: str, settings: Settings, demo: None) -> Iterator[str]:
    """The demo cell served by a real process, signing checkpoints every second."""
    with serve_cell(database_url, settings) as (base, _process):
        yield base


def run(*args: str) -> Result:
    return CliRunner().invoke(hotline_app, list(args), env={"FUSIONCELL_PASSWORD": DEMO_PASSWORD})


def succeeded(result: Result) -> str:
    """What the command printed on standard output (its notes go to standard error)."""
    assert result.exit_code == 0, f"{result.output}{result.exception!r}"
    return result.stdout


def fusioncell(*args: str) -> str:
    """The installed command, in a process of its own, as a member runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "fusioncell.cli", *args],
        env={**os.environ, "FUSIONCELL_PASSWORD": DEMO_PASSWORD},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def enrolled_key(server: str, username: str, directory: Path) -> Path:
    """A key generated and enrolled with ``fusioncell keys``, as a member would."""
    path = directory / f"{username}.pem"
    generated = CliRunner().invoke(fusioncell_app, ["keys", "generate", "--out", str(path)])
    assert generated.exit_code == 0, generated.output
    enrolled = fusioncell(
        "keys", "enroll", "--server", server, "--user", username, "--key", str(path)
    )
    assert enrolled.startswith("enrolled key ")
    return path


def identity(path: Path) -> str:
    return key_id(public_key_of(load_key_file(path)))


def entry(engine: Engine, index: int) -> tuple[LogEntry, dict[str, Any]]:
    with Session(engine) as db:
        found, body = db.get(LogEntry, index), db.get(EntryBody, index)
        assert found is not None and body is not None
        return found, json.loads(body.body)


def send_text(server: str, key: Path, text: str, *extra: str) -> tuple[str, int]:
    output = succeeded(
        run(
            "send",
            "--server",
            server,
            "--user",
            "alpha.liaison",
            "--key",
            str(key),
            "--channel",
            "Cell",
            "--precedence",
            "FLASH",
            "--text",
            text,
            *extra,
        )
    )
    found = re.match(r"sent (\S+) as entry (\d+) \(FLASH; delivered by ", output)
    assert found is not None, output
    return found.group(1), int(found.group(2))


def test_send_and_ack_are_signed_by_own_keys_the_ack_cites_a_checkpoint_and_tail_verifies(
    server: str, engine: Engine, tmp_path: Path
) -> None:
    alpha = enrolled_key(server, "alpha.liaison", tmp_path)
    bravo = enrolled_key(server, "bravo.duty", tmp_path)

    message_id, sent_index = send_text(server, alpha, "Convoy at the crossing at 09:00")
    acked = succeeded(
        run("ack", message_id, "--server", server, "--user", "bravo.duty", "--key", str(bravo))
    )

    found = re.match(r"acknowledged (\S+) as entry (\d+), citing checkpoint (\d+)\n", acked)
    assert found is not None, acked
    assert found.group(1) == message_id
    ack_index, size = int(found.group(2)), int(found.group(3))
    sent, sent_body = entry(engine, sent_index)
    ack, ack_body = entry(engine, ack_index)
    assert (sent.entry_type, sent.custodial, sent.author_key_id) == (
        HotlineEntry.MESSAGE_SENT,
        False,
        identity(alpha),
    )
    assert (sent_body["message"], sent_body["text"]) == (
        message_id,
        "Convoy at the crossing at 09:00",
    )
    assert (ack.entry_type, ack.custodial, ack.author_key_id) == (
        HotlineEntry.MESSAGE_ACKNOWLEDGED,
        False,
        identity(bravo),
    )
    assert ack_body["message"] == message_id and ack_body["message_index"] == sent_index
    assert ack_body["checkpoint"]["size"] == size > sent_index

    tailed = succeeded(
        run(
            "tail", "--server", server, "--user", "bravo.duty", "--channel", "Cell",
            "--count", "1", "--last", "1", "--timeout", "30",
        )
    )  # fmt: skip

    assert f"FLASH [{CELL}] alpha.liaison (ALPHA): Convoy at the crossing at 09:00" in tailed
    assert f"; verified: entry {sent_index} in checkpoint " in tailed and message_id in tailed


def test_a_template_is_sent_from_its_fields_a_retry_sends_nothing_new_and_bad_fields_are_refused(
    server: str, engine: Engine, tmp_path: Path
) -> None:
    alpha = enrolled_key(server, "alpha.liaison", tmp_path)
    message_id = str(uuid.uuid4())
    args = (
        "send", "--server", server, "--user", "alpha.liaison", "--key", str(alpha),
        "--channel", "alpha / supervisor", "--precedence", "immediate",
        "--template", "medevac_request", "--id", message_id,
        "--field", "patients=2", "--field", "urgency=urgent",
        "--field", "crossing= Crossing A ", "--field", f"location={POINT}",
    )  # fmt: skip

    first = succeeded(run(*args))
    again = succeeded(run(*args))

    assert first == again and first.startswith(f"sent {message_id} as entry ")
    with Session(engine) as db:
        message = db.get(Message, uuid.UUID(message_id))
    assert message is not None
    assert message.precedence == "IMMEDIATE"
    assert message.fields == {
        "patients": 2,
        "urgency": "urgent",
        "crossing": "Crossing A",
        "location": json.loads(POINT),
    }

    refused = run(
        "send", "--server", server, "--user", "alpha.liaison", "--key", str(alpha),
        "--channel", "Cell", "--precedence", "FLASH", "--template", "medevac_request",
        "--field", "patients=0",
    )  # fmt: skip

    assert isinstance(refused.exception, ClientError)
    assert "patients: must be a whole number from 1 to 500; urgency: missing" in str(
        refused.exception
    )


def send_by_api(server: str, channel: str, text: str) -> tuple[str, int]:
    """alpha.liaison's message sent the ordinary way (custodial): its id and log index."""
    with httpx.Client(base_url=server) as http:
        token = http.post(
            "/api/v1/auth/token", json={"username": "alpha.liaison", "password": DEMO_PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        channels = {
            c["name"]: c["id"] for c in http.get("/api/v1/channels", headers=headers).json()
        }
        sent = http.post(
            f"/api/v1/channels/{channels[channel]}/messages",
            json={"precedence": "FLASH", "text": text},
            headers=headers,
        )
    assert sent.status_code == 201, sent.text
    return str(sent.json()["id"]), int(sent.json()["log_index"])


def test_an_ack_of_a_message_the_member_cannot_see_or_under_a_wrong_log_key_is_refused(
    server: str, engine: Engine, tmp_path: Path
) -> None:
    bravo = enrolled_key(server, "bravo.duty", tmp_path)
    unseen_id, _ = send_by_api(server, "ALPHA / SUPERVISOR", "For ALPHA's channel only")
    seen_id, _ = send_by_api(server, "Cell", "For everyone")
    wrong_key = Ed25519Signer("fusioncell.local/cell", bytes(range(32))).verifier().key_string()

    unseen = run("ack", unseen_id, "--server", server, "--user", "bravo.duty", "--key", str(bravo))
    forged = run(
        "ack", seen_id, "--server", server, "--user", "bravo.duty", "--key", str(bravo),
        "--log-key", wrong_key,
    )  # fmt: skip

    assert isinstance(unseen.exception, ClientError)
    assert "failed (404)" in str(unseen.exception)
    assert isinstance(forged.exception, ClientError)
    assert "the checkpoint does not verify with the log key" in str(forged.exception)
    with engine.connect() as connection:
        acks = connection.scalars(
            select(LogEntry.index).where(
                LogEntry.entry_type == HotlineEntry.MESSAGE_ACKNOWLEDGED.value
            )
        ).all()
    assert acks == []


def test_tail_follows_new_messages_live_or_polling_and_prints_each_once_verified(
    server: str,
) -> None:
    for how, args in (("live", []), ("polling", ["--poll"])):
        with tailing(
            server, "--channel", "Cell", "--count", "2", "--last", "0", "--timeout", "60", *args
        ) as tail:
            tail.wait_for(f"({how}); Ctrl-C to stop")
            first_id, first_index = send_by_api(server, "Cell", f"First while tailing {how}")
            second_id, second_index = send_by_api(server, "Cell", f"Second while tailing {how}")
            output = tail.finish()

        lines = output.splitlines()
        assert len(lines) == 2, output
        assert f"First while tailing {how}" in lines[0] and first_id in lines[0]
        assert f"Second while tailing {how}" in lines[1] and second_id in lines[1]
        assert f"; verified: entry {first_index} in checkpoint " in lines[0]
        assert f"; verified: entry {second_index} in checkpoint " in lines[1]


@pytest.fixture
def fast_server(
    engine: Engine, database_url: str, settings: Settings, demo: None, tmp_path: Path
) -> Iterator[str]:
    """``server``, under a policy whose FLASH acknowledgement deadline passes in 2 s."""
    text, replaced = re.subn(
        r"\[precedence\.FLASH\].*?(?=\[precedence\.)",
        FAST_FLASH,
        DEFAULT_RULES.read_text(),
        flags=re.S,
    )
    assert replaced == 1
    assert parse_rules(tomllib.loads(text)).rule("FLASH").ack.total_seconds() == 2
    policy = tmp_path / "hotline-policy.toml"
    policy.write_text(text)
    env = {"FUSIONCELL_HOTLINE_POLICY": str(policy)}
    with serve_cell(database_url, settings, env=env) as (base, _process):
        yield base


def escalated(engine: Engine, message_id: str, step: int) -> Escalation:
    """The escalation ``step`` of the message once the server's engine has written it."""
    deadline = time.monotonic() + 30
    while True:
        with Session(engine) as db:
            found = db.scalar(
                select(Escalation).where(
                    Escalation.message_id == uuid.UUID(message_id), Escalation.step == step
                )
            )
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"no escalation step {step} of {message_id}"
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["live", "polling"])
def test_tail_shows_a_missed_deadline_and_the_late_acknowledgement_as_they_happen(
    fast_server: str, engine: Engine, how: str
) -> None:
    args = ["--poll"] if how == "polling" else []
    with tailing(
        fast_server, "--channel", CELL, "--count", "3", "--last", "0", "--timeout", "60", *args
    ) as tail:
        tail.wait_for(f"({how}); Ctrl-C to stop")
        message_id, sent_index = send_by_api(fast_server, "Cell", f"Convoy held ({how})")
        escalation = escalated(engine, message_id, step=1)
        ack = ack_by_api(fast_server, "bravo.duty", message_id)
        output = tail.finish()

    sent, escalation_line, ack_line = output.splitlines()
    assert f"FLASH [{CELL}] alpha.liaison (ALPHA): Convoy held ({how})  (deliver by " in sent
    assert ", acknowledge by " in sent and f"verified: entry {sent_index} in " in sent
    about = f'FLASH from alpha.liaison (ALPHA) "Convoy held ({how})" (id {message_id})'
    assert f"ESCALATION step 1 [{CELL}] BRAVO has not acknowledged {about}, due by " in (
        escalation_line
    )
    assert "; notifying party duty officer, supervisor duty officer  (verified: entry " in (
        escalation_line
    )
    assert f"(verified: entry {escalation.log_index} in checkpoint " in escalation_line
    assert f"ACK [{CELL}] BRAVO (bravo.duty) acknowledged {about}, late: it was due by " in (
        ack_line
    )
    assert f"(verified: entry {ack['log_index']} in checkpoint " in ack_line


def ack_by_api(server: str, username: str, message_id: str) -> dict[str, Any]:
    """``username``'s acknowledgement, the ordinary way (custodial)."""
    with httpx.Client(base_url=server) as http:
        token = http.post(
            "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
        ).json()["access_token"]
        acked = http.post(
            f"/api/v1/messages/{message_id}/ack", headers={"Authorization": f"Bearer {token}"}
        )
    assert acked.status_code == 201, acked.text
    body: dict[str, Any] = acked.json()
    return body


class Tail:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.errors: list[str] = []
        self._reader = threading.Thread(target=self._read_errors, daemon=True)
        self._reader.start()

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line)

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + 30
        while not any(text in line for line in self.errors):
            assert self.process.poll() is None, "".join(self.errors)
            assert time.monotonic() < deadline, "".join(self.errors)
            time.sleep(0.05)

    def finish(self) -> str:
        output, _ = self.process.communicate(timeout=60)
        self._reader.join(timeout=5)
        assert self.process.returncode == 0, output + "".join(self.errors)
        return output


@contextmanager
def tailing(server: str, *args: str) -> Iterator[Tail]:
    process = subprocess.Popen(
        [sys.executable, "-m", "fusioncell.hotline.cli", "tail", "--server", server, "--user",
         "bravo.duty", *args],
        env={**os.environ, "FUSIONCELL_PASSWORD": DEMO_PASSWORD},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        yield Tail(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_server_sent_events_are_parsed_with_ids_kinds_multiline_data_and_comments() -> None:
    lines = [
        ": after 0",
        "retry: 2000",
        "",
        "id: 7",
        "event: message",
        'data: {"a":',
        "data: 1}",
        "",
        ":ping",
        "",
        "data: no kind",
        "",
    ]

    assert list(parse_sse(lines)) == [
        SseEvent("7", "message", '{"a":\n1}'),
        SseEvent("7", "message", "no kind"),
    ]
