#!/usr/bin/env bash
# The documentation site builds with no broken link or reference, the sdist and wheel pass
# `twine check --strict`, and the deployment files pass scripts/check_deploy.py.
# Needs the docs and server extras: pip install -e '.[docs,server]'.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "-- mkdocs build --strict (and the Read the Docs configuration against its schema)"
python -m check_jsonschema --builtin-schema vendor.readthedocs .readthedocs.yaml
python -m mkdocs build --strict --quiet --site-dir "$out/site"

echo "-- python -m build, then twine check --strict"
python -m build -q --outdir "$out/dist" . >/dev/null
python -m twine check --strict "$out"/dist/*

echo "-- deployment files"
python scripts/check_deploy.py
