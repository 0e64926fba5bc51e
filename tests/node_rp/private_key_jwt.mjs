// openid-client: discovery, then client credentials with private_key_jwt (RFC 7523 section 2.2).
// Input (argv[2], JSON): {issuer, client_id, jwk (private, with kid and alg), resource?, scope?,
//   introspect?: true (also introspect the token, authenticating the same way)}
// Output (stdout, JSON): {tokens, introspection?}
import * as client from "openid-client";
import { discover, input } from "./discover.mjs";

const { kid, alg, ...jwk } = input.jwk;
const algorithm = alg === "ES256" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const key = await crypto.subtle.importKey("jwk", jwk, algorithm, false, ["sign"]);
const config = await discover(undefined, client.PrivateKeyJwt({ key, kid }));
const params = {};
if (input.scope) params.scope = input.scope;
if (input.resource) params.resource = input.resource;
const tokens = await client.clientCredentialsGrant(config, params);
const out = { tokens };
if (input.introspect) out.introspection = await client.tokenIntrospection(config, tokens.access_token);
process.stdout.write(JSON.stringify(out));
