#!/bin/sh
# coturn's entrypoint in docker/compose.yaml: writes the configuration coturn runs with, the
# mounted docker/coturn/turnserver.docker.conf plus the TURN REST secret (TURN_SECRET, the same
# variable the signaling server gets) and, when set, the public address (EXTERNAL_IP), to a file
# only coturn's user can read, and starts coturn from it. The secret is never on a command line
# (the host's `ps` shows every container's command lines).
#
#   RTCGATE_COTURN_CONF  the configuration to start from (default /etc/coturn/rtcgate.conf)
#   RTCGATE_COTURN_OUT   where to write the result (default /tmp/turnserver.conf, a tmpfs)
set -eu
: "${TURN_SECRET:?TURN_SECRET is not set: coturn and the signaling server need the same secret}"
case "$TURN_SECRET" in
  *'
'*) echo 'TURN_SECRET must be one line' >&2 && exit 1 ;;
esac
in="${RTCGATE_COTURN_CONF:-/etc/coturn/rtcgate.conf}"
out="${RTCGATE_COTURN_OUT:-/tmp/turnserver.conf}"
umask 077
{
  cat "$in"
  printf '\nstatic-auth-secret=%s\n' "$TURN_SECRET"
  if [ -n "${EXTERNAL_IP:-}" ]; then printf 'external-ip=%s\n' "$EXTERNAL_IP"; fi
} >"$out"
exec turnserver -c "$out"
