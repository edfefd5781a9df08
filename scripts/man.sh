#!/bin/sh
# scripts/man.sh OUTDIR VERSION: convert docs/man/*.md into roff man pages
# (go-md2man, a tool of the tools module, tools/go.mod) in OUTDIR, e.g. OUTDIR/ransomeye-tuner.8.
# `make man` and scripts/package.sh call it.
set -eu
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/man.sh OUTDIR VERSION}
version=${2:?usage: scripts/man.sh OUTDIR VERSION}
GO=${GO:-go}
mkdir -p "$out"
for src in docs/man/*.md; do
	page=$(basename "$src" .md)
	sed "s/@VERSION@/$version/g" "$src" >"$out/$page.md"
	"$GO" tool -modfile=tools/go.mod go-md2man -in "$out/$page.md" -out "$out/$page"
	rm -f "$out/$page.md"
done
