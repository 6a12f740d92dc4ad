"""The verification code and the signature, checked against outside facts."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from marksign_mock import crypto

# Smart-ID's documented test vector for the verification code.
SMART_ID_HASH = base64.b64decode(
    "GYS+yoah6emAcVDNIajwSs6UB/M95XrDxMzXBUkwQJ9YFDipXXzGpPc7raWcuc2+TEoRc7WvIZ/7dU/iRXenYg=="
)
DOCUMENT = b"The contract no. 1, as signed by the simulated person."


def test_verification_code_matches_smart_id_test_vector() -> None:
    assert crypto.control_code(SMART_ID_HASH) == "7180"


def test_verification_code_is_four_digits_with_leading_zeros() -> None:
    codes = {crypto.control_code(i.to_bytes(32, "big")) for i in range(300)}
    assert all(len(code) == 4 and code.isdigit() for code in codes)
    assert any(code.startswith("0") for code in codes)


@pytest.mark.parametrize(
    ("algorithm", "hash_class"), [("SHA256", hashes.SHA256), ("SHA512", hashes.SHA512)]
)
def test_signature_of_a_hash_verifies_as_a_signature_of_the_document(
    algorithm: str, hash_class: type[hashes.HashAlgorithm]
) -> None:
    hash_bytes = hashlib.new(algorithm.lower(), DOCUMENT).digest()
    signature = base64.b64decode(crypto.sign_hash(algorithm, hash_bytes), validate=True)
    public_key = crypto.certificate().public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert len(signature) == 512  # RSA 4096, like older Smart-ID accounts
    # Raises InvalidSignature unless it is a sha*WithRSAEncryption signature of DOCUMENT.
    public_key.verify(signature, DOCUMENT, padding.PKCS1v15(), hash_class())


# SHA-256 of the raw signature of DOCUMENT by the shipped test key: the same hash gets the
# same signature across runs and machines (a regenerated or swapped key changes it).
PINNED_SIGNATURE_SHA256 = "7162443897e6fe96e24a7e70894267a4a617a5cbb815eba5c0a2c620e4005b80"


def test_the_same_hash_gets_the_same_signature_from_the_shipped_key() -> None:
    hash_bytes = hashlib.sha256(DOCUMENT).digest()
    uncached = crypto.sign_hash_uncached
    signature = base64.b64decode(uncached("SHA256", hash_bytes))
    assert hashlib.sha256(signature).hexdigest() == PINNED_SIGNATURE_SHA256
    assert uncached("SHA256", hash_bytes) == uncached("SHA256", hash_bytes)
    assert crypto.sign_hash("SHA256", hash_bytes) == uncached("SHA256", hash_bytes)
    assert crypto.sign_hash("SHA512", hashlib.sha512(DOCUMENT).digest()) != crypto.sign_hash(
        "SHA256", hash_bytes
    )


def test_signatures_are_cached_once_made() -> None:
    # A document no other test signs (the signature cache is shared by the process).
    document = b"cached, " + __name__.encode()
    hash_bytes = hashlib.sha256(document).digest()
    assert crypto.cached_signature("SHA256", hash_bytes) is None
    signature = crypto.sign_hash("SHA256", hash_bytes)
    assert crypto.cached_signature("SHA256", hash_bytes) == signature
    assert crypto.cached_signature("SHA512", hashlib.sha512(document).digest()) is None


def test_a_hash_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.sign_hash("SHA256", bytes(64))


def test_the_certificate_says_test_only_and_lasts() -> None:
    certificate = crypto.certificate()
    assert "TEST ONLY" in certificate.subject.rfc4514_string()
    assert certificate.issuer == certificate.subject
    assert certificate.not_valid_after_utc.year >= 2100
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 4096
