#!/bin/sh
# Run a command inside a private, hermetic network namespace (Linux, root or user namespaces):
# loopback plus one veth pair whose far end leads nowhere. Chromium gathers WebRTC host
# candidates only from a non-loopback interface with a default route, so v0 gets a TEST-NET-1
# address (RFC 5737, never routed) and a default route via a gateway that does not exist.
# Peers, the relay and the page server all talk over 127.0.0.1 and 192.0.2.50 inside the
# namespace; nothing can reach or leave through a real interface.
#
# Usage: test/netns/run.sh <command> [args...]
# Already inside (SWARMGRAD_NETNS=1): runs the command as is.
# Root uses `unshare -n`; others try `unshare -rn` (user namespace) and fail loudly otherwise.
set -eu
if [ "${SWARMGRAD_NETNS:-}" = 1 ]; then exec "$@"; fi
if [ "$(id -u)" = 0 ]; then UNSHARE="unshare -n"; else UNSHARE="unshare -rn"; fi
exec $UNSHARE sh -c '
  set -e
  ip link set lo up
  ip link add v0 type veth peer name v1
  ip addr add 192.0.2.50/24 dev v0
  ip link set v0 up
  ip link set v1 up
  ip route add default via 192.0.2.1 dev v0
  export SWARMGRAD_NETNS=1
  exec "$@"' sh "$@"
