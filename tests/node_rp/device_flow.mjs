// openid-client: discovery, then the device authorization grant (RFC 8628) as a public client.
// Input (argv[2], JSON): {issuer, client_id, scope?, login_hint?, client_secret?}
// Output (stdout, JSON): {authorization: the device authorization response,
//   tokens: the token endpoint response, claims: the ID token claims, seconds: time spent polling}
import * as client from "openid-client";
import { discover, input } from "./discover.mjs";

const auth = input.client_secret ? client.ClientSecretBasic(input.client_secret) : client.None();
const config = await discover(undefined, auth);
const params = {};
if (input.scope) params.scope = input.scope;
if (input.login_hint) params.login_hint = input.login_hint;
const authorization = await client.initiateDeviceAuthorization(config, params);
const started = Date.now();
const tokens = await client.pollDeviceAuthorizationGrant(config, authorization);
process.stdout.write(
  JSON.stringify({
    authorization,
    tokens,
    claims: tokens.claims() ?? null,
    seconds: (Date.now() - started) / 1000,
  }),
);
