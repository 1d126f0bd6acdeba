#!/usr/bin/env bash
# Makes the certificates of the broker kit with openssl: a private certificate authority (CA), a server
# certificate for the broker and client certificates whose common name (CN) is the MQTT username (the
# secured profile's `use_identity_as_username true` turns the CN into the username).
#
#   certs/make-certs.sh                        CA (if missing) + server cert for localhost, 127.0.0.1 and ::1
#   certs/make-certs.sh server [NAME|IP ...]   CA (if missing) + server cert for localhost, 127.0.0.1, ::1 and NAMEs
#   certs/make-certs.sh client USERNAME ...    CA (if missing) + one client cert per USERNAME (CN=USERNAME)
#   certs/make-certs.sh sign FILE.csr ...      signs a device's own request (its key never leaves the device);
#                                              writes FILE.crt next to it, the CN is kept as it is
#   certs/make-certs.sh ca                     only the CA
#   certs/make-certs.sh -h | --help            this help
#
# Idempotent: an existing CA is kept; an existing certificate is kept while it is signed by this CA, valid
# for at least 30 more days and (server) covers the same names; otherwise it is made again. Each run ends
# by listing, on stdout, the files it made or kept and where they are.
#
# Files (in CERTS_DIR, default: the folder of this script):
#   ca.crt  ca.key                         the CA: ca.crt goes to brokers and clients, ca.key stays offline
#   server.crt  server.key                 the broker's certificate (+ key, readable by the broker's user only)
#   clients/USERNAME.crt  USERNAME.key     client certificates
# Private keys are made with mode 600 and are never committed (see .gitignore).
#
# Environment: CERTS_DIR, CA_DAYS (default 3650), DAYS (server/client validity, default 825),
# CA_SUBJECT (default "/CN=iotpubsub private CA").
set -euo pipefail

# The help is the comment block above (one text to keep up to date), without its "# " and without code.
help_text() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
usage() { # usage [MESSAGE]: a usage error, exit 2
  [[ $# -eq 0 ]] || echo "make-certs.sh: $*" >&2
  help_text >&2
  exit 2
}

# Checked before anything is made: asking for help or mistyping a command creates nothing.
defaulted=$(( $# == 0 )) # no arguments: the CA and a server certificate for this machine's local names
command=${1:-server}
case $command in
  -h | --help | help) help_text; exit 0 ;;
  ca | server | client | sign) ;;
  -*) usage "unknown option: $command" ;;
  *) usage "unknown command: $command" ;;
