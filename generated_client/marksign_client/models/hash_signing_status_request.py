from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="HashSigningStatusRequest")


@_attrs_define
class HashSigningStatusRequest:
    """The status request. Keys that are not listed are ignored.

    Attributes:
        access_token (str): The API access token of the relying party. It is a secret: clients must not log
            it. The docs' sample is `52900c96-3f60-5307-3719-5948f0191da6`.
    """

    access_token: str = _attrs_field(repr=False)
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        access_token = self.access_token

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "access_token": access_token,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        if not isinstance(src_dict, Mapping):
            raise TypeError(f"HashSigningStatusRequest expects a JSON object, got {type(src_dict).__name__}")
        d = dict(src_dict)
        access_token = d.pop("access_token")
        if not isinstance(access_token, str):
            raise TypeError(f"access_token must be str, got {type(access_token).__name__}")

        hash_signing_status_request = cls(
            access_token=access_token,
        )

        hash_signing_status_request.additional_properties = d
        return hash_signing_status_request

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
