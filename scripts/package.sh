#!/bin/sh
# scripts/package.sh VERSION: build dist/ransomeye-tuner_VERSION_amd64.deb and
# dist/ransomeye-tuner-VERSION-1.x86_64.rpm from scripts/nfpm.yaml, with the
# binaries `make build` left in bin/ (`make package` runs both).
set -eu
cd "$(dirname "$0")/.."
version=${1:?usage: scripts/package.sh VERSION}
GO=${GO:-go}
start=$(date +%s%N)

for b in bin/ransomeye-tuner bin/ransomeye-tuner-generator; do
	[ -x "$b" ] || { echo "package: $b is missing: run 'make build' first" >&2; exit 1; }
done

stage=dist/stage
rm -rf "$stage"
mkdir -p "$stage/man" "$stage/scripts"

# Man pages, compressed as Debian policy wants them (-n: no name or time
# stamp in the header, so the package is reproducible).
scripts/man.sh "$stage/man" "$version"
for p in "$stage"/man/*.[58]; do
	gzip -9n "$p"
done

gzip -9n <scripts/debian/changelog >"$stage/changelog.gz"
gzip -9n <docs/design.md >"$stage/design.md.gz"

# Maintainer scripts: the shared functions, then each phase's body.
for phase in postinstall preremove postremove; do
	{
		echo '#!/bin/sh'
		echo "# $phase of ransomeye-tuner $version, built from scripts/maint/ (see there)."
		echo 'set -e'
		cat scripts/maint/common.sh
		echo
		cat "scripts/maint/$phase.sh"
	} >"$stage/scripts/$phase"
	chmod 0755 "$stage/scripts/$phase"
	sh -n "$stage/scripts/$phase"
done

deb="dist/ransomeye-tuner_${version}_amd64.deb"
rpm="dist/ransomeye-tuner-${version}-1.x86_64.rpm"
rm -f "$deb" "$rpm"
# Reproducible: every file's time stamp is the last commit's.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
VERSION=$version RELEASE= "$GO" tool -modfile=tools/go.mod nfpm package --config scripts/nfpm.yaml --packager deb --target "$deb"
VERSION=$version RELEASE=1 "$GO" tool -modfile=tools/go.mod nfpm package --config scripts/nfpm.yaml --packager rpm --target "$rpm"
end=$(date +%s%N)
echo "package: $deb and $rpm in $(( (end - start) / 1000000 )) ms"
