#!/bin/sh
# scripts/package-check.sh VERSION: check the packages `make package` built.
# lintian on the .deb (any error fails; warnings are printed), and the .rpm's
# file list and scripts read back with rpm. CI runs it (`make package-check`).
set -eu
cd "$(dirname "$0")/.."
version=${1:?usage: scripts/package-check.sh VERSION}
deb="dist/ransomeye-tuner_${version}_amd64.deb"
rpm="dist/ransomeye-tuner-${version}-1.x86_64.rpm"
fail=0
bad() {
	echo "package-check: $*" >&2
	fail=1
}

# The units and the generator, under the directory each packager's systemd
# uses (UNITS is the unit directory's parent: /lib/systemd for the .deb,
# /usr/lib/systemd for the .rpm; scripts/nfpm.yaml says why).
units() {
	printf '%s\n' "$1/system-generators/ransomeye-tuner-generator" \
		"$1/system/ransomeye-tuner.service" \
		"$1/system/ransomeye-tuner-fail-closed.service" \
		"$1/system/ransomeye-tuner-metrics.service" \
		"$1/system/ransomeye-tuner-metrics.timer" \
		"$1/system/timers.target.wants/ransomeye-tuner-metrics.timer" \
		"$1/system/ransomeye-tuner-place.service" \
		"$1/system/multi-user.target.wants/ransomeye-tuner-place.service" \
		"$1/system/ransomeye-core.service.d/ransomeye-tuner-gate.conf"
}
# The other files both packages must install.
expected="/usr/sbin/ransomeye-tuner
/usr/lib/ransomeye-tuner/irqbalance-policy
/usr/lib/systemd/catalog/ransomeye-tuner.catalog
/usr/share/ransomeye-tuner/prometheus/ransomeye-tuner.rules.yml
/usr/share/ransomeye-tuner/prometheus/alertmanager.example.yml
/usr/lib/sysctl.d/60-ransomeye-tuner.conf
/etc/ransomeye/tuner.conf
/usr/share/man/man8/ransomeye-tuner.8.gz
/usr/share/man/man8/ransomeye-tuner-generator.8.gz
/usr/share/man/man5/ransomeye-tuner.conf.5.gz
/usr/share/bash-completion/completions/ransomeye-tuner
/usr/share/selinux/packages/ransomeye-tuner/ransomeye_tuner.cil"

# --- .deb ---
[ -f "$deb" ] || { echo "package-check: $deb is missing: run 'make package'" >&2; exit 1; }
# A symlink's line ends "NAME -> TARGET": take NAME.
deblist=$(dpkg-deb -c "$deb" | awk '{ if ($(NF-1) == "->") print $(NF-2); else print $NF }' | sed 's|^\./|/|')
for f in $expected $(units /lib/systemd) /usr/share/doc/ransomeye-tuner/copyright /usr/share/doc/ransomeye-tuner/changelog.gz /usr/share/doc/ransomeye-tuner/design.md.gz; do
	printf '%s\n' "$deblist" | grep -qx -- "$f" || bad "$deb lacks $f"
done
# Nothing of systemd's own under /usr/lib/systemd/system*: Debian 11's and
# 12's dpkg would not find it by the /lib path, and a removal warns.
printf '%s\n' "$deblist" | grep -E '^/usr/lib/systemd/system(-generators)?/.' |
	while read -r f; do bad "$deb installs $f under /usr/lib (want /lib/systemd, as Debian 12's systemd)"; done
dpkg-deb -f "$deb" Version | grep -qx -- "$version" || bad "$deb has version $(dpkg-deb -f "$deb" Version), want $version"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -e "$deb" "$tmp/control"
grep -qx /etc/ransomeye/tuner.conf "$tmp/control/conffiles" || bad "$deb: /etc/ransomeye/tuner.conf is not a conffile"
for s in postinst prerm postrm; do
	[ -x "$tmp/control/$s" ] || { bad "$deb has no $s"; continue; }
	sh -n "$tmp/control/$s" || bad "$deb: $s has a syntax error"
