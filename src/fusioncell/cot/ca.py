"""The cell's own certificate authority for TAK clients, kept in the key folder.

TAK servers authenticate clients by certificate, not password: the cell's CA issues one per
member (``fusioncell cot enroll``) and one for the gateway itself. The CA's key never leaves
the key folder (mode 0600); a member's key is generated on the server and handed over once,
in the enrolment folder. RSA 2048 and SHA-256, which every TAK client accepts.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_KEY_FILE = "cot-ca.key"
CA_CERT_FILE = "cot-ca.pem"
SERVER_KEY_FILE = "cot-server.key"
SERVER_CERT_FILE = "cot-server.pem"
CA_YEARS = 10
MEMBER_DAYS = 365
SERVER_DAYS = 365


@dataclass(frozen=True)
class Authority:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Issued:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def serial(self) -> str:
        return format(self.certificate.serial_number, "x")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate.public_bytes(serialization.Encoding.DER))

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def serial_of(der: bytes) -> str:
    return format(x509.load_der_x509_certificate(der).serial_number, "x")


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def load_or_create_authority(key_dir: Path, *, cell: str, now: datetime) -> Authority:
    """The CA in ``key_dir``, created on first use."""
    key_path, cert_path = key_dir / CA_KEY_FILE, key_dir / CA_CERT_FILE
    if not key_path.exists():
        key = _new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fusioncell"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"fusioncell {cell} CoT CA"),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        try:
            _write_secret(
                key_path,
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
            cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        except FileExistsError:  # another process made it first: read theirs
            pass
    loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError(f"{key_path} is not an RSA key")
    return Authority(loaded, x509.load_pem_x509_certificate(cert_path.read_bytes()))


def _issue(
    authority: Authority,
    *,
    common_name: str,
    usage: x509.ObjectIdentifier,
    days: int,
    now: datetime,
    names: list[x509.GeneralName] | None = None,
) -> Issued:
    key = _new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fusioncell"),
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                ]
            )
        )
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(key, builder.sign(authority.key, hashes.SHA256()))


def issue_member_certificate(authority: Authority, username: str, *, now: datetime) -> Issued:
    return _issue(
        authority,
        common_name=username,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        days=MEMBER_DAYS,
        now=now,
    )


def server_names(extra: list[str]) -> list[x509.GeneralName]:
    """The gateway certificate's names: loopback, this host, and the names the operator
    gives (``FUSIONCELL_COT_SERVER_NAMES``), addresses as IP names."""
    names: list[x509.GeneralName] = []
    for name in dict.fromkeys(["localhost", "127.0.0.1", "::1", socket.gethostname(), *extra]):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    return names


def server_credentials(
    authority: Authority, key_dir: Path, *, extra_names: list[str], now: datetime
) -> tuple[Path, Path]:
    """The gateway's certificate and key files, issued again when missing, expiring within
    a month, not from this CA, or not naming every name asked for."""
    key_path, cert_path = key_dir / SERVER_KEY_FILE, key_dir / SERVER_CERT_FILE
    wanted = server_names(extra_names)
    if key_path.exists() and cert_path.exists():
        current = x509.load_pem_x509_certificate(cert_path.read_bytes())
        try:
            alternative = current.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            held = list(alternative.value)
        except x509.ExtensionNotFound:
            held = []
        if (
            current.issuer == authority.certificate.subject
            and current.not_valid_after_utc > now + timedelta(days=30)
            and all(name in held for name in wanted)
        ):
            return cert_path, key_path
        key_path.unlink()
    issued = _issue(
        authority,
        common_name="fusioncell CoT gateway",
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        days=SERVER_DAYS,
        now=now,
        names=wanted,
    )
    _write_secret(key_path, issued.key_pem())
    cert_path.write_bytes(issued.cert_pem() + authority.pem)
    return cert_path, key_path


def pkcs12_bundle(name: str, issued: Issued | None, authority: Authority, password: str) -> bytes:
    """A PKCS#12 file as TAK clients read it: the member's key and certificate with the CA
    (or the CA alone: a trust store), under the legacy 3DES and SHA-1 MAC that Android's
    keystore still requires."""
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 (what Android's PKCS#12 reader verifies)
        .build(password.encode())
    )
    return pkcs12.serialize_key_and_certificates(
        name.encode(),
        None if issued is None else issued.key,
        None if issued is None else issued.certificate,
        [authority.certificate],
        encryption,
    )
