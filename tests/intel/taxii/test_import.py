"""``fusioncell taxii import``: a medallion memory-backend file moves over, run as the real
command; its API roots are served at their paths to the named members with the collections'
rights, objects keep their date_added as written, STIX 2.0 versions keep their media type."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from taxii2client.v21 import Server  # type: ignore[import-untyped]
from tests.intel.factories import indicator
from tests.intel.taxii.helpers import PASSWORD, TAXII, basic, envelope, posting
from tests.servers import serve_in_thread

from fusioncell.config import Settings
from fusioncell.intel.taxii.models import TaxiiObject
from fusioncell.ledger.models import LogEntry

pytestmark = pytest.mark.long


READABLE = "0b8e5f3c-5d2e-4c61-9a3e-7c1d2e3f4a50"
HIDDEN = "5a6b7c8d-1e2f-4a3b-8c4d-9e0f1a2b3c4d"
MALWARE = "malware--2c4e6a8b-1d3f-4b5a-9c7e-0f2a4c6e8b1d"


def medallion_file() -> dict[str, Any]:
    """A data file as medallion 3.0's memory backend keeps it."""
    v21 = {
        "type": "malware",
        "spec_version": "2.1",
        "id": MALWARE,
        "created": "2019-03-01T10:00:00.000Z",
        "modified": "2019-03-01T10:00:00.000Z",
        "name": "Dropper",
        "is_family": True,
    }
    v20 = {
        "type": "malware",
        "id": MALWARE,
        "created": "2019-03-01T10:00:00.000Z",
        "modified": "2020-05-05T05:05:05.500Z",
        "name": "Dropper",
        "labels": ["trojan"],
    }
    return {
        "/discovery": {
            "title": "Team TAXII",
            "description": "Our medallion",
            "contact": "soc@example.org",
            "default": "http://localhost:5000/shared/",
            "api_roots": ["http://localhost:5000/shared/", "http://localhost:5000/empty/"],
        },
        "shared": {
            "information": {
                "title": "Shared intelligence",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 500000,
            },
            "status": [
                {
                    "id": "9d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
                    "status": "complete",
                    "request_timestamp": "2020-01-01T00:00:00.000000Z",
                    "total_count": 1,
                    "success_count": 1,
                    "successes": [{"id": MALWARE, "version": "2019-03-01T10:00:00.000Z"}],
                    "failure_count": 0,
                    "failures": [],
                    "pending_count": 0,
                    "pendings": [],
                }
            ],
            "collections": [
                {
                    "id": READABLE,
                    "title": "Malware",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [v21, v20],
                    "manifest": [
                        {
                            "id": MALWARE,
                            "date_added": "2019-03-01T10:00:01.123456Z",
                            "version": "2019-03-01T10:00:00.000Z",
                            "media_type": "application/stix+json;version=2.1",
                        },
                        {
                            "id": MALWARE,
                            "date_added": "2020-05-05T05:05:06Z",
                            "version": "2020-05-05T05:05:05.500Z",
                            "media_type": "application/stix+json;version=2.0",
                        },
                    ],
                },
                {
                    "id": HIDDEN,
                    "title": "Write only",
                    "can_read": False,
                    "can_write": False,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                },
            ],
        },
        "empty": {"information": {"title": "Nothing yet", "versions": []}, "collections": []},
    }


