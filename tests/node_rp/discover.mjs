// What every script here starts with: its JSON input (argv[2]) and openid-client's discovery
// of the issuer it names, over plain http since the tests' IdPs listen on loopback.
import * as client from "openid-client";

export const input = JSON.parse(process.argv[2]);

// `secret`: client_secret_basic with it; else pass `auth` (None(), PrivateKeyJwt(...), ...).
export function discover(secret, auth) {
  return client.discovery(new URL(input.issuer), input.client_id, secret, auth, {
    execute: [client.allowInsecureRequests],
  });
}
