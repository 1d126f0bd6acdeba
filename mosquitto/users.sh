#!/usr/bin/env bash
# Adds and removes users of the secured profile's password file, wrapping mosquitto_passwd so that a
# password never appears on a command line (shell history, `ps`): it is read from a prompt or from stdin.
#
#   ./users.sh add NAME       prompts twice on a terminal; otherwise reads one line from stdin:
#                             printf '%s\n' "$PASSWORD" | ./users.sh add NAME
#                             (adding an existing NAME changes its password)
#   ./users.sh remove NAME
#   ./users.sh list
#
# PASSWD_FILE selects the file (default: passwd next to this script, which is /mosquitto/config/passwd in
# the container). The broker reads the file again on SIGHUP: docker compose kill -s HUP mosquitto, or
# kill -HUP <pid>. mosquitto_passwd is the host's (Debian's `mosquitto` package) or, when the host has
# none, the one in the image that docker-compose.yml names, run with `docker run`.
set -euo pipefail

usage() { # the comment block above, without its "# "
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

PASSWD_FILE=${PASSWD_FILE:-$(cd "$(dirname "$0")" && pwd)/passwd}

# mosquitto_passwd runs on a copy in a private folder and the result is written back into PASSWD_FILE: the
# file keeps its owner and mode (uid 1883 in Docker, `mosquitto` on a system install), mosquitto_passwd finds
# the file owned by the user running it (2.0.16 and later warn otherwise) and writes its backup file there.
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

image_of_compose_file() {
  sed -n 's/^[[:space:]]*image:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$(cd "$(dirname "$0")" && pwd)/docker-compose.yml" 2>/dev/null | head -n 1
}

# run_passwd ARGS...: mosquitto_passwd ARGS with the password file as $work/passwd, stdin passed on.
run_passwd() {
  if command -v mosquitto_passwd >/dev/null; then
    mosquitto_passwd "$@"
    return
  fi
  local image
  image=$(image_of_compose_file)
  if ! command -v docker >/dev/null || [[ -z $image ]]; then
    echo "users.sh: mosquitto_passwd is not installed and there is no docker to run it in the image (apt-get install mosquitto, or docker)" >&2
    exit 1
  fi
  # The same tool in the broker's image, as this user, on the private folder only.
  docker run --rm -i --network none --user "$(id -u):$(id -g)" -v "$work:$work" --entrypoint mosquitto_passwd "$image" "$@"
}

copy_in() { [[ ! -e $PASSWD_FILE ]] || cat "$PASSWD_FILE" >"$work/passwd"; }
copy_out() { cat "$work/passwd" >"$PASSWD_FILE"; } # a new file is made 600 (umask), an existing one keeps its mode

check_name() {
  if [[ -z $1 || $1 =~ [:/+#[:space:]] ]]; then
    echo "users.sh: \"$1\" is not a usable username (no spaces, ':', '/', '+' or '#': it is the ACL's %u)" >&2
    exit 2
  fi
}

read_password() { # sets $password
  local again
  if [[ -t 0 ]]; then
    read -rs -p "Password for $1: " password && echo >&2
    read -rs -p "Again: " again && echo >&2
    if [[ $password != "$again" ]]; then echo "users.sh: the passwords differ" >&2; exit 1; fi
  else
    IFS= read -r password || [[ -n $password ]] || { echo "users.sh: no password on stdin" >&2; exit 1; }
  fi
  if [[ -z $password ]]; then echo "users.sh: empty password" >&2; exit 1; fi
}

reload_hint() {
  echo "users.sh: $1. Reload the broker: docker compose kill -s HUP mosquitto (Docker) or kill -HUP <pid>" >&2
}

[[ $# -ge 1 ]] || usage
case $1 in
  add)
    [[ $# -eq 2 ]] || usage
    check_name "$2"
    read_password "$2"
    copy_in
    create=()
    [[ -e $work/passwd ]] || create=(-c)
    # printf is a shell builtin: the password goes through a pipe, never through argv.
    printf '%s\n%s\n' "$password" "$password" | run_passwd "${create[@]}" "$work/passwd" "$2" >/dev/null
    copy_out
    reload_hint "user $2 set in $PASSWD_FILE"
    ;;
  remove)
    [[ $# -eq 2 ]] || usage
    [[ -e $PASSWD_FILE ]] || { echo "users.sh: $PASSWD_FILE does not exist" >&2; exit 1; }
    if ! cut -d: -f1 "$PASSWD_FILE" | grep -qxF -- "$2"; then
      echo "users.sh: no user $2 in $PASSWD_FILE" >&2
      exit 1
    fi
    copy_in
    run_passwd -D "$work/passwd" "$2"
    copy_out
    reload_hint "user $2 removed from $PASSWD_FILE (the reload also closes its open connections)"
    ;;
  list)
    [[ $# -eq 1 ]] || usage
    [[ -e $PASSWD_FILE ]] || exit 0
    cut -d: -f1 "$PASSWD_FILE"
    ;;
  *) usage ;;
esac
