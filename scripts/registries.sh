#!/usr/bin/env bash
# Loopback registries and auth stand-ins for the registry tests.
#
#   scripts/registries.sh start STATE_DIR   # idempotent; writes STATE_DIR/env
#   scripts/registries.sh stop  STATE_DIR   # ends what start started (pid files)
#   scripts/registries.sh env   STATE_DIR   # prints STATE_DIR/env
#
# start runs, each in the background with its log in STATE_DIR/logs:
#   open      docker-registry, no auth
#   htpasswd  docker-registry, Basic auth (tester / s3cret, bcrypt)
#   token     docker-registry, auth: token, challenge with service="swiftdock-registry"
#   token-ar  docker-registry, auth: token, behind a proxy that drops service= from the
#             challenge and refuses chunked uploads (several PATCHes, Content-Range, a POST
#             without Content-Length) as Artifact Registry does; its token server answers
#             access_token only (Artifact Registry style)
#   fixtures  registry-fixtures: both token servers, the Google OAuth2/metadata stand-in,
#             the corrupting proxy (in front of open), the service-stripping proxy, a proxy
#             in front of open that adds the OCI 1.1 referrers API (docker-registry 2.8 lacks it),
#             and one in front of open that refuses chunked (streamed) upload bodies with 411
# Everything listens on 127.0.0.1 only. Key material is generated once per STATE_DIR; ports
# are picked afresh by every start.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
USER_NAME=tester
PASSWORD=s3cret
ISSUER=swiftdock-fixtures
SERVICE=swiftdock-registry
AR_AUDIENCE=swiftdock-ar

usage() { echo "usage: $0 start|stop|env STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
COMMAND=$1
mkdir -p "$2"
STATE="$(cd "$2" && pwd)"
PIDS="$STATE/pids"
LOGS="$STATE/logs"

log() { echo "registries: $*" >&2; }

# --- processes -------------------------------------------------------------------------------

# ours PID: the process is still one this script starts (guards against a recycled pid).
ours() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qE 'docker-registry|registry-fixtures'; }
alive() { [ -f "$PIDS/$1.pid" ] && ours "$(cat "$PIDS/$1.pid")"; }

# launch NAME CMD...: starts CMD in the background, logging to LOGS/NAME.log.
launch() {
  local name=$1; shift
  nohup "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

stop_all() {
  [ -d "$PIDS" ] || return 0
  local f pid
  for f in "$PIDS"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    if ours "$pid"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  rm -f "$STATE/env"
}

# --- ports -----------------------------------------------------------------------------------

PICKED=" "
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 30000 ))
    case "$PICKED" in *" $p "*) continue ;; esac
    port_in_use "$p" && continue
    PICKED="$PICKED$p "
    echo "$p"
    return
  done
}

