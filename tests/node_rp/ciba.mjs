// openid-client: discovery, then CIBA poll mode (OpenID CIBA Core 1.0) with client_secret_basic.
// Input (argv[2], JSON): {issuer, client_id, client_secret, login_hint, scope?, binding_message?}
// Output (stdout, JSON): {tokens: the token endpoint response, claims: the ID token claims}
import * as client from "openid-client";
import { discover, input } from "./discover.mjs";

const config = await discover(input.client_secret);
const params = { scope: input.scope ?? "openid", login_hint: input.login_hint };
if (input.binding_message) params.binding_message = input.binding_message;
const request = await client.initiateBackchannelAuthentication(config, params);
const tokens = await client.pollBackchannelAuthenticationGrant(config, request);
process.stdout.write(JSON.stringify({ tokens, claims: tokens.claims() ?? null }));
