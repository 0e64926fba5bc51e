// The npm peer, oauth2-mock-server, on a loopback port: prints "issuer: <URL>" when listening.
// Installed by benchmarks/throughput.py into benchmarks/.peer (gitignored).
const here = new URL('./.peer/node_modules/oauth2-mock-server/dist/index.mjs', import.meta.url);
const { OAuth2Server } = await import(here.href);

const port = Number(process.argv[2] ?? 0);
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(port, '127.0.0.1');
console.log(`issuer: ${server.issuer.url}`);

const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
