# Sourced by the cases that follow a printed remedy word for word (32b, 34,
# 44): the remedies as the tool prints them, never a copy.

# printed_remedies: the command after "then: " in each failing guarantee's
# remedy of status --json, in order, each once.
printed_remedies() {
  /usr/sbin/ransomeye-tuner status --json |
    sed -n 's/^ *"remedy": *"\(.*\)",\{0,1\}$/\1/p' | sed -n 's/.*then: //p' | awk '!seen[$0]++'
}

# guarantee_remedy NAME: the remedy status --json gives for the guarantee
# NAME (the whole text).
guarantee_remedy() {
  /usr/sbin/ransomeye-tuner status --json |
    awk -v name="\"name\": \"$1\"," '
      index($0, name) { on = 1 }
      on && /"remedy":/ { sub(/^ *"remedy": *"/, ""); sub(/",?$/, ""); print; exit }'
}

# marker_remedy: the command the failure marker's header says to run.
marker_remedy() {
  sed -n 's/^# Fix the cause below, then run: //p' /var/lock/ransomeye-resource-fail /run/ransomeye-tuner/resource-fail 2>/dev/null | head -n 1
}
