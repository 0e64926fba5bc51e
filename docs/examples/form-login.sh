#!/usr/bin/env bash
# Form login by HTTP against `mockidp serve` (demo config): authorization request, password form,
# consent, code exchange. The cookie jar carries the browser-key cookie the pages require.
set -eu
ISSUER=${ISSUER:-http://127.0.0.1:9400}   # what `mockidp serve` printed
JAR=$(mktemp)
VERIFIER=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
# 1. the authorization request: the login page, and the browser-key cookie in the jar
PAGE=$(curl -s -c "$JAR" -b "$JAR" "$ISSUER/authorize?response_type=code&client_id=demo-app&redirect_uri=http://127.0.0.1/callback&scope=openid%20demo-api:read&state=s1&nonce=n1&code_challenge=$CHALLENGE&code_challenge_method=S256&resource=demo-api")
TXN=$(printf %s "$PAGE" | grep -o 'name="transaction" value="[^"]*"' | head -1 | cut -d'"' -f4)
# 2. the password form: 303 to the consent page
CONSENT=$(curl -s -c "$JAR" -b "$JAR" -o /dev/null -w '%{redirect_url}' \
  -d "transaction=$TXN" -d username=alice -d password=alice-pw "$ISSUER/authorize/login")
# 3. the consent page and the decision: 303 to the client's redirect URI with the code
PAGE=$(curl -s -c "$JAR" -b "$JAR" "$CONSENT")
TXN=$(printf %s "$PAGE" | grep -o 'name="transaction" value="[^"]*"' | head -1 | cut -d'"' -f4)
BACK=$(curl -s -c "$JAR" -b "$JAR" -o /dev/null -w '%{redirect_url}' \
  -d "transaction=$TXN" -d decision=approve "$ISSUER/authorize/consent")
CODE=$(printf %s "$BACK" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
# 4. the code for tokens
curl -s -d grant_type=authorization_code -d client_id=demo-app -d "code=$CODE" \
  -d redirect_uri=http://127.0.0.1/callback -d "code_verifier=$VERIFIER" "$ISSUER/token"
