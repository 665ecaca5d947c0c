#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and NATS (JetStream) answer on their standard loopback ports,
# installing (Debian) and starting whichever is missing or down. Used by .ci/run and the tests.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 50); do port_open "$1" && return 0; sleep 0.2; done
  echo "ensure-services: $2 did not come up on port $1" >&2
  return 1
}
need_pkg() {
  command -v "$1" >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] || { echo "ensure-services: $1 missing and not root to install $2" >&2; return 1; }
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

if ! port_open 5432; then
  echo "ensure-services: starting PostgreSQL"
  need_pkg pg_ctlcluster postgresql
  cluster=$(ls /etc/postgresql | head -n1)
  pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
  wait_port 5432 PostgreSQL
fi

if ! port_open 6379; then
  echo "ensure-services: starting Redis"
  need_pkg redis-server redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379 Redis
fi

if ! port_open 4222; then
  echo "ensure-services: starting NATS (JetStream)"
  [ -x /usr/sbin/nats-server ] || need_pkg nats-server nats-server
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_port 4222 NATS
fi

# Trust auth for the postgres user is how these machines are set up; fail clearly if not.
psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1" >/dev/null
echo "ensure-services: PostgreSQL, Redis and NATS are up"
