"""``fusioncell intel submit|export`` against a real server: a bundle submitted with the member's
own key is signed by that key (the server records exactly the body the client built), one
without a key is signed by custody; a retry with the same id adds nothing; ``export`` writes
exactly what is released to the member; refusals are one line."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD
from tests.hotline.test_cli import enrolled_key, entry, identity
from tests.intel.factories import located_report
from tests.servers import serve_cell
from typer.testing import CliRunner, Result

from fusioncell.cli import app as fusioncell_app
from fusioncell.client import ClientError
from fusioncell.config import Settings
from fusioncell.intel.entries import IntelEntry
from fusioncell.intel.models import Report

SUBMITTED = re.compile(
    r"submitted (\S+) as entry (\d+) \((\w+), TLP:([A-Z+]+); released to ([^)]*)\)\n"
)


@pytest.fixture
def server(engine: Engine, database_url: str, settings: Settings, demo: None) -> Iterator[str]:
    with serve_cell(database_url, settings) as (base, _process):
        yield base


def run(*args: str) -> Result:
    return CliRunner().invoke(
        fusioncell_app, ["intel", *args], env={"FUSIONCELL_PASSWORD": DEMO_PASSWORD}
    )


def submitted(result: Result) -> re.Match[str]:
    assert result.exit_code == 0, f"{result.output}{result.exception!r}"
    found = SUBMITTED.fullmatch(result.stdout)
    assert found is not None, result.stdout
    return found


def reports(engine: Engine) -> int:
    with Session(engine) as db:
        return int(db.scalar(select(func.count()).select_from(Report)) or 0)


def test_submit_signs_with_the_members_own_key_or_by_custody_and_a_retry_adds_nothing(
    server: str, engine: Engine, tmp_path: Path
) -> None:
    key = enrolled_key(server, "alpha.analyst", tmp_path)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(located_report()))
    common = ("--server", server, "--user", "alpha.analyst")
    report_id = str(uuid.uuid4())

    own = submitted(
        run("submit", str(path), *common, "--release-to", "bravo", "--grade", "B2",
            "--tlp", "green", "--key", str(key), "--id", report_id)
    )  # fmt: skip
    assert (own.group(1), own.group(3), own.group(4)) == (report_id, "B2", "GREEN")
    assert own.group(5) == "ALPHA, BRAVO, SUPERVISOR"
    signed, body = entry(engine, int(own.group(2)))
    assert (signed.entry_type, signed.custodial, signed.author_key_id) == (
        IntelEntry.REPORT_SUBMITTED,
        False,
        identity(key),
    )
    assert body["report"] == report_id and body["grade"] == "B2"
    assert body["released_to"] == ["ALPHA", "BRAVO", "SUPERVISOR"]
    count = reports(engine)

    again = submitted(
        run("submit", str(path), *common, "--release-to", "bravo", "--grade", "B2",
            "--tlp", "green", "--key", str(key), "--id", report_id)
    )  # fmt: skip
    assert again.group(2) == own.group(2) and reports(engine) == count

    other = tmp_path / "other.json"
    other.write_text(json.dumps(located_report()))
    custody = submitted(run("submit", str(other), *common, "--grade", "C3"))
    held, held_body = entry(engine, int(custody.group(2)))
    assert (held.entry_type, held.custodial) == (IntelEntry.REPORT_SUBMITTED, True)
    assert held_body["released_to"] == ["ALPHA", "SUPERVISOR"] and custody.group(4) == "AMBER"


def test_submit_takes_many_bundles_each_a_report_in_one_request(
    server: str, engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "bundles"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n}.json").write_text(json.dumps(located_report(f"Folder report {n}")))
    lines = tmp_path / "more.jsonl"
    lines.write_text("\n".join(json.dumps(located_report(f"Line {n}")) for n in range(2)) + "\n")
    count = reports(engine)
    result = run(
        "submit", str(folder), str(lines), "--server", server, "--user", "alpha.analyst",
        "--release-to", "BRAVO", "--grade", "B2",
    )  # fmt: skip
    assert result.exit_code == 0, f"{result.output}{result.exception!r}"
    assert result.stdout.count("submitted ") == 6 and "submitted 5 bundles" in result.stdout
    assert f"{lines}:2 as " in result.stdout
    assert reports(engine) == count + 5
    with Session(engine) as db:
        titles = set(db.scalars(select(Report.title)))
    assert {"Folder report 0", "Folder report 2", "Line 1"} <= titles

    # One bad bundle refuses its request: nothing of it is written, and it is named.
    (folder / "3.json").write_text(json.dumps({"type": "bundle", "objects": [{"type": 7}]}))
    refused = run("submit", str(folder), "--server", server, "--user", "alpha.analyst")
    assert refused.exit_code != 0 and isinstance(refused.exception, ClientError)
    message = str(refused.exception)
    assert "bundle 3: invalid STIX" in message and "3.json" in message and "\n" not in message
    assert reports(engine) == count + 5


def test_export_writes_exactly_what_is_released_to_the_member(server: str, tmp_path: Path) -> None:
    shared, private = tmp_path / "shared.json", tmp_path / "private.json"
    shared_bundle, private_bundle = located_report(), located_report()
    shared.write_text(json.dumps(shared_bundle))
    private.write_text(json.dumps(private_bundle))
    alpha = ("--server", server, "--user", "alpha.liaison")
    submitted(run("submit", str(shared), *alpha, "--release-to", "BRAVO", "--grade", "B2"))
    submitted(run("submit", str(private), *alpha, "--grade", "B2"))

    out = tmp_path / "bravo.json"
    done = run("export", "--server", server, "--user", "bravo.analyst", "--out", str(out))
    assert done.exit_code == 0, done.output
    exported = json.loads(out.read_text())
    assert exported["type"] == "bundle"
    ids = {o["id"] for o in exported["objects"]}
    assert {o["id"] for o in shared_bundle["objects"]} <= ids
    # (The two share their source identity; the rest of the private one must not leave.)
    private_ids = {o["id"] for o in private_bundle["objects"] if o["type"] != "identity"}
    assert private_ids and not private_ids & ids
    assert done.stdout == f"wrote {len(exported['objects'])} objects to {out}\n"


def test_refusals_are_one_line_and_write_nothing(
    server: str, engine: Engine, tmp_path: Path
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(located_report()))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    alpha = ("--server", server, "--user", "alpha.analyst")
    before = reports(engine)
    cases = [
        (run("submit", str(bad), *alpha), "is not JSON"),
        (run("submit", str(good), *alpha, "--release-to", "NOBODY"), "no organisation 'NOBODY'"),
        (run("submit", str(good), *alpha, "--grade", "Z9"), "grade"),
        (run("submit", str(good), "--server", server, "--user", "alpha.duty"), "(403)"),
        (run("submit", str(tmp_path / "missing.json"), *alpha), "cannot read"),
    ]
    for result, said in cases:
        assert result.exit_code != 0
        assert isinstance(result.exception, ClientError), result.output
        message = str(result.exception)
        assert said in message and "\n" not in message, message
    assert reports(engine) == before
