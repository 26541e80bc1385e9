#!/usr/bin/env bash
# Installs the build into a scratch prefix, builds tests/package against it
# with find_package(s3reconcile), and runs it on a folder of two files.
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d /tmp/s3r-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/s3reconcile"
test -f "$work/prefix/include/s3reconcile/reconcile.h"
test -f "$work/prefix/include/s3reconcile/postgres_store.h"
test -f "$work/prefix/share/doc/s3reconcile/examples/s3reconcile.service"
cmake -S "$source/tests/package" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
mkdir -p "$work/objects/bkt"
echo a > "$work/objects/bkt/a"
echo b > "$work/objects/bkt/b"
out=$("$work/consumer/consumer" "$work/objects" "$work/index.db")
[ "$out" = "imported 2" ] || { echo "consumer printed: $out" >&2; exit 1; }
echo "package ok: installed, found with find_package, linked, ran"
