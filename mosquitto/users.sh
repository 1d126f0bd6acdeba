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
# kill -HUP <pid>. mosquitto_passwd comes with the `mosquitto` package (apt-get install mosquitto).
set -euo pipefail

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

PASSWD_FILE=${PASSWD_FILE:-$(cd "$(dirname "$0")" && pwd)/passwd}

need_passwd_tool() {
  command -v mosquitto_passwd >/dev/null || {
    echo "users.sh: mosquitto_passwd is not installed (apt-get install mosquitto)" >&2
    exit 1
  }
}

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
    need_passwd_tool
    read_password "$2"
    create=()
    if [[ ! -e $PASSWD_FILE ]]; then
      create=(-c)
      (umask 077 && : >"$PASSWD_FILE")
    fi
    # printf is a shell builtin: the password goes through a pipe, never through argv.
    printf '%s\n%s\n' "$password" "$password" | mosquitto_passwd "${create[@]}" "$PASSWD_FILE" "$2" >/dev/null
    chmod 600 "$PASSWD_FILE"
    reload_hint "user $2 set in $PASSWD_FILE"
    ;;
  remove)
    [[ $# -eq 2 ]] || usage
    need_passwd_tool
    [[ -e $PASSWD_FILE ]] || { echo "users.sh: $PASSWD_FILE does not exist" >&2; exit 1; }
    if ! cut -d: -f1 "$PASSWD_FILE" | grep -qxF -- "$2"; then
      echo "users.sh: no user $2 in $PASSWD_FILE" >&2
      exit 1
    fi
    mosquitto_passwd -D "$PASSWD_FILE" "$2"
    reload_hint "user $2 removed from $PASSWD_FILE (the reload also closes its open connections)"
    ;;
  list)
    [[ $# -eq 1 ]] || usage
    [[ -e $PASSWD_FILE ]] || exit 0
    cut -d: -f1 "$PASSWD_FILE"
    ;;
  *) usage ;;
esac
