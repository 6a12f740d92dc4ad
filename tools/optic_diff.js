// Optic's diff of two OpenAPI files as one JSON document on stdout (run by tools/optic.py).
//
// `optic diff --json` prints the changelog but not the results of its breaking-change
// rules, which only reach the terminal as text; this calls the same functions as
// `optic diff FILE1 FILE2 --check --validation loose` and prints both as data:
// {"changelog": <optic's JSON changelog>, "failed": [<failed rule results>]}.
// The internal modules are those of the exact version tools/optic.py pins.
"use strict";
const path = require("path");

const build = path.join(__dirname, "..", ".tools", "optic", "node_modules", "@useoptic", "optic", "build");
const { initializeConfig } = require(path.join(build, "config"));
const { loadSpec } = require(path.join(build, "utils", "spec-loaders"));
const { compute } = require(path.join(build, "commands", "diff", "compute"));
const { jsonChangelog } = require(path.join(build, "commands", "diff", "changelog-renderers", "json-changelog"));

async function main(base, head) {
  const config = await initializeConfig();
  // Loose validation: see tools/optic.py for why strict mode is not used.
  const options = { strict: false, denormalize: true };
  const baseFile = await loadSpec(base, config, options);
  const headFile = await loadSpec(head, config, options);
  const result = await compute([baseFile, headFile], config, { check: true, path: head });
  const failed = result.specResults.results
    .filter((rule) => !rule.passed && !rule.exempted)
    .map((rule) => ({
      rule: rule.name,
      severity: rule.severity,
      error: rule.error,
      where: rule.where,
      pointer: rule.location ? rule.location.jsonPath : null,
    }));
  const changelog = jsonChangelog({ from: baseFile.jsonLike, to: headFile.jsonLike }, result.changelogData);
  process.stdout.write(JSON.stringify({ changelog, failed }) + "\n");
}

main(process.argv[2], process.argv[3]).catch((error) => {
  const message = String((error && error.message) || error).split("\n")[0];
  process.stderr.write(`optic: ${message}\n`);
  process.exit(2);
});
