#!/usr/bin/env bash
# Builds the C core's test driver (tests/c/driver.c: the published vectors, deflate/inflate round trips,
# the thread shim) for five targets and runs it on each:
#   native, aarch64 (qemu-user, -cpu max: the ARMv8 SHA-2 path, then the portable one), s390x (big-endian,
#   qemu-user), i686 (32-bit) and x86_64 Windows (mingw-w64, run under wine).
# Cross builds are static, so qemu needs no target libraries.  Missing compilers and emulators are installed
# with apt-get (apt-get update first); set PORTABILITY_TARGETS to a subset, e.g. "native aarch64".
#
#   bash scripts/check_portability.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
targets=${PORTABILITY_TARGETS:-native aarch64 s390x i686 mingw}
started=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# tool -> Debian package
declare -A package=(
    [qemu-aarch64]=qemu-user [qemu-s390x]=qemu-user
    [aarch64-linux-gnu-gcc]="gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
    [s390x-linux-gnu-gcc]="gcc-s390x-linux-gnu libc6-dev-s390x-cross"
    [i686-linux-gnu-gcc]="gcc-i686-linux-gnu libc6-dev-i386-cross"
    [x86_64-w64-mingw32-gcc]=gcc-mingw-w64-x86-64 [/usr/lib/wine/wine64]=wine64
)
declare -A needs=(
    [native]="" [aarch64]="aarch64-linux-gnu-gcc qemu-aarch64" [s390x]="s390x-linux-gnu-gcc qemu-s390x"
    [i686]="i686-linux-gnu-gcc" [mingw]="x86_64-w64-mingw32-gcc /usr/lib/wine/wine64"
)
missing=()
for target in $targets; do
    for tool in ${needs[$target]}; do
        command -v "$tool" >/dev/null || missing+=(${package[$tool]})
    done
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    install_started=$SECONDS
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    echo "   installed in $((SECONDS - install_started)) s"
fi

python3 tests/c/make_vectors.py "$work/vectors.h"
sources=("$repo"/tests/c/driver.c "$repo"/src_c/*.c)
flags=(-O2 -std=c99 -Wall -Wextra -Werror -Wno-enum-compare -I"$repo/src_c" -I"$work")

# run_driver LABEL EXPECTED_SHA_LINE COMMAND...: runs the driver, shows its summary, checks the SHA path
run_driver() {
    local label=$1 sha=$2
    shift 2
    local output
    output=$("$@" 2>&1) || { echo "$output"; echo "check_portability: $label FAILED" >&2; exit 1; }
    if [ -n "$sha" ] && ! grep -q "SHA-256: $sha" <<<"$output"; then
        echo "$output"
        echo "check_portability: $label: expected the SHA-256 path '$sha'" >&2
        exit 1
    fi
    echo "   $label: $(grep 'SHA-256' <<<"$output" | sed 's/SHA-256: //'); $(tail -n 1 <<<"$output")"
}

for target in $targets; do
    step_started=$SECONDS
    echo "== $target"
    case $target in
        native)
            cc "${flags[@]}" "${sources[@]}" -o "$work/driver" -lpthread
            run_driver native "" "$work/driver"
            ;;
        aarch64)
            aarch64-linux-gnu-gcc -static "${flags[@]}" "${sources[@]}" -o "$work/driver-aarch64" -lpthread
            run_driver "aarch64, -cpu max" "the CPU's SHA instructions" qemu-aarch64 -cpu max "$work/driver-aarch64"
            run_driver "aarch64, portable SHA-256" "portable code" \
                env ACCESSTOKEN2_PORTABLE_SHA256=1 qemu-aarch64 -cpu max "$work/driver-aarch64"
            ;;
        s390x)
            s390x-linux-gnu-gcc -static "${flags[@]}" "${sources[@]}" -o "$work/driver-s390x" -lpthread
            run_driver "s390x (big-endian)" "portable code" qemu-s390x "$work/driver-s390x"
            ;;
        i686)
            i686-linux-gnu-gcc -static "${flags[@]}" "${sources[@]}" -o "$work/driver-i686" -lpthread
            run_driver "i686 (32-bit)" "portable code" "$work/driver-i686"
            ;;
        mingw)
            x86_64-w64-mingw32-gcc -static "${flags[@]}" "${sources[@]}" -o "$work/driver.exe"
            # a private wine prefix: nothing of the user's is touched, and no first-run dialogs
            export WINEPREFIX="$work/wine" WINEDEBUG=-all
            # Debian's wine64 package puts its loader outside PATH (the "wine" package adds a wrapper and 32-bit wine)
            run_driver "x86_64 Windows (mingw-w64, wine)" "" /usr/lib/wine/wine64 "$work/driver.exe"
            ;;
        *)
            echo "check_portability: unknown target $target" >&2
            exit 2
            ;;
    esac
    echo "   ($((SECONDS - step_started)) s)"
done
echo "portability check passed in $((SECONDS - started)) s"
