// verify.mjs verifies one access token issued by github.com/jwtkit/auth with
// jose, fetching the public keys from the issuer's JWK Set URL:
//
//   node verify.mjs --jwks URL --token JWT --issuer ISS --audience AUD --alg ALG
//
// It checks the signature with the key the token's kid names, the algorithm
// (only ALG), typ at+jwt, iss, aud, exp, iat, and the presence of sub and
// jti. On success it prints {"protectedHeader": ..., "payload": ...} as one
// JSON line and exits 0; otherwise it prints the error's code and message
// to stderr and exits 1.
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const { values: args } = parseArgs({
  options: {
    jwks: { type: 'string' },
    token: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    alg: { type: 'string' },
  },
  strict: true,
});
for (const name of ['jwks', 'token', 'issuer', 'audience', 'alg']) {
  if (!args[name]) {
    console.error(`verify.mjs: --${name} is required`);
    process.exit(2);
  }
}

try {
  const keys = createRemoteJWKSet(new URL(args.jwks), { timeoutDuration: 5000 });
  const { payload, protectedHeader } = await jwtVerify(args.token, keys, {
    issuer: args.issuer,
    audience: args.audience,
    typ: 'at+jwt',
    algorithms: [args.alg],
    requiredClaims: ['iss', 'aud', 'sub', 'jti', 'iat', 'exp'],
  });
  console.log(JSON.stringify({ protectedHeader, payload }));
} catch (err) {
  console.error(`verify.mjs: ${err.code ?? err.name}: ${err.message}`);
  process.exit(1);
}
