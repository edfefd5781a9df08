#!/usr/bin/env bash
# Builds the SELinux variant of the boot-suite base (SUITE=bookworm-selinux)
# on top of the cached bookworm base: a copy of its root filesystem with the
# reference policy (selinux-policy-default, Debian's build of refpolicy),
# policycoreutils (setfiles, semodule) and selinux-utils installed with the
# image's own apt, and /etc/selinux/config saying permissive. The kernel is
# the bookworm base's (Debian's kernels build SELinux in; the boot's command
# line turns it on). The tree is NOT labelled here: the harness labels the
# whole staged root with setfiles after it installs the project, so that the
# project's files get their labels too.
#
# Usage: build-selinux.sh OUTDIR BASEDIR MIRROR
#   BASEDIR is the bookworm base (rootfs/, vmlinuz, packages.txt);
#   OUTDIR gets the same layout.
# Needs root, network access to MIRROR, chroot and mount, and build-layer.sh
# beside it (the harness hashes both into the base's key).
set -euo pipefail
out=$1
base=$2
mirror=$3
packages="selinux-policy-default policycoreutils selinux-utils"

# The packages as any layer gets them (build-layer.sh), then the policy's
# configuration, before the tree takes its cached name.
layer="$out.layer.$$"
trap 'rm -rf "$layer"' EXIT
bash "$(dirname "$0")/build-layer.sh" "$layer" "$base" "$mirror" bookworm $packages
# Permissive unless the kernel's command line says enforcing=1; the
# reference policy's store, built by the package's postinst.
cat >"$layer/rootfs/etc/selinux/config" <<'CONF'
SELINUX=permissive
SELINUXTYPE=default
CONF
trap - EXIT
rm -rf "$out"
mv "$layer" "$out"
echo "build-selinux: done: $out" >&2
