"""Contract-test runner for Mark Sign API implementations (make contract)."""
