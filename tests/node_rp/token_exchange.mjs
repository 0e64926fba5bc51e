// openid-client: discovery, then an RFC 8693 token exchange (genericGrantRequest) with
// client_secret_basic.
// Input (argv[2], JSON): {issuer, client_id, client_secret, subject_token, subject_token_type,
//   resource?, scope?, actor_token?, actor_token_type?, requested_token_type?}
// Output (stdout, JSON): the token endpoint response.
import * as client from "openid-client";
import { discover, input } from "./discover.mjs";

const config = await discover(input.client_secret);
const params = {};
for (const name of [
  "subject_token",
  "subject_token_type",
  "actor_token",
  "actor_token_type",
  "requested_token_type",
  "resource",
  "audience",
  "scope",
]) {
  if (input[name]) params[name] = input[name];
}
const tokens = await client.genericGrantRequest(
  config,
  "urn:ietf:params:oauth:grant-type:token-exchange",
  params,
);
process.stdout.write(JSON.stringify(tokens));
