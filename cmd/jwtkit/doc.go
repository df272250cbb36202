// Command jwtkit is the key tool of github.com/jwtkit/auth: it generates
// signing keys, publishes their public halves as a JWK Set, decodes and
// verifies access tokens by the library's own rules, and hashes passwords
// by its default policy.
//
//	go install github.com/jwtkit/auth/cmd/jwtkit@latest
//
// # Keys
//
// keygen writes a new private key as PKCS#8 PEM, to stdout or to a new
// file of mode 0600 that it never overwrites; -alg is EdDSA, ES256 or
// RS256 (-bits 3072 by default, 2048 at least, the library's minimum):
//
//	$ jwtkit keygen -alg EdDSA -o signing.pem
//	$ ls -l signing.pem
//	-rw------- 1 ops ops 119 Jun 15 10:30 signing.pem
//	$ jwtkit keygen -alg EdDSA -o signing.pem
//	jwtkit keygen: signing.pem already exists; refusing to overwrite it
//	$ jwtkit keygen -alg RS256 -bits 4096 | head -1
//	-----BEGIN PRIVATE KEY-----
//
// jwks prints the JWK Set of the public keys of PEM files, private or
// public. The algorithm follows from the key type (Ed25519: EdDSA; P-256,
// P-384, P-521: ES256, ES384, ES512; RSA: RS256) unless -alg names
// another, and each kid is the RFC 7638 thumbprint, the kid the library
// derives, so the set names the keys of the tokens they sign. No private
// member is ever printed:
//
//	$ jwtkit jwks signing.pem > jwks.json
//	$ cat jwks.json
//	{
//	  "keys": [
//	    {
//	      "kty": "OKP",
//	      "kid": "w-Xmoo-vSvM77fvVXmJnulnCHPg_mA4St7o5qXbMOLU",
//	      "use": "sig",
//	      "alg": "EdDSA",
//	      "crv": "Ed25519",
//	      "x": "zzsTzrFY_pUcuTc3hQ1PE5MKtPJLLnIdOZ__mbsHerw"
//	    }
//	  ]
//	}
//
// # Tokens
//
// inspect decodes a token (the argument, or stdin for "-" or none) without
// checking anything, and says so on its first line:
//
//	$ jwtkit inspect "$TOKEN"
//	unverified: the signature was not checked; do not trust these claims
//	{
//	  "header": {
//	    "alg": "EdDSA",
//	    "kid": "w-Xmoo-vSvM77fvVXmJnulnCHPg_mA4St7o5qXbMOLU",
//	    "typ": "at+jwt"
//	  },
//	  "claims": {
//	    "iss": "https://id.example.com",
//	    "sub": "user-42",
//	    ...
//	  }
//	}
//	$ jwtkit inspect not.a.jwt
//	jwtkit inspect: malformed token: header is not base64url: illegal base64 data at input byte 2
//
// verify checks a token as auth.Auth.Verify does, against a JWK Set file or
// an http(s) URL fetched by package jwks, and the required issuer and
// audience. A valid token's claims go to stdout; an invalid one's error
// code (auth.ErrorCode) and error go to stderr, with exit status 1:
//
//	$ jwtkit verify -jwks jwks.json -iss https://id.example.com -aud api "$TOKEN"
//	{
//	  "iss": "https://id.example.com",
//	  "sub": "user-42",
//	  "aud": "api",
//	  ...
//	}
//	$ jwtkit verify -jwks https://id.example.com/.well-known/jwks.json \
//	    -iss https://id.example.com -aud api "$OLD_TOKEN"
//	jwtkit verify: TOKEN_EXPIRED: auth: token expired
//	$ jwtkit verify -jwks jwks.json -iss https://id.example.com -aud api < other-api.token
//	jwtkit verify: INVALID_TOKEN: auth: invalid claims: wrong aud
//	$ jwtkit verify -jwks jwks.json -iss https://id.example.com -aud api "$OTHER_KEYS_TOKEN"
//	jwtkit verify: INVALID_TOKEN: auth: unknown key id
//
// # Passwords
//
// hash-password reads one line from stdin and prints its hash by the
// library's default policy, bcrypt at cost 12; a password that
// password.Check refuses is an error. The password is never printed:
//
//	$ printf '%s\n' 'correct horse battery staple' | jwtkit hash-password
//	$2a$12$p7Cp6NLoWN0W7a/Vdd/M..gN8mn1iRNXozob/Jg/cpu1ghFI.amoi
//	$ echo short | jwtkit hash-password
//	jwtkit hash-password: password: must be 8 to 72 bytes of UTF-8 without NUL
//
// # Exit status
//
// 0 on success, 1 when the command fails (an invalid token, a refused
// password, a key file that exists or cannot be read), 2 for a usage error
// (an unknown command or flag, a missing -jwks, -iss or -aud). jwtkit help
// lists the commands, and jwtkit help COMMAND (or COMMAND -h) shows one.
package main
