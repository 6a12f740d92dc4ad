"""The project's main job: sign a hash with the simulator through the generated client.

Starts the simulator on a free loopback port (through its launcher), then for each locale
(EN and LT): initialize hash signing, show the control code, wait for the status (a long poll), and
verify the returned signature against the simulator's test certificate. Exits 0 only if
every signature verifies.

Run: make demo   (or: .venv/bin/python examples/demo.py [--base-url URL])
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from marksign_client import Client
from marksign_client.api.hash_signing import (
    get_hash_signing_status,
    get_hash_signing_status_en,
    initialize_hash_signing,
    initialize_hash_signing_en,
)
from marksign_client.errors import UnexpectedResponse
from marksign_client.models import (
    Country,
    Error,
    HashAlgorithm,
    HashSigningStatusOk,
    HashSigningStatusRequest,
    InitializeHashSigningOk,
    InitializeHashSigningRequest,
)
from marksign_mock import MockControlError, MockController, SimulatorProcess
from marksign_spec import load_spec

# The docs' sample access token (openapi.yaml's example), which the simulator accepts by
# default.
ACCESS_TOKEN = os.environ.get("MARKSIGN_ACCESS_TOKEN") or load_spec().sample_access_token
SIGNER = "30303039914"  # a Smart-ID demo identity that confirms
LOCALES = {
    "EN": (initialize_hash_signing_en, get_hash_signing_status_en),
    "LT": (initialize_hash_signing, get_hash_signing_status),
}


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


@contextmanager
def running_simulator() -> Iterator[str]:
    """Start the simulator on a free loopback port (the launcher); yield its base URL."""
    simulator = SimulatorProcess(("--answer-delay", "0.5"))
    try:
        simulator.start()
    except RuntimeError as error:
        raise DemoError(f"the simulator did not start: {error}") from None
    try:
        yield simulator.base_url
    finally:
        simulator.stop()


def sign_in_locale(client: Client, locale: str, certificate: x509.Certificate) -> str:
    initialize, status = LOCALES[locale]
    document = f"Mark Sign contract kit demo, locale {locale}".encode()
    digest = hashlib.sha256(document).digest()
    expected_code = f"{int.from_bytes(hashlib.sha256(digest).digest()[-2:], 'big') % 10000:04d}"

    started = initialize.sync(
        client=client,
        body=InitializeHashSigningRequest(
            access_token=ACCESS_TOKEN,
            hash_=digest.hex(),
            hash_algorithm=HashAlgorithm.SHA256,
            country=Country.LT,
            code=SIGNER,
            message="Sign the demo contract",
        ),
    )
    if not isinstance(started, InitializeHashSigningOk):
        raise DemoError(f"[{locale}] initialize failed: {describe(started)}")
    print(
        f"[{locale}] initialize: session {started.token}, control code {started.control_code}"
        f" (computed from the hash: {expected_code})"
    )
    if started.control_code != expected_code:
        raise DemoError(f"[{locale}] the control code does not match the hash")

    waited = time.monotonic()
    result = status.sync(
        started.token, client=client, body=HashSigningStatusRequest(access_token=ACCESS_TOKEN)
    )
    if not isinstance(result, HashSigningStatusOk):
        raise DemoError(f"[{locale}] status failed: {describe(result)}")
    signature = base64.b64decode(result.signature_value, validate=True)
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    try:
        public_key.verify(signature, document, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise DemoError(f"[{locale}] the signature does not verify") from None
    line = (
        f"[{locale}] status: signed after {time.monotonic() - waited:.1f} s; "
        f"{len(signature)}-byte RSA signature verified against /_mock/certificate.pem"
    )
    print(line)
    return line


def describe(answer: object) -> str:
    if isinstance(answer, Error):
        return f"{answer.error_code} {answer.message}"
    return repr(answer)


def run(base_url: str) -> None:
    # The status call is a long poll that can take minutes: bound it, but generously.
    timeout = httpx.Timeout(10.0, read=250.0)
    with Client(base_url=base_url, timeout=timeout) as client:
        pem = client.get_httpx_client().get("/_mock/certificate.pem")
        pem.raise_for_status()
        certificate = x509.load_pem_x509_certificate(pem.content)
        print(f"Simulator at {base_url}; test certificate: {certificate.subject.rfc4514_string()}")
        for locale in LOCALES:
            sign_in_locale(client, locale, certificate)
    print(f"Demo OK: {len(LOCALES)} of {len(LOCALES)} signatures verified.")


def run_failures(base_url: str) -> None:
    """What goes wrong, scripted through the control plane, and how the client sees it."""
    timeout = httpx.Timeout(10.0, read=250.0)
    initialize, status = LOCALES["EN"]
    body = InitializeHashSigningRequest(
        access_token=ACCESS_TOKEN,
        hash_=hashlib.sha256(b"Mark Sign contract kit demo, failures").hexdigest(),
        hash_algorithm=HashAlgorithm.SHA256,
        country=Country.LT,
        code=SIGNER,
    )
    with (
        Client(base_url=base_url, timeout=timeout) as client,
        MockController.at(base_url) as control,
    ):
        control.scenario(SIGNER, outcome="USER_REFUSED")
        started = initialize.sync(client=client, body=body)
        if not isinstance(started, InitializeHashSigningOk):
            raise DemoError(f"initialize failed: {describe(started)}")
        control.answer_now(started.token)  # no waiting for the person
        refused = status.sync(
            started.token, client=client, body=HashSigningStatusRequest(access_token=ACCESS_TOKEN)
        )
        if not isinstance(refused, Error) or refused.error_code != 40020:
            raise DemoError(f"expected a refusal (40020), got {describe(refused)}")
        print(f"[scenario] the person refuses: status answered {describe(refused)}")

        control.fault("html_502", operation="initialize")
        try:
            initialize.sync(client=client, body=body)
        except UnexpectedResponse as error:
            reason = f"HTTP {error.status_code}, {len(error.content)}-byte HTML page"
            print(f"[fault] a proxy's HTML 502: the client raised UnexpectedResponse ({reason})")
        else:
            raise DemoError("the proxy's 502 was not reported as UnexpectedResponse")

        control.fault("reset", operation="initialize")
        try:
            initialize.sync(client=client, body=body)
        except httpx.TransportError as error:
            print(f"[fault] a connection reset: httpx raised {type(error).__name__} ({error})")
        else:
            raise DemoError("the connection reset was not reported by httpx")
        retried = initialize.sync(client=client, body=body)
        if not isinstance(retried, InitializeHashSigningOk):
            raise DemoError(f"the retry failed: {describe(retried)}")
        print(
            f"[retry] the next attempt starts session {retried.token}: faults disarm by themselves"
        )
    print("Failures demo OK: a refusal and two gateway faults, each handled by the client.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--base-url", help="use a simulator that is already running instead of starting one"
    )
    parser.add_argument(
        "--failures",
        action="store_true",
        help="show instead a refused signing and gateway faults, scripted in the simulator",
    )
    args = parser.parse_args(argv)
    job = run_failures if args.failures else run
    try:
        if args.base_url:
            job(args.base_url)
        else:
            with running_simulator() as base_url:
                job(base_url)
    except (DemoError, httpx.HTTPError, UnexpectedResponse, MockControlError) as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        print(f"demo failed: {first_line}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a certificate or signature that does not decode
        print(f"demo failed: the server's answer is not what the API sends: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