done
# lintian exits non-zero on errors (and only on errors with --fail-on error).
if command -v lintian >/dev/null 2>&1; then
	echo "package-check: lintian $deb"
	rc=0
	out=$(lintian --fail-on error --info "$deb" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v -e '^running with root privileges' -e '^$' || true
	[ "$rc" -eq 0 ] || bad "lintian reports errors on $deb (exit $rc)"
else
	bad "lintian is not installed (apt-get install lintian)"
fi

# --- .rpm ---
[ -f "$rpm" ] || { echo "package-check: $rpm is missing: run 'make package'" >&2; exit 1; }
if command -v rpm >/dev/null 2>&1; then
	rpmlist=$(rpm -qpl "$rpm" 2>/dev/null)
	for f in $expected $(units /usr/lib/systemd) /usr/share/licenses/ransomeye-tuner/LICENSE /usr/share/doc/ransomeye-tuner/design.md; do
		printf '%s\n' "$rpmlist" | grep -qx -- "$f" || bad "$rpm lacks $f"
	done
	# %changelog, newest first, for version-release (from scripts/debian/changelog).
	top=$(rpm -qp --changelog "$rpm" 2>/dev/null | head -n 1)
	case "$top" in
	"* "*" - $version-1") ;;
	*) bad "$rpm: the %changelog's newest entry is \"$top\", want one for $version-1" ;;
	esac
	rpm -qp --configfiles "$rpm" 2>/dev/null | grep -qx /etc/ransomeye/tuner.conf || bad "$rpm: /etc/ransomeye/tuner.conf is not a config file"
	rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" 2>/dev/null | grep -q '^cn /etc/ransomeye/tuner.conf$' ||
		bad "$rpm: /etc/ransomeye/tuner.conf is not %config(noreplace)"
	scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
	for s in 'postinstall scriptlet' 'preuninstall scriptlet' 'postuninstall scriptlet'; do
		printf '%s\n' "$scripts" | grep -q "^$s" || bad "$rpm has no $s"
	done
	for w in rt_postinstall rt_purge rt_stop rt_reload; do
		printf '%s\n' "$scripts" | grep -q "$w" || bad "$rpm scripts lack $w"
	done
	# The directories the package creates are its own, so that rpm -e
	# removes them (test-package-chroot.sh shows it).
	for d in /etc/ransomeye /usr/lib/systemd/system/ransomeye-core.service.d \
		/usr/share/doc/ransomeye-tuner /usr/share/licenses/ransomeye-tuner \
		/usr/lib/ransomeye-tuner /usr/share/ransomeye-tuner /usr/share/ransomeye-tuner/prometheus \
		/usr/share/selinux/packages/ransomeye-tuner; do
		printf '%s\n' "$rpmlist" | grep -qx -- "$d" || bad "$rpm does not own the directory $d"
	done
	# name-version-release.arch.rpm, as RPM tools name a package's file.
	nvra=$(rpm -qp --qf '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm' "$rpm" 2>/dev/null)
	[ "$(basename "$rpm")" = "$nvra" ] || bad "$rpm is not named $nvra (name-version-release.arch.rpm)"
	echo "package-check: rpm -qpl $rpm: $(printf '%s\n' "$rpmlist" | wc -l) files"
else
	bad "rpm is not installed (apt-get install rpm)"
fi
# rpmlint: every message fails, except those scripts/rpm/rpmlint.toml
# justifies.
if command -v rpmlint >/dev/null 2>&1; then
	echo "package-check: rpmlint $rpm"
	out=$(rpmlint -c scripts/rpm/rpmlint.toml "$rpm" 2>&1) || true
	printf '%s\n' "$out" | grep -E '^ransomeye-tuner|packages and' || true
	if printf '%s\n' "$out" | grep -q '^ransomeye-tuner[^ ]*: [EW]: '; then
		bad "rpmlint reports on $rpm (fix it, or justify it in scripts/rpm/rpmlint.toml)"
	fi
else
	bad "rpmlint is not installed (apt-get install rpmlint)"
fi

if [ "$fail" -ne 0 ]; then
	echo "package-check: FAILED" >&2
	exit 1
fi
echo "package-check: ok ($deb, $rpm)"
