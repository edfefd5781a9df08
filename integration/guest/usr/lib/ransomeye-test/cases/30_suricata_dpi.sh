# Case 30, sourced by report.sh: Debian 13's Suricata 7 as the DPI service,
# configured with ransomeye-tuner(8)'s drop-in and script (written into the
# image word for word from the man page's source), capturing on ens1f0 (a
# two-queue virtio NIC on a host tap, named by a .link file) with the
# package's own suricata.service masked.
# 1. The recipe: wait for the workers, record every thread and the status.
# 2. The wrong way, as an administrator might run it: threads: auto and
#    Suricata's default CPU sets (those of its suricata.yaml: management
#    and receive [0], workers "all", exclusive) with set-cpu-affinity on,
#    restart, record the same. (An include replaces a top-level key whole:
#    the sets are written out.)
. /usr/lib/ransomeye-test/suricata.sh
kv case.suricata_version "$(suricata -V 2>&1 | head -n 1)"
kv case.suricata_service "$(systemctl show -P LoadState suricata.service)"
kv case.nic "$(ls /sys/class/net | tr '\n' ' ')"
block case-recipe-include cat /run/suricata/ransomeye-cpus.yaml
suricata_wait case.recipe
cp /var/log/suricata/suricata.log /run/suricata-recipe.log 2>/dev/null

# 2. The wrong way. The drop-in replaced (same name): no script, an include
# of the administrator's own.
cat >/etc/suricata/admin-auto.yaml <<'YAML'
%YAML 1.1
---
af-packet:
  - interface: ens1f0
    threads: auto
    cluster-id: 99
    cluster-type: cluster_flow
threading:
  set-cpu-affinity: yes
  cpu-affinity:
    - management-cpu-set:
        cpu: [ 0 ]
    - receive-cpu-set:
        cpu: [ 0 ]
    - worker-cpu-set:
        cpu: [ "all" ]
        mode: "exclusive"
YAML
cat >/etc/systemd/system/ransomeye-dpi.service.d/50-suricata-cpus.conf <<'UNIT'
# boot suite case 30: Suricata sized and pinned by its own defaults
[Service]
ExecStart=
ExecStart=/usr/bin/suricata -c /etc/suricata/suricata.yaml --af-packet --include /etc/suricata/admin-auto.yaml
UNIT
systemctl daemon-reload
: >/var/log/suricata/suricata.log
systemctl restart ransomeye-dpi.service
kv case.auto_restart_rc $?
suricata_wait case.auto
