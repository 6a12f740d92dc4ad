"""Contract-test runner for Mark Sign API implementations (`make contract`).

`marksign-contract` runs `schemathesis run` with `schemathesis.toml` (every phase and check)
against the simulator it starts, or against --base-url with safety rails. One job per module:

- `cli`: options, the plan of a run (decided before anything is sent), the summary;
- `target`: loopback or not, from the URL's text alone (no DNS);
- `simulator`: `marksign-mock` as a subprocess on a free loopback port;
- `hooks`: Schemathesis hooks (the access token on the wire only, the request budget) and
  two checks of the session token;
- `environment`: what the runner tells the hooks, through environment variables.

Reports go to `reports/contract/` (junit.xml, requests.har, report.json, simulator.log).
"""
