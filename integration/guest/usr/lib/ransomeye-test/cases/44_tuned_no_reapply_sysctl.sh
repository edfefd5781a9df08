# Case 44, sourced by report.sh: tuned with reapply_sysctl = 0.
. /usr/lib/ransomeye-test/tuned.sh
# Then the remedy of ransomeye-tuner(8), TUNED, word for word (the lines
# between "remedy begin" and "remedy end" are the man page's example;
# scripts/readme_test.go checks they match).
# remedy begin
mkdir -p /etc/tuned/ransomeye
cat >/etc/tuned/ransomeye/tuned.conf <<'PROFILE'
[main]
include=virtual-guest

[sysctl]
vm.swappiness=10
vm.vfs_cache_pressure=50
PROFILE
tuned-adm profile ransomeye
systemctl restart ransomeye-tuner.service
systemctl start ransomeye-core.service
# remedy end
kv case.remedy_rc $?
kv case.remedy_tuned_profile "$(cat /etc/tuned/active_profile 2>/dev/null)"
kv case.swappiness_after_remedy "$(sysctl -n vm.swappiness)"
kv case.core_state_after_remedy "$(systemctl show ransomeye-core.service -p ActiveState --value)"
