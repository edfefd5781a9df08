# Case 44, sourced by report.sh: tuned with reapply_sysctl = 0.
. /usr/lib/ransomeye-test/tuned.sh
. /usr/lib/ransomeye-test/remedy.sh
# What status says of vm.swappiness: it names tuned, its profile and
# reapply_sysctl, and gives the TUNED remedy.
remedy=$(guarantee_remedy sysctl:vm.swappiness)
kv case.status_remedy "$remedy"
then_cmd=$(printf '%s\n' "$remedy" | sed -n 's/.*then: //p')
kv case.status_remedy_command "$then_cmd"
# Then the remedy of ransomeye-tuner(8), TUNED, word for word (the lines
# between "remedy begin" and "remedy end" are the man page's example but
# its last command; scripts/readme_test.go checks they match), and that
# last command as status printed it.
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
# remedy end
kv case.remedy_profile_rc $?
block case-remedy-command sh -c "$then_cmd"
kv case.remedy_tuned_profile "$(cat /etc/tuned/active_profile 2>/dev/null)"
kv case.swappiness_after_remedy "$(sysctl -n vm.swappiness)"
kv case.core_state_after_remedy "$(systemctl show ransomeye-core.service -p ActiveState --value)"
