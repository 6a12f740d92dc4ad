from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="InitializeHashSigningOk")


@_attrs_define
class InitializeHashSigningOk:
    """The session started.

    Attributes:
        status (Literal['ok']): Always `ok` in a successful answer.
        token (str): A session token, UUID-shaped lowercase hex (not always a valid RFC 4122 UUID).
        control_code (str): The 4-digit Smart-ID verification code computed from the hash. Show it to the
            person, who checks that the phone shows the same code.
    """

    status: Literal["ok"]
    token: str
    control_code: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        token = self.token

        control_code = self.control_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "token": token,
                "control_code": control_code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        if not isinstance(src_dict, Mapping):
            raise TypeError(f"InitializeHashSigningOk expects a JSON object, got {type(src_dict).__name__}")
        d = dict(src_dict)
        status = cast(Literal["ok"], d.pop("status"))
        if status != "ok":
            raise ValueError(f"status must match const 'ok', got '{status}'")

        token = d.pop("token")
        if not isinstance(token, str):
            raise TypeError(f"token must be str, got {type(token).__name__}")

        control_code = d.pop("control_code")
        if not isinstance(control_code, str):
            raise TypeError(f"control_code must be str, got {type(control_code).__name__}")

        initialize_hash_signing_ok = cls(
            status=status,
            token=token,
            control_code=control_code,
        )

        initialize_hash_signing_ok.additional_properties = d
        return initialize_hash_signing_ok

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
