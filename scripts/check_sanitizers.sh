#!/usr/bin/env bash
# Build the C core with AddressSanitizer and UndefinedBehaviorSanitizer (in a scratch copy of the checkout, so the
# checkout's own build is untouched) and run the tests that drive it: the forced failures of build_many, the kernel
# agreement, builder, parser fuzz and wire tests, the deflate and thread tests.  Any sanitizer report aborts the run
# and fails the script.
#
#   bash scripts/check_sanitizers.sh [PYTHON] [PYTEST ARGS...]   # PYTHON defaults to python3; needs gcc or clang
#
# The interpreter is not instrumented, so the ASan runtime is preloaded, Python's own allocator is switched off
# (PYTHONMALLOC=malloc: ASan then sees every block) and leak detection is off (an interpreter exits with live
# blocks by design).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
python=${1:-python3}
shift || true
cc=${CC:-gcc}
started=$SECONDS

tests=(
    tests/test_memory_safety.py
    tests/test_kernel_agreement.py
    tests/test_builder_shapes.py
    tests/test_fuzz_parser.py
    tests/test_services_walk.py
    tests/test_wire.py
    tests/test_vectors_007.py
    tests/test_deflate.py
    tests/test_threads.py
    tests/test_hardening.py
    tests/test_legacy_fast_path.py
)

asan=$("$cc" -print-file-name=libasan.so)
ubsan=$("$cc" -print-file-name=libubsan.so)
if [ ! -e "$asan" ] || [ ! -e "$ubsan" ]; then
    echo "check_sanitizers: $cc has no libasan.so or libubsan.so (install gcc, or point CC at a compiler with them)" >&2
    exit 1
fi
if ! "$python" -c "import Cython" 2>/dev/null; then
    "$python" -m pip install -q 'Cython>=3.1'
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
cp -r accesstoken2 src_c tests setup.py pyproject.toml README.md LICENSE "$work/src/"
find "$work/src" \( -name '*.so' -o -name '_kernel_cy.c' -o -name __pycache__ \) -prune -exec rm -rf {} +

echo "== build the C core with -fsanitize=address,undefined ($("$cc" --version | head -n 1))"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
if ! (cd "$work/src" && CC="$cc" CFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" ACCESSTOKEN2_REQUIRE_C=1 \
    "$python" setup.py -q build_ext --inplace >"$work/build.log" 2>&1); then
    tail -n 40 "$work/build.log" >&2
    exit 1
fi
module=$(ls "$work"/src/accesstoken2/_wire/_kernel_cy*.so)
if ! readelf -d "$module" | grep -q 'libasan'; then
    echo "check_sanitizers: $module is not linked with libasan" >&2
    exit 1
fi
echo "built in $((SECONDS - started)) s"

echo "== run ${#tests[@]} test modules under the sanitizers"
cd "$work/src"
# the scratch copy first on the path (an editable install of the checkout must not win), the C core required;
# --capture=sys leaves file descriptor 2 alone, so that a sanitizer's report reaches the log before it aborts
PYTHONPATH="$work/src" ACCESSTOKEN2_REQUIRE_C=1 PYTHONMALLOC=malloc LD_PRELOAD="$asan $ubsan" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$python" -m pytest -q -p no:cacheprovider --capture=sys -m "not slow" "${tests[@]}" "$@"
echo "sanitizer run passed in $((SECONDS - started)) s ($repo)"
