"""What ``fusioncell cot enroll`` writes for a member: the key and certificate (PEM), the
CA's certificate, and a TAK data package that ATAK, WinTAK and iTAK import in one step.

The data package follows the layout TAK Server's own enrolment packages use::

    MANIFEST/manifest.xml          MissionPackageManifest version 2, listing the contents
    certs/fusioncell.pref          the server connection (cot_streams) and where the
                                   certificates are, with their password
    certs/truststore-fusioncell.p12  the cell's CA (the server's issuer), PKCS#12
    certs/<username>.p12           the member's key and certificate with the CA, PKCS#12

Both PKCS#12 files share one password, generated here and printed once by the command.
"""

from __future__ import annotations

import io
import os
import secrets
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from fusioncell.cot.ca import Authority, Issued, pkcs12_bundle

TRUSTSTORE = "truststore-fusioncell.p12"
PREF = "fusioncell.pref"


@dataclass(frozen=True)
class Written:
    key: Path
    certificate: Path
    ca: Path
    package: Path
    password: str


def _pref(*, host: str, port: int, username: str, password: str) -> str:
    def entry(key: str, kind: str, value: str) -> str:
        return f'    <entry key="{key}" class="class java.lang.{kind}">{value}</entry>\n'

    return (
        "<?xml version='1.0' encoding='ASCII' standalone='yes'?>\n"
        "<preferences>\n"
        '  <preference version="1" name="cot_streams">\n'
        + entry("count", "Integer", "1")
        + entry("description0", "String", "fusioncell")
        + entry("enabled0", "Boolean", "true")
        + entry("connectString0", "String", f"{host}:{port}:ssl")
        + "  </preference>\n"
        '  <preference version="1" name="com.atakmap.app_preferences">\n'
        + entry("displayServerConnectionWidget", "Boolean", "true")
        + entry("caLocation", "String", f"cert/{TRUSTSTORE}")
        + entry("caPassword", "String", password)
        + entry("clientPassword", "String", password)
        + entry("certificateLocation", "String", f"cert/{username}.p12")
        + "  </preference>\n"
        "</preferences>\n"
    )


def _manifest(username: str) -> str:
    contents = "".join(
        f'    <Content ignore="false" zipEntry={quoteattr(name)}/>\n'
        for name in (f"certs/{PREF}", f"certs/{TRUSTSTORE}", f"certs/{username}.p12")
    )
    return (
        '<MissionPackageManifest version="2">\n'
        "  <Configuration>\n"
        f'    <Parameter name="uid" value="{uuid.uuid4()}"/>\n'
        f'    <Parameter name="name" value={quoteattr(f"fusioncell-{username}")}/>\n'
        '    <Parameter name="onReceiveDelete" value="true"/>\n'
        "  </Configuration>\n"
        "  <Contents>\n"
        f"{contents}"
        "  </Contents>\n"
        "</MissionPackageManifest>\n"
    )


def data_package(
    *, username: str, issued: Issued, authority: Authority, host: str, port: int, password: str
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("MANIFEST/manifest.xml", _manifest(username))
        archive.writestr(
            f"certs/{PREF}", _pref(host=host, port=port, username=username, password=password)
        )
        archive.writestr(
            f"certs/{TRUSTSTORE}", pkcs12_bundle("fusioncell-ca", None, authority, password)
        )
        archive.writestr(
            f"certs/{username}.p12", pkcs12_bundle(username, issued, authority, password)
        )
    return buffer.getvalue()


def _private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def write_enrolment(
    out: Path, *, username: str, issued: Issued, authority: Authority, host: str, port: int
) -> Written:
    """The member's files in ``out`` (created, mode 0700); keys and packages mode 0600."""
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    password = secrets.token_urlsafe(12)
    written = Written(
        key=out / f"{username}.key.pem",
        certificate=out / f"{username}.cert.pem",
        ca=out / "fusioncell-ca.pem",
        package=out / f"{username}-tak.zip",
        password=password,
    )
    _private(written.key, issued.key_pem())
    written.certificate.write_bytes(issued.cert_pem())
    written.ca.write_bytes(authority.pem)
    _private(
        written.package,
        data_package(
            username=username,
            issued=issued,
            authority=authority,
            host=host,
            port=port,
            password=password,
        ),
    )
    return written
