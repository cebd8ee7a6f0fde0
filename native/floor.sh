#!/usr/bin/env bash
# Configures and builds the native floor benchmark into native/build/, then runs it with the given arguments.
#   bash native/floor.sh [--shape NAME[,NAME..]] [--iters N] [--batch N] [--csv FILE] [--selftest] [--help]
# Environment: FLOOR_DNNL_VERSION (org.bytedeco:dnnl version, default 3.11-1.5.13), FLOOR_CMAKE_ARGS (extra
# arguments for the configure step).
set -euo pipefail
native="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$native/.." && pwd)"
build="$native/build"
mkdir -p "$build"

configure=(cmake -S "$root/cmake" -B "$build" -DCMAKE_BUILD_TYPE=Release)
# The version is a cache variable; without FLOOR_DNNL_VERSION drop it so that the default applies again, rather
# than whatever an earlier FLOOR_DNNL_VERSION left in the cache.
if [[ -n "${FLOOR_DNNL_VERSION:-}" ]]; then configure+=("-DDNNL_PRESET_VERSION=$FLOOR_DNNL_VERSION")
else configure+=(-UDNNL_PRESET_VERSION); fi
# shellcheck disable=SC2206
if [[ -n "${FLOOR_CMAKE_ARGS:-}" ]]; then configure+=($FLOOR_CMAKE_ARGS); fi

# Quiet unless something fails: the benchmark's own output should stay readable.
if ! "${configure[@]}" >"$build/configure.log" 2>&1; then
    cat "$build/configure.log" >&2
    echo "floor.sh: configure failed (log: $build/configure.log)" >&2
    exit 1
fi
if ! cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >"$build/build.log" 2>&1; then
    cat "$build/build.log" >&2
    echo "floor.sh: build failed (log: $build/build.log)" >&2
    exit 1
fi
exec "$build/floor" "$@"
