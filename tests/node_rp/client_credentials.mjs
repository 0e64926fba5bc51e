// openid-client: discovery, then client credentials with client_secret_basic.
// Input (argv[2], JSON): {issuer, client_id, client_secret, resource?, scope?}
// Output (stdout, JSON): the token endpoint response.
import * as client from "openid-client";
import { discover, input } from "./discover.mjs";

const config = await discover(input.client_secret);
const params = {};
if (input.scope) params.scope = input.scope;
if (input.resource) params.resource = input.resource;
const tokens = await client.clientCredentialsGrant(config, params);
process.stdout.write(JSON.stringify(tokens));
