"""``fusioncell cot enroll`` and ``revoke`` at the console: the files a TAK client imports,
and the signed entries."""

from __future__ import annotations

import zipfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fusioncell.cli import app
from fusioncell.config import Settings
from fusioncell.cot.models import CotCertificate
from fusioncell.ledger.models import LogEntry


def test_enroll_writes_the_key_certificate_and_a_tak_data_package_and_revoke_ends_it(
    db: Session, settings: Settings, database_url: str, demo: None, tmp_path: Path
) -> None:
    env = {"FUSIONCELL_KEY_DIR": str(settings.key_dir)}
    out = tmp_path / "alpha"
    result = CliRunner().invoke(
        app,
        [
            "cot",
            "enroll",
            "alpha.liaison",
            "--out",
            str(out),
            "--host",
            "tak.example",
            "--port",
            "8089",
            "--database-url",
            database_url,
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    password = result.output.split("PKCS#12 password (shown once): ")[1].split()[0]
    certificate = x509.load_pem_x509_certificate((out / "alpha.liaison.cert.pem").read_bytes())
    authority = x509.load_pem_x509_certificate((out / "fusioncell-ca.pem").read_bytes())
    certificate.verify_directly_issued_by(authority)
    assert (out / "alpha.liaison.key.pem").stat().st_mode & 0o077 == 0
    with zipfile.ZipFile(out / "alpha.liaison-tak.zip") as package:
        names = set(package.namelist())
        assert names == {
            "MANIFEST/manifest.xml",
            "certs/fusioncell.pref",
            "certs/truststore-fusioncell.p12",
            "certs/alpha.liaison.p12",
        }
        pref = package.read("certs/fusioncell.pref").decode()
        assert "tak.example:8089:ssl" in pref and password in pref
        bundle = pkcs12.load_pkcs12(package.read("certs/alpha.liaison.p12"), password.encode())
        assert bundle.cert is not None and bundle.cert.certificate == certificate
        trust = pkcs12.load_pkcs12(
            package.read("certs/truststore-fusioncell.p12"), password.encode()
        )
        assert [c.certificate for c in trust.additional_certs] == [authority]
    [row] = db.scalars(select(CotCertificate)).all()
    assert row.serial == format(certificate.serial_number, "x") and row.revoked_at is None
    entry = db.get(LogEntry, row.log_index)
    assert entry is not None and entry.entry_type == "cot.certificate.issued"
    db.commit()

    revoked = CliRunner().invoke(
        app, ["cot", "revoke", "alpha.liaison", "--database-url", database_url], env=env
    )
    assert revoked.exit_code == 0, revoked.output
    assert row.serial in revoked.output
    db.refresh(row)
    assert row.revoked_at is not None
    again = CliRunner().invoke(
        app, ["cot", "revoke", "alpha.liaison", "--database-url", database_url], env=env
    )
    assert again.exit_code != 0
