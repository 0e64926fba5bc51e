// openid-client: discovery, then client credentials with client_secret_basic.
// Input (argv[2], JSON): {issuer, client_id, client_secret, resource?, scope?}
// Output (stdout, JSON): the token endpoint response.
import * as client from "openid-client";

const input = JSON.parse(process.argv[2]);
const config = await client.discovery(
  new URL(input.issuer),
  input.client_id,
  input.client_secret,
  undefined,
  { execute: [client.allowInsecureRequests] },
);
const params = {};
if (input.scope) params.scope = input.scope;
if (input.resource) params.resource = input.resource;
const tokens = await client.clientCredentialsGrant(config, params);
process.stdout.write(JSON.stringify(tokens));
