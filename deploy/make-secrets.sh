#!/usr/bin/env bash
# Once, before `docker compose -f deploy/compose.yaml up`: a TLS certificate for localhost (to try
# it out; use the gemeente's own certificate in production), deploy/secrets.toml with a fresh
# cookie_secret and deploy/rollen.toml. Existing files are left alone.
set -eu
cd "$(dirname "$0")"
mkdir -p tls
if [ ! -e tls/cert.pem ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost -keyout tls/key.pem -out tls/cert.pem 2>/dev/null
  chmod 644 tls/key.pem   # read by nginx in its container
fi
if [ ! -e secrets.toml ]; then
  umask 077
  cat > secrets.toml <<TOML
[auth]
redirect_uri = "https://localhost:8443/oauth2callback"
cookie_secret = "$(openssl rand -hex 32)"
client_id = "buurtmonitor"
client_secret = "alleen-om-te-proberen"
server_metadata_url = "http://keycloak:8180/realms/buurtmonitor/.well-known/openid-configuration"
client_kwargs = { scope = "openid email profile" }
TOML
  chmod 644 secrets.toml   # read by the app user in its container
fi
[ -e rollen.toml ] || cat > rollen.toml <<'TOML'
# who has which role on which gemeente's notes (see README, "Login and roles");
# the Keycloak test users get theirs from the groups claim
[options]
group_claims = true
TOML
echo "Klaar: deploy/tls/, deploy/secrets.toml en deploy/rollen.toml."
