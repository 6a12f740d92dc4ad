"""Generates the typed client in generated_client/ from openapi.yaml (`python -m generator`)."""
