"""Fixtures and hooks of the contract suite, as pytest plugin modules.

Each test module names the ones it uses in `pytest_plugins`:

- `targets`: the simulator in process (ASGI) and over a real socket (`marksign-mock` as a
  subprocess), and the Schemathesis schema loaded from each;
- `tally`: counts the cases the suite runs and prints the count at the end of the session.
"""
