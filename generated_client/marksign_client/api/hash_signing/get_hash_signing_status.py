from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.hash_signing_status_ok import HashSigningStatusOk
from ...models.hash_signing_status_request import HashSigningStatusRequest
from ...types import Response


def _get_kwargs(
    token: str,
    *,
    body: HashSigningStatusRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/smartid/sign/hash/status/{token}.json".format(
            token=quote(str(token), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | HashSigningStatusOk:
    try:
        if response.status_code == 200:
            response_200 = HashSigningStatusOk.from_dict(response.json())

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
) -> Response[Error | HashSigningStatusOk]:
    return Response(
        status_code=response.status_code,
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    body: HashSigningStatusRequest,
) -> Response[Error | HashSigningStatusOk]:
    """Hash signing status (locale LT)

     Waits for the outcome of the signing session started by initialize hash signing
    and answers with the signature of the hash once the person has confirmed. This is
    a long poll: it can take minutes. Messages are in Lithuanian.

    Error codes (`x-error-codes`): 40001, 40003, 40020, 40021, 40022, 40402, 50000,
    50001, 50002, 50003, 50004.

    Args:
        token (str): A session token, UUID-shaped lowercase hex (not always a valid RFC 4122
            UUID).
        body (HashSigningStatusRequest): The status request. Keys that are not listed are ignored.

    Raises:
        errors.UnexpectedResponse: If the body does not fit the model declared for its status (not JSON, or JSON of another shape).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | HashSigningStatusOk]
    """

    kwargs = _get_kwargs(
        token=token,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    body: HashSigningStatusRequest,
) -> Error | HashSigningStatusOk | None:
    """Hash signing status (locale LT)

     Waits for the outcome of the signing session started by initialize hash signing
    and answers with the signature of the hash once the person has confirmed. This is
    a long poll: it can take minutes. Messages are in Lithuanian.

    Error codes (`x-error-codes`): 40001, 40003, 40020, 40021, 40022, 40402, 50000,
    50001, 50002, 50003, 50004.

    Args:
        token (str): A session token, UUID-shaped lowercase hex (not always a valid RFC 4122
            UUID).
        body (HashSigningStatusRequest): The status request. Keys that are not listed are ignored.

    Raises:
        errors.UnexpectedResponse: If the body does not fit the model declared for its status (not JSON, or JSON of another shape).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | HashSigningStatusOk
    """

    return sync_detailed(
        token=token,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    body: HashSigningStatusRequest,
) -> Response[Error | HashSigningStatusOk]:
    """Hash signing status (locale LT)

     Waits for the outcome of the signing session started by initialize hash signing
    and answers with the signature of the hash once the person has confirmed. This is
    a long poll: it can take minutes. Messages are in Lithuanian.

    Error codes (`x-error-codes`): 40001, 40003, 40020, 40021, 40022, 40402, 50000,
    50001, 50002, 50003, 50004.

    Args:
        token (str): A session token, UUID-shaped lowercase hex (not always a valid RFC 4122
            UUID).
        body (HashSigningStatusRequest): The status request. Keys that are not listed are ignored.

    Raises:
        errors.UnexpectedResponse: If the body does not fit the model declared for its status (not JSON, or JSON of another shape).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | HashSigningStatusOk]
    """

    kwargs = _get_kwargs(
        token=token,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    body: HashSigningStatusRequest,
) -> Error | HashSigningStatusOk | None:
    """Hash signing status (locale LT)

     Waits for the outcome of the signing session started by initialize hash signing
    and answers with the signature of the hash once the person has confirmed. This is
    a long poll: it can take minutes. Messages are in Lithuanian.

    Error codes (`x-error-codes`): 40001, 40003, 40020, 40021, 40022, 40402, 50000,
    50001, 50002, 50003, 50004.

    Args:
        token (str): A session token, UUID-shaped lowercase hex (not always a valid RFC 4122
            UUID).
        body (HashSigningStatusRequest): The status request. Keys that are not listed are ignored.

    Raises:
        errors.UnexpectedResponse: If the body does not fit the model declared for its status (not JSON, or JSON of another shape).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | HashSigningStatusOk
    """

    return (
        await asyncio_detailed(
            token=token,
            client=client,
            body=body,
        )
    ).parsed
