"""What changed in openapi.yaml, whether it breaks client code, and which version it needs.

One job per module: `history` reads openapi.yaml and generated_client/ at a git ref and
finds the base of the version check; `specdiff` turns Optic's diff into changes by
operation and schema, each breaking or not; `clientdiff` compares the Python API of two
clients with griffe; `versioning` holds the semantic-version rule; `report` puts them
together and renders the report; `changelog` keeps generated_client/CHANGELOG.md; `cli` is
`python -m generator.changes` (make api-diff).
"""
