#!/usr/bin/env bash
# Takes the broker stack down, pulls the pinned image again, starts it, and checks that it stays up.
# When mosquitto does not come up (a config error, a file it cannot read), shows its log and exits 1.
#   ./rebuild_image.sh            (in the folder that holds docker-compose.yml; uses `docker compose`)
# STARTUP_SECONDS (default 10) is how long the container must survive to count as started.
set -euo pipefail
cd "$(dirname "$0")"

if docker compose version >/dev/null 2>&1; then
  compose() { docker compose "$@"; }
elif command -v docker-compose >/dev/null 2>&1; then
  compose() { docker-compose "$@"; }
else
  echo "rebuild_image.sh: neither 'docker compose' nor 'docker-compose' is available" >&2
  exit 1
fi

show_log() {
  echo "---- docker compose logs (last 50 lines) ----" >&2
  compose logs --no-color --tail 50 mosquitto >&2 || true
  if [[ -r log/mosquitto.log ]]; then
    echo "---- log/mosquitto.log (last 50 lines) ----" >&2
    tail -n 50 log/mosquitto.log >&2
  fi
}

# The image runs mosquitto as uid 1883, which must be able to write data/ and log/.
mkdir -p data log

compose config --quiet
compose down --remove-orphans
compose pull
if ! compose up -d --force-recreate; then
  show_log
  exit 1
fi

# Up is not enough: with `restart: unless-stopped` a broker that exits on a bad config restarts in a loop.
deadline=$((SECONDS + ${STARTUP_SECONDS:-10}))
while ((SECONDS < deadline)); do
  id=$(compose ps -q mosquitto)
  state=$(docker inspect -f '{{.State.Status}} {{.RestartCount}}' "$id" 2>/dev/null || echo "missing 0")
  if [[ $state != "running 0" ]]; then
    echo "rebuild_image.sh: mosquitto is not running (state: $state)" >&2
    show_log
    exit 1
  fi
  sleep 1
done
echo "rebuild_image.sh: mosquitto is running" >&2
compose ps
