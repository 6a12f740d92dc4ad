"""Helpers that install and run this repository's external (non-Python) tools."""
