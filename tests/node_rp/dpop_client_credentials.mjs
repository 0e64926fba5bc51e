// openid-client: client credentials with a DPoP key, then (optionally) a call to a DPoP API.
// Input (argv[2], JSON): {issuer, client_id, client_secret, resource?, scope?, api_url?}
// Output (stdout, JSON): {tokens, jkt (RFC 7638 thumbprint of the key), api?: {status, body}}.
import { createHash } from "node:crypto";
import * as client from "openid-client";
import { discover, input } from "./discover.mjs";

const config = await discover(input.client_secret);
const keyPair = await client.randomDPoPKeyPair("ES256");
const DPoP = client.getDPoPHandle(config, keyPair);
const params = {};
if (input.scope) params.scope = input.scope;
if (input.resource) params.resource = input.resource;
const tokens = await client.clientCredentialsGrant(config, params, { DPoP });

// RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace
const jwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
const jkt = createHash("sha256").update(canonical).digest("base64url");

const out = { tokens, jkt };
if (input.api_url) {
  // fetchProtectedResource sends `Authorization: DPoP <token>` and a fresh proof with `ath`,
  // and retries once with the API's DPoP-Nonce when it asks for one
  const call = async () =>
    client.fetchProtectedResource(config, tokens.access_token, new URL(input.api_url), "GET", undefined, undefined, { DPoP });
  let response;
  try {
    response = await call();
  } catch (err) {
    if (!client.isDPoPNonceError?.(err) && err?.code !== "OAUTH_WWW_AUTHENTICATE_CHALLENGE") throw err;
    response = await call();
  }
  out.api = { status: response.status, body: await response.json() };
}
process.stdout.write(JSON.stringify(out));