# wait_http NAME URL: waits until URL answers with an HTTP status (any: 401/403 are fine).
wait_http() {
  local name=$1 url=$2 code
  for _ in $(seq 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    [ "$code" != "000" ] && return 0
    alive "$name" || { log "$name died; its log:"; tail -20 "$LOGS/$name.log" >&2; return 1; }
    sleep 0.1
  done
  log "$name did not answer $url in 30 s; its log:"; tail -20 "$LOGS/$name.log" >&2
  return 1
}

# --- key material (once per state dir) ---------------------------------------------------------

generate_material() {
  if [ ! -f "$STATE/token.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=$ISSUER" \
      -keyout "$STATE/token.key" -out "$STATE/token.crt" 2>/dev/null
  fi
  if [ ! -f "$STATE/sa.pub.pem" ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$STATE/sa.key" 2>/dev/null
    openssl pkey -in "$STATE/sa.key" -pubout -out "$STATE/sa.pub.pem"
  fi
  if [ ! -f "$STATE/htpasswd" ]; then
    htpasswd -Bbn "$USER_NAME" "$PASSWORD" >"$STATE/htpasswd"
  fi
  if [ ! -f "$STATE/users" ]; then
    printf '# user:password, read by registry-fixtures token servers\n%s:%s\n' "$USER_NAME" "$PASSWORD" >"$STATE/users"
  fi
  if [ ! -f "$STATE/adc-user.json" ]; then
    # As `gcloud auth application-default login` writes it: no token_uri for authorized_user.
    jq -n --arg id "$(openssl rand -hex 8)-fixture.apps.googleusercontent.com" \
          --arg secret "GOCSPX-$(openssl rand -hex 12)" --arg refresh "1//$(openssl rand -hex 24)" \
      '{client_id: $id, client_secret: $secret, quota_project_id: "swiftdock-test",
        refresh_token: $refresh, type: "authorized_user"}' >"$STATE/adc-user.json"
  fi
  [ -f "$STATE/sa-key-id" ] || openssl rand -hex 20 >"$STATE/sa-key-id"
}

# write_sa_key GOOGLE_PORT: the service-account key file, token_uri pointing at the stand-in.
write_sa_key() {
  local email="fixture@swiftdock-test.iam.gserviceaccount.com"
  jq -n --rawfile key "$STATE/sa.key" --arg kid "$(cat "$STATE/sa-key-id")" --arg email "$email" \
        --arg uri "http://127.0.0.1:$1/token" \
    '{type: "service_account", project_id: "swiftdock-test", private_key_id: $kid, private_key: $key,
      client_email: $email, client_id: "104242424242424242424",
      auth_uri: "https://accounts.google.com/o/oauth2/auth", token_uri: $uri,
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
      client_x509_cert_url: "https://www.googleapis.com/robot/v1/metadata/x509/fixture%40swiftdock-test.iam.gserviceaccount.com",
      universe_domain: "googleapis.com"}' >"$STATE/sa-key.json"
}

# --- registries --------------------------------------------------------------------------------

# registry_config NAME PORT AUTH_YAML: writes STATE/NAME.yml.
registry_config() {
  local name=$1 port=$2 auth=$3
  mkdir -p "$STATE/data/$name"
  cat >"$STATE/$name.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $STATE/data/$name
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: swiftdock-fixture-$name
$auth
YAML
}

token_auth() { # REALM SERVICE
  printf 'auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n' \
    "$1" "$2" "$ISSUER" "$STATE/token.crt"
}

start_all() {
  if [ -f "$STATE/env" ] && alive open && alive htpasswd && alive token && alive token-ar && alive fixtures; then
    log "already running ($STATE/env)"
    return 0
  fi
  stop_all
  mkdir -p "$PIDS" "$LOGS"
  command -v docker-registry >/dev/null || { log "docker-registry is missing: run scripts/setup.sh"; exit 1; }
  command -v htpasswd >/dev/null || { log "htpasswd is missing: run scripts/setup.sh"; exit 1; }

  local bin
  bin="$(cd "$ROOT" && swift build --show-bin-path)/registry-fixtures"
  if [ ! -x "$bin" ]; then
    log "building registry-fixtures (debug)"
    (cd "$ROOT" && swift build --product registry-fixtures >&2)
  fi

  generate_material
  local p_open p_htpasswd p_token p_token_ar p_ar_front p_corrupt p_tokensrv p_tokensrv_ar p_google p_referrers p_nochunk
  p_open=$(pick_port); p_htpasswd=$(pick_port); p_token=$(pick_port); p_token_ar=$(pick_port)
  p_ar_front=$(pick_port); p_corrupt=$(pick_port); p_tokensrv=$(pick_port); p_tokensrv_ar=$(pick_port)
  p_google=$(pick_port); p_referrers=$(pick_port); p_nochunk=$(pick_port)
  write_sa_key "$p_google"

  registry_config open "$p_open" ""
  registry_config htpasswd "$p_htpasswd" "$(printf 'auth:\n  htpasswd:\n    realm: swiftdock-test\n    path: %s' "$STATE/htpasswd")"
  registry_config token "$p_token" "$(token_auth "http://127.0.0.1:$p_tokensrv/token" "$SERVICE")"
  registry_config token-ar "$p_token_ar" "$(token_auth "http://127.0.0.1:$p_tokensrv_ar/v2/token" "$AR_AUDIENCE")"

  local name
  for name in open htpasswd token token-ar; do
    launch "$name" docker-registry serve "$STATE/$name.yml"
  done
  launch fixtures "$bin" serve --state "$STATE" --issuer "$ISSUER" --default-audience "$AR_AUDIENCE" \
    --token-port "$p_tokensrv" --ar-token-port "$p_tokensrv_ar" --google-port "$p_google" \
    --proxy "$p_corrupt:127.0.0.1:$p_open:corrupt-blobs" \
    --proxy "$p_ar_front:127.0.0.1:$p_token_ar:artifact-registry" \
    --proxy "$p_referrers:127.0.0.1:$p_open:referrers-api" \
    --proxy "$p_nochunk:127.0.0.1:$p_open:no-chunked-bodies"

  wait_http open "http://127.0.0.1:$p_open/v2/"
  wait_http htpasswd "http://127.0.0.1:$p_htpasswd/v2/"
  wait_http token "http://127.0.0.1:$p_token/v2/"
  wait_http token-ar "http://127.0.0.1:$p_token_ar/v2/"
  wait_http fixtures "http://127.0.0.1:$p_tokensrv/token?service=$SERVICE"
  wait_http fixtures "http://127.0.0.1:$p_tokensrv_ar/v2/token"
  wait_http fixtures "http://127.0.0.1:$p_google/"
  wait_http fixtures "http://127.0.0.1:$p_corrupt/v2/"
  wait_http fixtures "http://127.0.0.1:$p_ar_front/v2/"
  wait_http fixtures "http://127.0.0.1:$p_referrers/v2/"
  wait_http fixtures "http://127.0.0.1:$p_nochunk/v2/"

  cat >"$STATE/env.tmp" <<ENV
SWIFTDOCK_TEST_REGISTRY_OPEN=127.0.0.1:$p_open
SWIFTDOCK_TEST_REGISTRY_HTPASSWD=127.0.0.1:$p_htpasswd
SWIFTDOCK_TEST_REGISTRY_TOKEN=127.0.0.1:$p_token
SWIFTDOCK_TEST_REGISTRY_TOKEN_AR=127.0.0.1:$p_ar_front
SWIFTDOCK_TEST_REGISTRY_CORRUPT=127.0.0.1:$p_corrupt
SWIFTDOCK_TEST_REGISTRY_REFERRERS=127.0.0.1:$p_referrers
SWIFTDOCK_TEST_REGISTRY_NO_CHUNKED=127.0.0.1:$p_nochunk
SWIFTDOCK_TEST_TOKEN_SERVER=http://127.0.0.1:$p_tokensrv
SWIFTDOCK_TEST_TOKEN_SERVER_AR=http://127.0.0.1:$p_tokensrv_ar
SWIFTDOCK_TEST_TOKEN_SERVICE=$SERVICE
SWIFTDOCK_TEST_GOOGLE_TOKEN_URI=http://127.0.0.1:$p_google/token
GCE_METADATA_HOST=127.0.0.1:$p_google
SWIFTDOCK_TEST_SA_KEY=$STATE/sa-key.json
SWIFTDOCK_TEST_ADC_USER=$STATE/adc-user.json
SWIFTDOCK_TEST_USER=$USER_NAME
SWIFTDOCK_TEST_PASSWORD=$PASSWORD
SWIFTDOCK_TEST_STATE_DIR=$STATE
ENV
  mv "$STATE/env.tmp" "$STATE/env"
  log "started; environment in $STATE/env"
}

case "$COMMAND" in
  start) start_all ;;
  stop) stop_all ;;
  env) cat "$STATE/env" ;;
  *) usage ;;
esac