esac
[[ $# -eq 0 ]] || shift
if [[ $command == client || $command == sign ]] && [[ $# -eq 0 ]]; then usage "$command needs at least one argument"; fi

CERTS_DIR=${CERTS_DIR:-$(cd "$(dirname "$0")" && pwd)}
CA_DAYS=${CA_DAYS:-3650}
DAYS=${DAYS:-825}
CA_SUBJECT=${CA_SUBJECT:-/CN=iotpubsub private CA}
RENEW_SECONDS=$((30 * 24 * 3600))

command -v openssl >/dev/null || { echo "make-certs.sh: openssl is not installed (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$CERTS_DIR"
cd "$CERTS_DIR"
umask 077

log() { echo "make-certs.sh: $*" >&2; }

# What this run made or kept, listed at the end on stdout (progress goes to stderr as it happens).
report=()
note() { report+=("$1"$'\t'"$2"$'\t'"$3"); } # note made|kept FILES WHAT
summary() {
  [[ ${#report[@]} -gt 0 ]] || return 0
  echo "In $CERTS_DIR:"
  local line state files what
  for line in "${report[@]}"; do
    IFS=$'\t' read -r state files what <<<"$line"
    printf '  %s  %-36s %s\n' "$state" "$files" "$what"
  done
}

new_key() { # new_key FILE: an EC P-256 key, understood by OpenSSL, mbedTLS (ESP32) and browsers
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

serial() { echo "0x$(openssl rand -hex 16)"; }

make_ca() {
  if [[ -s ca.crt && -s ca.key ]]; then note kept "ca.crt ca.key" "the CA"; return; fi
  if [[ -e ca.crt || -e ca.key ]]; then
    log "ca.crt or ca.key is missing or empty: remove both to make a new CA (every certificate must then be made again)"
    exit 1
  fi
  log "new CA ($CA_SUBJECT, $CA_DAYS days) in $CERTS_DIR"
  new_key ca.key
  openssl req -new -x509 -key ca.key -out ca.crt -days "$CA_DAYS" -subj "$CA_SUBJECT" -set_serial "$(serial)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
  chmod 644 ca.crt
  note made "ca.crt ca.key" "the CA: ca.crt goes to the broker and the clients, ca.key stays offline"
}

# still_good CERT: signed by this CA and valid for 30 more days
still_good() {
  [[ -s "$1" ]] || return 1
  openssl verify -CAfile ca.crt "$1" >/dev/null 2>&1 || return 1
  openssl x509 -in "$1" -noout -checkend "$RENEW_SECONDS" >/dev/null 2>&1
}

# sign CSR CERT EXTFILE
sign() {
  openssl x509 -req -in "$1" -CA ca.crt -CAkey ca.key -set_serial "$(serial)" -days "$DAYS" \
    -out "$2" -extfile "$3" 2>/dev/null
  chmod 644 "$2"
}

# covers_exactly CERT NAME...: the certificate's subject alternative names are exactly NAMEs
covers_exactly() {
  local cert=$1 name count=0 have
  shift
  for name in "$@"; do
    if ip_like "$name"; then
      openssl x509 -in "$cert" -noout -checkip "$name" 2>/dev/null | grep -q 'does match' || return 1
    else
      openssl x509 -in "$cert" -noout -checkhost "$name" 2>/dev/null | grep -q 'does match' || return 1
    fi
    count=$((count + 1))
  done
  have=$(openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr ',' '\n' | grep -c :)
  [[ $have -eq $count ]]
}

ip_like() { [[ $1 =~ ^[0-9]+(\.[0-9]+){3}$ || $1 == *:* ]]; }

make_server() {
  local names=() san="" seen=" " name
  for name in localhost 127.0.0.1 ::1 "$@"; do
    [[ $seen == *" $name "* ]] && continue
    seen+="$name "
    names+=("$name")
    if ip_like "$name"; then san+="${san:+,}IP:$name"; else san+="${san:+,}DNS:$name"; fi
  done
  if still_good server.crt && [[ -s server.key ]] && covers_exactly server.crt "${names[@]}"; then
    log "server.crt is up to date ($san)"
    note kept "server.crt server.key" "the broker's certificate for $san"
    return
  fi
  log "new server certificate for $san"
  local tmp
  tmp=$(mktemp -d)
  new_key server.key
  openssl req -new -key server.key -out "$tmp/server.csr" -subj "/CN=${names[3]:-localhost}"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=$san" "authorityKeyIdentifier=keyid" >"$tmp/ext"
  sign "$tmp/server.csr" server.crt "$tmp/ext"
  rm -rf "$tmp"
  note made "server.crt server.key" "the broker's certificate for $san"
}

check_username() {
  if [[ ! $1 =~ ^[A-Za-z0-9._-]+$ ]]; then
    log "\"$1\" is not a usable username: letters, digits, '.', '_' and '-' only (it becomes the MQTT username and ACL %u)"
    exit 2
  fi
}

client_ext() {
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth" "authorityKeyIdentifier=keyid" >"$1"
}

make_client() {
  local name=$1
  check_username "$name"
  mkdir -p clients
  if still_good "clients/$name.crt" && [[ -s "clients/$name.key" ]]; then
    log "clients/$name.crt is up to date"
    note kept "clients/$name.crt clients/$name.key" "client certificate, CN=$name"
    return
  fi
  log "new client certificate clients/$name.crt (CN=$name)"
  local tmp
  tmp=$(mktemp -d)
  new_key "clients/$name.key"
  openssl req -new -key "clients/$name.key" -out "$tmp/client.csr" -subj "/CN=$name"
  client_ext "$tmp/ext"
  sign "$tmp/client.csr" "clients/$name.crt" "$tmp/ext"
  rm -rf "$tmp"
  note made "clients/$name.crt clients/$name.key" "client certificate, CN=$name"
}

sign_csr() {
  local csr=$1 cn crt
  [[ -s $csr ]] || { log "no such request: $csr"; exit 1; }
  openssl req -in "$csr" -noout -verify >/dev/null 2>&1 || { log "$csr is not a valid, self-signed certificate request"; exit 1; }
  cn=$(openssl req -in "$csr" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
  [[ -n $cn ]] || { log "$csr has no CN: the CN is the MQTT username"; exit 1; }
  check_username "$cn"
  crt="${csr%.csr}.crt"
  local tmp
  tmp=$(mktemp -d)
  client_ext "$tmp/ext"
  sign "$csr" "$crt" "$tmp/ext"
  rm -rf "$tmp"
  log "signed $crt (CN=$cn)"
  note made "$crt" "signed request, CN=$cn"
}

case $command in
  ca) make_ca ;;
  server) make_ca; make_server "$@" ;;
  client) make_ca; for name in "$@"; do make_client "$name"; done ;;
  sign)
    # Relative paths are relative to where the command was run, not to CERTS_DIR.
    files=()
    for csr in "$@"; do [[ $csr == /* ]] && files+=("$csr") || files+=("$OLDPWD/$csr"); done
    [[ -s ca.crt && -s ca.key ]] || { log "no CA in $CERTS_DIR: run '$0 ca' (or server) first"; exit 1; }
    for csr in "${files[@]}"; do sign_csr "$csr"; done
    ;;
esac
summary
if [[ $defaulted == 1 ]]; then
  echo "Next: other names clients reach the broker by:  $0 server NAME|IP ..."
  echo "      client certificates (CN = MQTT username):  $0 client USERNAME ..."
fi
