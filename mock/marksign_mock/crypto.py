"""Smart-ID's verification code and a deterministic RSA signature of a hash.

The key and certificate under `testkeys/` are TEST ONLY: generated once with
`generate_test_credentials()` and shipped, so the same hash gets the same signature on
every run and machine. They prove nothing about anyone.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.x509.oid import NameOID

HashAlgorithm = Literal["SHA256", "SHA512"]

TESTKEYS_DIR: Final = Path(__file__).resolve().parent / "testkeys"
KEY_FILE: Final = "TEST-ONLY-key.pem"
CERTIFICATE_FILE: Final = "TEST-ONLY-certificate.pem"

DIGEST_SIZES: Final[dict[str, int]] = {"SHA256": 32, "SHA512": 64}


def control_code(hash_bytes: bytes) -> str:
    """Smart-ID verification code: SHA-256 of the raw hash, last two bytes mod 10000."""
    digest = hashlib.sha256(hash_bytes).digest()
    return f"{int.from_bytes(digest[-2:], 'big') % 10000:04d}"


def _algorithm(hash_algorithm: str) -> hashes.HashAlgorithm:
    if hash_algorithm == "SHA256":
        return hashes.SHA256()
    if hash_algorithm == "SHA512":
        return hashes.SHA512()
    raise ValueError(f"unsupported hash algorithm {hash_algorithm!r}")


@cache
def _private_key() -> rsa.RSAPrivateKey:
    # Our own shipped test key, checked when it was made: skipping OpenSSL's RSA key check
    # saves ~0.5 s of CPU that the first signature of every process would otherwise pay.
    key = serialization.load_pem_private_key(
        (TESTKEYS_DIR / KEY_FILE).read_bytes(), None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{KEY_FILE} is not an RSA private key")
    return key


@cache
def certificate_pem() -> bytes:
    """The TEST ONLY certificate whose key signs every hash, PEM-encoded."""
    return (TESTKEYS_DIR / CERTIFICATE_FILE).read_bytes()


def certificate() -> x509.Certificate:
    return x509.load_pem_x509_certificate(certificate_pem())


# RSA-4096 signing takes milliseconds; clients (and benchmarks) often sign a hash again.
_SIGNATURE_CACHE_SIZE: Final = 4096
_signatures: OrderedDict[tuple[str, bytes], str] = OrderedDict()
_signatures_lock = threading.Lock()


def cached_signature(hash_algorithm: str, hash_bytes: bytes) -> str | None:
    """The signature of this hash if it was made recently, without signing."""
    with _signatures_lock:
        return _signatures.get((hash_algorithm, hash_bytes))


def sign_hash(hash_algorithm: str, hash_bytes: bytes) -> str:
    """Base64 of the RSA PKCS#1 v1.5 signature over a hash (DigestInfo of the raw hash).

    It equals a `sha256WithRSAEncryption` / `sha512WithRSAEncryption` signature of the
    data the hash was taken of. PKCS#1 v1.5 is deterministic, so recent ones are cached.
    """
    key = (hash_algorithm, hash_bytes)
    with _signatures_lock:
        signature = _signatures.get(key)
    if signature is None:
        signature = sign_hash_uncached(hash_algorithm, hash_bytes)
        with _signatures_lock:
            _signatures[key] = signature
            if len(_signatures) > _SIGNATURE_CACHE_SIZE:
                _signatures.popitem(last=False)
    return signature


def sign_hash_uncached(hash_algorithm: str, hash_bytes: bytes) -> str:
    if len(hash_bytes) != DIGEST_SIZES.get(hash_algorithm):
        raise ValueError(f"a {hash_algorithm} hash has {DIGEST_SIZES.get(hash_algorithm)} bytes")
    signature = _private_key().sign(
        hash_bytes, padding.PKCS1v15(), utils.Prehashed(_algorithm(hash_algorithm))
    )
    return base64.b64encode(signature).decode("ascii")


def generate_test_credentials(directory: Path = TESTKEYS_DIR) -> None:
    """Write a new TEST ONLY RSA-4096 key and self-signed certificate (run once, by hand).

    Changing them changes every signature the simulator makes.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "LT"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "marksign-contract-kit TEST ONLY"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, "TEST ONLY simulated Smart-ID signer - NOT A REAL IDENTITY"
            ),
        ]
    )
    not_before = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before.replace(year=2125))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / KEY_FILE).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (directory / CERTIFICATE_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
