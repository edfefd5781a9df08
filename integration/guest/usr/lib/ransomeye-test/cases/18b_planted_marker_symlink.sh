# Case 18b (fault matrix row 18, symlink), sourced by report.sh: the decoy the planted
# link pointed at must be unchanged (root never wrote through the link).
kv case.decoy "$(cat /tmp/ransomeye-decoy 2>&1)"
kv case.decoy_owner "$(stat -c %U /tmp/ransomeye-decoy 2>&1)"
kv case.link_exists "$([ -L /run/lock/ransomeye-resource-fail ] && echo yes || echo no)"
