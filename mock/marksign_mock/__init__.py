"""Stateful simulator of Mark Sign's Smart-ID hash-signing API."""
