from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.certificate_level import CertificateLevel
from ..models.country import Country
from ..models.hash_algorithm import HashAlgorithm
from ..types import UNSET, Unset

T = TypeVar("T", bound="InitializeHashSigningRequest")


@_attrs_define
class InitializeHashSigningRequest:
    """The hash to sign and the person who signs it. Keys that are not listed are
    ignored. `hash` has 64 hex digits for `SHA256` and 128 for `SHA512`.

        Attributes:
            access_token (str): The API access token of the relying party. It is a secret: clients must not log
                it. The docs' sample is `52900c96-3f60-5307-3719-5948f0191da6`.
            hash_ (str): The hash to sign, as hex digits: 64 for SHA256, 128 for SHA512. It is the
                digest of the document; the signature is over it.
            hash_algorithm (HashAlgorithm): The algorithm that produced `hash`.
            country (Country): The signer's country.
            code (str): The signer's personal code (11 digits in Lithuania and Estonia). A string
                that is not one answers `40005` (person code is of incorrect format); a missing
                or empty one `40001`.
            message (str | Unset): Text shown on the person's phone with the signing request.
            certificate_level (CertificateLevel | Unset): The level of the signing certificate. Smart-ID's own default is
                `QSCD`; only the
                official PHP client documents this key.
    """

    access_token: str = _attrs_field(repr=False)
    hash_: str
    hash_algorithm: HashAlgorithm
    country: Country
    code: str
    message: str | Unset = UNSET
    certificate_level: CertificateLevel | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        access_token = self.access_token

        hash_ = self.hash_

        hash_algorithm = self.hash_algorithm.value

        country = self.country.value

        code = self.code

        message = self.message

        certificate_level: str | Unset = UNSET
        if not isinstance(self.certificate_level, Unset):
            certificate_level = self.certificate_level.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "access_token": access_token,
                "hash": hash_,
                "hash_algorithm": hash_algorithm,
                "country": country,
                "code": code,
            }
        )
        if message is not UNSET:
            field_dict["message"] = message
        if certificate_level is not UNSET:
            field_dict["certificate_level"] = certificate_level

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        if not isinstance(src_dict, Mapping):
            raise TypeError(f"InitializeHashSigningRequest expects a JSON object, got {type(src_dict).__name__}")
        d = dict(src_dict)
        access_token = d.pop("access_token")
        if not isinstance(access_token, str):
            raise TypeError(f"access_token must be str, got {type(access_token).__name__}")

        hash_ = d.pop("hash")
        if not isinstance(hash_, str):
            raise TypeError(f"hash must be str, got {type(hash_).__name__}")

        hash_algorithm = HashAlgorithm(d.pop("hash_algorithm"))

        country = Country(d.pop("country"))

        code = d.pop("code")
        if not isinstance(code, str):
            raise TypeError(f"code must be str, got {type(code).__name__}")

        message = d.pop("message", UNSET)
        if not isinstance(message, str | Unset):
            raise TypeError(f"message must be str, got {type(message).__name__}")

        _certificate_level = d.pop("certificate_level", UNSET)
        certificate_level: CertificateLevel | Unset
        if isinstance(_certificate_level, Unset):
            certificate_level = UNSET
        else:
            certificate_level = CertificateLevel(_certificate_level)

        initialize_hash_signing_request = cls(
            access_token=access_token,
            hash_=hash_,
            hash_algorithm=hash_algorithm,
            country=country,
            code=code,
            message=message,
            certificate_level=certificate_level,
        )

        initialize_hash_signing_request.additional_properties = d
        return initialize_hash_signing_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
