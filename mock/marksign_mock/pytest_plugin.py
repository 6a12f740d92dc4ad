"""pytest plugin: fixtures that give a test a running simulator (filled in by the mock package)."""
