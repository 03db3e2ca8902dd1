"""A room's own certificate authority, so tablets speak HTTPS and WSS on the room network.

Tokens, votes and confidential pages must not cross the room's Wi-Fi in clear, and a room
has no public DNS name a public CA would certify. So ``hemicycle tls init`` makes a small
local CA (kept on the server, 0600) and a server certificate for the names and addresses
the tablets use; the CA certificate (public) is installed once on each tablet — the
pairing sheet shows it as a QR code — and from then on the tablets trust the server.

Uses the ``cryptography`` package already used for signing certificates: no openssl
command line, no home-made crypto.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 10 * 365
SERVER_DAYS = 397  # what browsers accept for a server certificate's lifetime


@dataclass(frozen=True)
class TlsFiles:
    """What ``init`` writes into its folder."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.pem"  # public: install it on every tablet

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca-key.pem"  # secret: only for issuing new server certificates

    @property
    def cert(self) -> Path:
        return self.folder / "server.pem"  # the server certificate followed by the CA's

    @property
    def key(self) -> Path:
        return self.folder / "server-key.pem"  # secret


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` with ``mode`` from the first byte (a key is never readable by others)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_ca(files: TlsFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    if not (files.ca_cert.is_file() and files.ca_key.is_file()):
        return None
    cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{files.ca_key} is not the EC key `hemicycle tls init` writes")
    return cert, key


def _new_ca(label: str, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"Hemicycle room CA ({label})"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hemicycle"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def init(folder: Path, names: list[str], ips: list[str], now: dt.datetime | None = None) -> TlsFiles:
    """Create the room CA (once; kept if it exists, so tablets need not trust a new one) and a
    fresh server certificate for ``names`` (DNS) and ``ips``. Raises ValueError on a bad name
    or address, before writing anything."""
    if not names and not ips:
        raise ValueError("give at least one --name or --ip: what the tablets type or scan to reach the server")
    addresses = []
    for ip in ips:
        try:
            addresses.append(ipaddress.ip_address(ip))
        except ValueError:
            raise ValueError(f"{ip!r} is not an IP address") from None
    for name in names:
        if not name or len(name) > 253 or any(c in name for c in " /:@") or name.startswith("."):
            raise ValueError(f"{name!r} is not a host name")
    files = TlsFiles(folder)
    now = now or dt.datetime.now(dt.UTC)
    found = _load_ca(files)
    if found is None:
        ca_cert, ca_key = _new_ca(names[0] if names else str(addresses[0]), now)
        _write(files.ca_key, _key_pem(ca_key), 0o600)
        _write(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    else:
        ca_cert, ca_key = found
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt += [x509.IPAddress(a) for a in addresses]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (names[0] if names else str(addresses[0]))[:64])])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
    _write(files.key, _key_pem(key), 0o600)
    _write(files.cert, chain, 0o644)
    return files


def describe(files: TlsFiles) -> str:
    """What a certificate covers and until when, for the operator."""
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    covers = [*alt.get_values_for_type(x509.DNSName), *(str(a) for a in alt.get_values_for_type(x509.IPAddress))]
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    fingerprint = ca.fingerprint(hashes.SHA256()).hex(":").upper()
    return (
        f"server certificate {files.cert} for {', '.join(covers)}, valid until {cert.not_valid_after_utc:%Y-%m-%d}\n"
        f"room CA certificate {files.ca_cert} (install it on every tablet; SHA-256 {fingerprint})"
    )
