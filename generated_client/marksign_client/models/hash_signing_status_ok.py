from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="HashSigningStatusOk")


@_attrs_define
class HashSigningStatusOk:
    """The person confirmed and the hash is signed.

    Attributes:
        status (Literal['ok']): Always `ok` in a successful answer.
        signature_value (str): The base64 of the raw RSA PKCS#1 v1.5 signature over the hash (a
            `sha256WithRSAEncryption` or `sha512WithRSAEncryption` signature of the
            original document), verifiable with the signer's certificate. The docs'
            sample value is a placeholder, not a signature.
    """

    status: Literal["ok"]
    signature_value: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        signature_value = self.signature_value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "signature_value": signature_value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        if not isinstance(src_dict, Mapping):
            raise TypeError(f"HashSigningStatusOk expects a JSON object, got {type(src_dict).__name__}")
        d = dict(src_dict)
        status = cast(Literal["ok"], d.pop("status"))
        if status != "ok":
            raise ValueError(f"status must match const 'ok', got '{status}'")

        signature_value = d.pop("signature_value")
        if not isinstance(signature_value, str):
            raise TypeError(f"signature_value must be str, got {type(signature_value).__name__}")

        hash_signing_status_ok = cls(
            status=status,
            signature_value=signature_value,
        )

        hash_signing_status_ok.additional_properties = d
        return hash_signing_status_ok

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
