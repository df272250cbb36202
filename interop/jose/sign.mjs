// sign.mjs makes jose act as an independent issuer for
// github.com/jwtkit/auth to verify:
//
//   node sign.mjs --alg ALG --issuer ISS --audience AUD
//
// It generates a key pair for ALG, serves its public JWK Set at
// http://127.0.0.1:PORT/jwks.json, signs access tokens with it, and prints
// one JSON line:
//
//   {"jwks": URL, "kid": KID, "token": JWT, "refused": {NAME: JWT, ...}}
//
// token carries header alg, kid and typ at+jwt and claims iss, aud, sub, jti,
// iat and exp; each of refused differs in one way that a strict verifier
// must refuse. It then serves until its standard input closes, or for at
// most 60 seconds, prints the number of JWK Set requests to stderr, and
// exits 0.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

const { values: args } = parseArgs({
  options: {
    alg: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
  },
  strict: true,
});
for (const name of ['alg', 'issuer', 'audience']) {
  if (!args[name]) {
    console.error(`sign.mjs: --${name} is required`);
    process.exit(2);
  }
}
const { alg, issuer, audience } = args;

const newKey = async () => {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, jwk: { ...jwk, kid, alg, use: 'sig' } };
};
const key = await newKey();
const stranger = await newKey(); // signs, but is not published

const now = Math.floor(Date.now() / 1000);
const sign = ({ signer = key, typ = 'at+jwt', aud = audience, exp = now + 300 } = {}) =>
  new SignJWT({ scope: 'read' })
    .setProtectedHeader({ alg, kid: signer.jwk.kid, typ })
    .setIssuer(issuer)
    .setAudience(aud)
    .setSubject('jose-user')
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(signer.privateKey);

let requests = 0;
const server = createServer((req, res) => {
  if (req.method !== 'GET' || req.url !== '/jwks.json') {
    res.writeHead(404).end();
    return;
  }
  requests++;
  res.writeHead(200, { 'Content-Type': 'application/jwk-set+json', 'Cache-Control': 'public, max-age=300' });
  res.end(JSON.stringify({ keys: [key.jwk] }));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

console.log(JSON.stringify({
  jwks: `http://127.0.0.1:${port}/jwks.json`,
  kid: key.jwk.kid,
  token: await sign(),
  refused: {
    'typ JWT': await sign({ typ: 'JWT' }),
    'other audience': await sign({ aud: 'another-api' }),
    'expired': await sign({ exp: now - 60 }),
    'unpublished key': await sign({ signer: stranger }),
  },
}));

const stop = () => {
  clearTimeout(timer);
  server.close();
  server.closeAllConnections();
  console.error(`sign.mjs: served the JWK Set ${requests} times`);
};
const timer = setTimeout(stop, 60_000);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
