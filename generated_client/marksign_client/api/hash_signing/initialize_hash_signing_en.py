from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.initialize_hash_signing_ok import InitializeHashSigningOk
from ...models.initialize_hash_signing_request import InitializeHashSigningRequest
from ...types import Response


def _get_kwargs(
    *,
    body: InitializeHashSigningRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/en/smartid/sign/hash.json",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | InitializeHashSigningOk:
    try:
        if response.status_code == 200:
            response_200 = InitializeHashSigningOk.from_dict(response.json())

            return response_200

        if response.status_code == 400:
            response_400 = Error.from_dict(response.json())

            return response_400

        if response.status_code == 404:
            response_404 = Error.from_dict(response.json())

            return response_404

        if response.status_code == 408:
            response_408 = Error.from_dict(response.json())

            return response_408

        if response.status_code == 500:
            response_500 = Error.from_dict(response.json())

            return response_500

        response_default = Error.from_dict(response.json())

        return response_default

    except (KeyError, TypeError, ValueError) as error:
        raise errors.UnexpectedResponse.from_parse_error(response.status_code, response.content, error) from error


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | InitializeHashSigningOk]:
    return Response(
        status_code=response.status_code,
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: InitializeHashSigningRequest,
) -> Response[Error | InitializeHashSigningOk]:
    """Initialize hash signing (locale EN)

     Starts a Smart-ID signing session for a hash: the person gets a notification on
    the phone. Answers with the session `token` for the status call and the
    `control_code` to show to the person. Messages are in English.

    Error codes (`x-error-codes`): 40001, 40003, 40005, 40401, 40403, 40801, 50000,
    50001, 50002, 50003, 50004.

    Args:
        body (InitializeHashSigningRequest): The hash to sign and the person who signs it. Keys
            that are not listed are
            ignored. `hash` has 64 hex digits for `SHA256` and 128 for `SHA512`.

    Raises:
        errors.UnexpectedResponse: If the body does not fit the model declared for its status (not JSON, or JSON of another shape).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | InitializeHashSigningOk]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: InitializeHashSigningRequest,
) -> Error | InitializeHashSigningOk | None:
    """Initialize hash signing (locale EN)

     Starts a Smart-ID signing session for a hash: the person gets a notification on
    the phone. Answers with the session `token` for the status call and the
    `control_code` to show to the person. Messages are in English.

    Error codes (`x-error-codes`): 40001, 40003, 40005, 40401, 40403, 40801, 50000,
    50001, 50002, 50003, 50004.

    Args:
        body (InitializeHashSigningRequest): The hash to sign and the person who signs it. Keys
            that are not listed are
            ignored. `hash` has 64 hex digits for `SHA256` and 128 for `SHA512`.

    Raises:
        errors.UnexpectedResponse: If the body does not fit the model declared for its status (not JSON, or JSON of another shape).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | InitializeHashSigningOk
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: InitializeHashSigningRequest,
) -> Response[Error | InitializeHashSigningOk]:
    """Initialize hash signing (locale EN)

     Starts a Smart-ID signing session for a hash: the person gets a notification on
    the phone. Answers with the session `token` for the status call and the
    `control_code` to show to the person. Messages are in English.

    Error codes (`x-error-codes`): 40001, 40003, 40005, 40401, 40403, 40801, 50000,
    50001, 50002, 50003, 50004.

    Args:
        body (InitializeHashSigningRequest): The hash to sign and the person who signs it. Keys
            that are not listed are
            ignored. `hash` has 64 hex digits for `SHA256` and 128 for `SHA512`.

    Raises:
        errors.UnexpectedResponse: If the body does not fit the model declared for its status (not JSON, or JSON of another shape).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | InitializeHashSigningOk]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: InitializeHashSigningRequest,
) -> Error | InitializeHashSigningOk | None:
    """Initialize hash signing (locale EN)

     Starts a Smart-ID signing session for a hash: the person gets a notification on
    the phone. Answers with the session `token` for the status call and the
    `control_code` to show to the person. Messages are in English.

    Error codes (`x-error-codes`): 40001, 40003, 40005, 40401, 40403, 40801, 50000,
    50001, 50002, 50003, 50004.

    Args:
        body (InitializeHashSigningRequest): The hash to sign and the person who signs it. Keys
            that are not listed are
            ignored. `hash` has 64 hex digits for `SHA256` and 128 for `SHA512`.

    Raises:
        errors.UnexpectedResponse: If the body does not fit the model declared for its status (not JSON, or JSON of another shape).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | InitializeHashSigningOk
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
