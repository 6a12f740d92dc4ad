"""Contains all the data models used in inputs/outputs"""

from .certificate_level import CertificateLevel
from .country import Country
from .error import Error
from .hash_algorithm import HashAlgorithm
from .hash_signing_status_ok import HashSigningStatusOk
from .hash_signing_status_request import HashSigningStatusRequest
from .initialize_hash_signing_ok import InitializeHashSigningOk
from .initialize_hash_signing_request import InitializeHashSigningRequest

__all__ = (
    "CertificateLevel",
    "Country",
    "Error",
    "HashAlgorithm",
    "HashSigningStatusOk",
    "HashSigningStatusRequest",
    "InitializeHashSigningOk",
    "InitializeHashSigningRequest",
)
