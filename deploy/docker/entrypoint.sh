#!/bin/sh
# Container entrypoint: runs the Lotty process named by LOTTY_SERVICE (the image's SERVICE build
# argument) through tsx, passing the container's arguments on (e.g. the cli's subcommand).
# `--check` prints the entry file and fails when it is missing (the Dockerfile runs it at build
# time, test/deploy checks the mapping).
set -eu

case "${LOTTY_SERVICE:-}" in
  experiment | decision | metrics | guardrail | notification) entry="services/$LOTTY_SERVICE/src/main.ts" ;;
  embedded) entry="apps/embedded/src/main.ts" ;;
  cli) entry="apps/cli/src/main.ts" ;;
  *)
    echo "LOTTY_SERVICE must be experiment, decision, metrics, guardrail, notification, embedded or cli (got '${LOTTY_SERVICE:-}')" >&2
    exit 64
    ;;
esac

if [ "${1:-}" = "--check" ]; then
  [ -f "$entry" ] || { echo "missing entry file $entry" >&2; exit 66; }
  echo "$entry"
  exit 0
fi

exec node --import tsx "$entry" "$@"