def run_import(path: Path, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "FUSIONCELL_PASSWORD_HASH_PROFILE": "fast-insecure",
        "FUSIONCELL_KEY_DIR": str(settings.key_dir),
    }
    return subprocess.run(
        [
            *(sys.executable, "-m", "fusioncell.cli", "taxii", "import", str(path), *args),
            *("--database-url", settings.database_url),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


@pytest.fixture
def imported(tmp_path: Path, settings: Settings, demo: None) -> Iterator[Path]:
    path = tmp_path / "default_data.json"
    path.write_text(json.dumps(medallion_file(), indent=4))
    done = run_import(path, settings, "--members", "alpha.analyst,bravo.liaison")
    assert done.returncode == 0, done.stderr
    assert "2 collections with 2 object versions and 1 status resources" in done.stdout
    yield path


def test_the_imported_roots_are_served_at_their_paths_to_the_named_members(
    imported: Path, client: TestClient, db: Session
) -> None:
    found = client.get("/taxii2/", headers=basic("alpha.analyst")).json()
    assert found["title"] == "Team TAXII" and found["contact"] == "soc@example.org"
    assert found["default"] == "http://testserver/shared/"
    assert "http://testserver/shared/" in found["api_roots"]
    assert client.get("/taxii2/", headers=basic("bravo.analyst")).json()["api_roots"] == [
        "http://testserver/taxii2/cell/"
    ]
    assert client.get("/shared/", headers=basic("bravo.analyst")).status_code == 404
    root = client.get("/shared/", headers=basic("alpha.analyst")).json()
    assert root["title"] == "Shared intelligence" and root["max_content_length"] == 500000

    objects = f"/shared/collections/{READABLE}/objects/"
    every = client.get(
        objects + "?match[version]=all&match[spec_version]=2.0,2.1",
        headers=basic("alpha.analyst"),
    )
    assert every.status_code == 200, every.text
    assert [o.get("spec_version") for o in every.json()["objects"]] == ["2.1", None]
    # Without match[spec_version], each object in the latest spec version it is held in.
    latest = client.get(objects + "?match[version]=all", headers=basic("alpha.analyst")).json()
    assert [o.get("spec_version") for o in latest["objects"]] == ["2.1"]
    assert every.headers["X-TAXII-Date-Added-First"] == "2019-03-01T10:00:01.123456Z"
    assert every.headers["X-TAXII-Date-Added-Last"] == "2020-05-05T05:05:06Z"
    manifest = client.get(
        f"/shared/collections/{READABLE}/manifest/?match[version]=all&match[spec_version]=2.0,2.1",
        headers=basic("alpha.analyst"),
    ).json()["objects"]
    assert [(m["date_added"], m["media_type"]) for m in manifest] == [
        ("2019-03-01T10:00:01.123456Z", "application/stix+json;version=2.1"),
        ("2020-05-05T05:05:06Z", "application/stix+json;version=2.0"),
    ]
    hidden = client.get(f"/shared/collections/{HIDDEN}/objects/", headers=basic("alpha.analyst"))
    assert hidden.status_code == 403 and hidden.headers["content-type"] == TAXII
    status = client.get(
        "/shared/status/9d6c5b4a-3e2f-4a1b-8c9d-0e1f2a3b4c5d/", headers=basic("alpha.analyst")
    )
    assert status.json()["success_count"] == 1

    # A writer adds through the intelligence track: signed, released to its party only.
    added = client.post(objects, json=envelope(indicator()), headers=posting("bravo.liaison"))
    assert added.status_code == 202, added.text
    alpha_sees = client.get(objects + "?match[type]=indicator", headers=basic("alpha.analyst"))
    assert "objects" not in alpha_sees.json()
    bravo_sees = client.get(objects + "?match[type]=indicator", headers=basic("bravo.liaison"))
    assert len(bravo_sees.json()["objects"]) == 1
    assert db.query(LogEntry).filter(LogEntry.entry_type == "intel.taxii.imported").count() == 1
    db.rollback()


def test_taxii2_client_reads_an_imported_collection(imported: Path, app: FastAPI) -> None:
    with serve_in_thread(app) as base:
        server = Server(f"{base}/taxii2/", user="alpha.analyst", password=PASSWORD)
        assert server.default.url == f"{base}/shared/"
        (malware,) = [c for c in server.default.collections if c.id == READABLE]
        assert malware.can_write
        # The latest version of the latest spec version it is held in, unless asked for more.
        latest = malware.get_object(MALWARE)["objects"]
        assert [o["modified"] for o in latest] == ["2019-03-01T10:00:00.000Z"]
        either = malware.get_object(MALWARE, spec_version=["2.0", "2.1"])["objects"]
        assert [o["modified"] for o in either] == ["2020-05-05T05:05:05.500Z"]


def test_a_second_import_needs_replace_and_bad_files_change_nothing(
    imported: Path, settings: Settings, tmp_path: Path, db: Session
) -> None:
    again = run_import(imported, settings)
    assert again.returncode == 1 and "--replace" in again.stderr
    replaced = run_import(imported, settings, "--replace", "--members", "alpha.analyst")
    assert replaced.returncode == 0, replaced.stderr
    assert db.query(TaxiiObject).count() == 2
    db.rollback()
    for name, content in (
        ("not-json.json", "{"),
        ("bad-root.json", json.dumps({"api": {"information": {}, "collections": []}})),
        ("no-member.json", json.dumps(medallion_file())),
    ):
        path = tmp_path / name
        path.write_text(content)
        extra = ["--members", "nobody.here"] if name == "no-member.json" else []
        refused = run_import(path, settings, "--replace", *extra)
        assert refused.returncode != 0, name
        assert refused.stderr.startswith("fusioncell: "), refused.stderr
        assert "Traceback" not in refused.stderr
    assert db.query(TaxiiObject).count() == 2
