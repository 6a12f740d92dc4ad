"""A client library for accessing Mark Sign Smart-ID hash signing API"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
