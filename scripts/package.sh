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

# The RPM's %changelog from the same history (scripts/debian/changelog), in
# the YAML nfpm reads (goreleaser/chglog): one entry per Debian entry, its
# version with the RPM release (rpmlint wants version-release), each bullet
# a note. Only the RPM's configuration names it: for a .deb nfpm would add a
# changelog.Debian.gz, wrong for a native package (lintian).
awk -v release=1 '
	function flush() { if (note != "") { gsub(/\\/, "\\\\", note); gsub(/"/, "\\\"", note); print "    - note: \"" note "\""; note = "" } }
	/^[a-z0-9][a-z0-9.+-]* \(/ { v = $2; gsub(/[()]/, "", v); print "- semver: " v "-" release; print "  changes:"; next }
	/^  \* / { flush(); note = substr($0, 5); next }
	/^    [^ ]/ { sub(/^ +/, ""); note = note " " $0; next }
	/^ -- / {
		flush()
		line = substr($0, 5); split(line, part, "  ")
		cmd = "date -u -d \"" part[2] "\" +%Y-%m-%dT%H:%M:%SZ"; cmd | getline when; close(cmd)
		print "  packager: " part[1]; print "  date: " when
	}
' scripts/debian/changelog >"$stage/changelog.yml"
grep -q '^  date: 2' "$stage/changelog.yml" || { echo "package: no dated entry in the changelog made from scripts/debian/changelog" >&2; exit 1; }
{ cat scripts/nfpm.yaml; echo "changelog: $stage/changelog.yml"; } >"$stage/nfpm-rpm.yaml"
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
# Where each packager's systemd keeps units and generators, and udev its
# rules (nfpm.yaml says why).
VERSION=$version RELEASE= SYSTEMD_UNIT_DIR=/lib/systemd/system SYSTEMD_GENERATOR_DIR=/lib/systemd/system-generators UDEV_RULES_DIR=/lib/udev/rules.d \
	"$GO" tool -modfile=tools/go.mod nfpm package --config scripts/nfpm.yaml --packager deb --target "$deb"
VERSION=$version RELEASE=1 SYSTEMD_UNIT_DIR=/usr/lib/systemd/system SYSTEMD_GENERATOR_DIR=/usr/lib/systemd/system-generators UDEV_RULES_DIR=/usr/lib/udev/rules.d \
	"$GO" tool -modfile=tools/go.mod nfpm package --config "$stage/nfpm-rpm.yaml" --packager rpm --target "$rpm"
end=$(date +%s%N)
echo "package: $deb and $rpm in $(( (end - start) / 1000000 )) ms"
