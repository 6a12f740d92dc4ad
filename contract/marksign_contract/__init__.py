"""Contract-test runner for Mark Sign API implementations (`make contract`).

`marksign-contract` runs `schemathesis run` with `schemathesis.toml` (every phase and check)
against the simulator it starts (through `marksign_mock`'s launcher), or against
--base-url with safety rails. A thin CLI over private modules:

- `cli`: the options, and the run from plan to exit code;
- `_plan`: the plan of a run, decided before anything is sent;
- `_process`: the `schemathesis run` command, its output (redacted), Ctrl+C, the simulator;
- `_redaction`: the access token kept out of the output and the reports;
- `_summary`: Schemathesis's report to a summary and an exit code;
- `target`: loopback or not, from the URL's text alone (no DNS);
- `hooks`: Schemathesis hooks (the access token on the wire only, the request budget) and
  the kit's own checks (the session token, the HTTP status of every error);
- `environment`: what the runner tells the hooks, through environment variables.

Reports go to `reports/contract/` (junit.xml, requests.har, report.json, simulator.log).
"""
