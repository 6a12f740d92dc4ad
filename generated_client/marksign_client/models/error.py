from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Error")


@_attrs_define
class Error:
    """Any failed request.

    Attributes:
        status (Literal['error']): Always `error` in a failed answer.
        message (str): What went wrong, for a person: in English on `/en` paths and in Lithuanian on
            the bare paths.
        error_code (int): A machine-readable code; its first three digits are the HTTP status.
            Codes documented by Mark Sign:

            | code | meaning |
            |---|---|
            | 40001 | some request parameters are invalid (see `message`) |
            | 40003 | invalid access token |
            | 40004 | phone is of incorrect format |
            | 40005 | person code is of incorrect format |
            | 40020 | the person refused the session or chose the wrong verification code |
            | 40021 | session expired (no confirmation before the timeout) |
            | 40022 | document format corrupted, unusable |
            | 40401 | invalid user (no Smart-ID account) |
            | 40402 | session for given token was not found |
            | 40403 | account is not qualified |
            | 40801 | timeout while acquiring certificate |
            | 50000 | issues while processing the request |
            | 50001 | technical error in service |
            | 50002 | cannot establish a connection |
            | 50003 | not authorized to use the service |
            | 50004 | client side configuration is incorrect |

            HTTP-level codes (assumed, see the document's description): `40400` unknown
            path, `40500` method not allowed, `41300` body too large, `41500`
            unsupported content type, `42900` too many live sessions.
    """

    status: Literal["error"]
    message: str
    error_code: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        message = self.message

        error_code = self.error_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "message": message,
                "error_code": error_code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        if not isinstance(src_dict, Mapping):
            raise TypeError(f"Error expects a JSON object, got {type(src_dict).__name__}")
        d = dict(src_dict)
        status = cast(Literal["error"], d.pop("status"))
        if status != "error":
            raise ValueError(f"status must match const 'error', got '{status}'")

        message = d.pop("message")
        if not isinstance(message, str):
            raise TypeError(f"message must be str, got {type(message).__name__}")

        error_code = d.pop("error_code")
        if isinstance(error_code, bool) or not isinstance(error_code, int):
            raise TypeError(f"error_code must be int, got {type(error_code).__name__}")

        error = cls(
            status=status,
            message=message,
            error_code=error_code,
        )

        error.additional_properties = d
        return error

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
