"""Errors that the API functions raise.

Every response is either parsed into the model declared for its status (with a `default`
response every status is declared, including ones that `http.HTTPStatus` does not know,
such as 520) or the call raises `UnexpectedResponse`. A bad response never escapes as a
bare `ValueError`, `KeyError` or `json.JSONDecodeError`.
"""

import json
from typing import Self

# How much of the body an error message shows; the whole body stays in `content`.
_BODY_PREVIEW_BYTES = 200


class UnexpectedStatus(Exception):
    """Raised by api functions when the response status an undocumented status and Client.raise_on_unexpected_status is True"""

    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content

        super().__init__(
            f"Unexpected status code: {status_code}\n\nResponse content:\n{content.decode(errors='ignore')}"
        )


class UnexpectedResponse(Exception):
    """The response body does not fit the model declared for its status.

    Raised by `sync`, `sync_detailed`, `asyncio` and `asyncio_detailed` of every operation when
    the body is not JSON (for example a proxy's HTML error page), or is JSON of another shape:
    a required key is missing, `status` is not the declared constant (`{"status": "waiting"}`
    on a 200), a value has another type than declared (`"signature_value": null`,
    `"error_code": "abc"`), or it is not an object at all (also not an array of key-value
    pairs). The content type is not checked: a JSON body
    that fits the model is parsed whatever the `Content-Type` says.

    Attributes:
        status_code: The HTTP status code as sent, any integer (e.g. 502 or 520).
        content: The raw response body.
        reason: Why the body does not fit, for a person.

    The message shows the status, the reason and the start of the response body; it never
    includes the request, which carries the access token.
    """

    def __init__(self, status_code: int, content: bytes, reason: str) -> None:
        self.status_code = status_code
        self.content = content
        self.reason = reason
        preview = content[:_BODY_PREVIEW_BYTES].decode(errors="replace")
        super().__init__(f"Unexpected response (HTTP {status_code}): {reason}; body: {preview!r}")

    @classmethod
    def from_parse_error(cls, status_code: int, content: bytes, error: Exception) -> Self:
        """Build the exception from the error that parsing the body raised."""
        if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
            reason = "the body is not JSON"
        elif isinstance(error, KeyError):
            reason = f"the body lacks the key {error}"
        else:
            reason = f"the body does not fit the declared model ({type(error).__name__}: {error})"
        return cls(status_code, content, reason)


__all__ = ["UnexpectedResponse", "UnexpectedStatus"]
