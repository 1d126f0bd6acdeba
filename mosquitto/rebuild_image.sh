#!/usr/bin/env bash
# Pulls the pinned image again, recreates the broker's container and checks that it stays up. When mosquitto
# does not come up (a config error, a file it cannot read), shows its log, stops the container (with
# `restart: unless-stopped` it would restart in a loop) and exits 1.
#   ./rebuild_image.sh            (in the folder that holds docker-compose.yml; uses `docker compose`)
# STARTUP_SECONDS (default 10) is how long the container must survive to count as started. When the image
# cannot be pulled (no registry reachable), it says so and goes on with the image the engine already has.
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

failed() { # failed REASON: the log, then the container stopped so that it does not restart in a loop
  echo "rebuild_image.sh: $1" >&2
  show_log
  compose stop mosquitto >&2 || true
  echo "rebuild_image.sh: stopped the container; fix the cause above, then run ./rebuild_image.sh again" >&2
  exit 1
}

# The image runs mosquitto as uid 1883, which must be able to write data/ and log/.
mkdir -p data log

compose config --quiet
image=$(compose config --images 2>/dev/null | head -n 1 || true)
# Pulled before the old container goes down, so a failed pull costs no downtime.
if ! compose pull mosquitto; then
  if [[ -n $image ]] && docker image inspect "$image" >/dev/null 2>&1; then
    echo "rebuild_image.sh: could not pull $image (no registry reachable?): going on with the local image" >&2
  else
    echo "rebuild_image.sh: could not pull ${image:-the image} and the engine does not have it" >&2
    exit 1
  fi
fi
compose down --remove-orphans
if ! compose up -d --force-recreate; then
  failed "docker compose up failed"
fi

# Up is not enough: with `restart: unless-stopped` a broker that exits on a bad config restarts in a loop.
deadline=$((SECONDS + ${STARTUP_SECONDS:-10}))
while ((SECONDS < deadline)); do
  id=$(compose ps -q mosquitto)
  state=$(docker inspect -f '{{.State.Status}} {{.RestartCount}}' "$id" 2>/dev/null || echo "missing 0")
  if [[ $state != "running 0" ]]; then
    failed "mosquitto is not running (state: $state)"
  fi
  sleep 1
done
echo "rebuild_image.sh: mosquitto is running" >&2
compose ps
