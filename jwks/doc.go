// Package jwks lets a service verify the access tokens of another one
// without ever holding a key that signs: a [RemoteKeySet] fetches the
// issuer's JWK Set from one configured URL, caches it within bounds,
// refreshes it in the background, refetches at most once per cooldown for
// an unknown kid, and keeps the last good set when a fetch fails. Give it to
// auth.WithKeySource:
//
//	remote, err := jwks.NewRemoteKeySet("https://id.example.com/.well-known/jwks.json")
//	if err != nil { ... }
//	if err := remote.Start(ctx); err != nil { ... } // first fetch; refreshes until ctx ends
//	a, err := auth.New(auth.WithKeySource(remote), auth.WithIssuer(iss), auth.WithAudience(aud))
//
// Each JWK is decoded by auth.ParseJWK: its algorithm is its "alg", which
// must fit its key type and curve; a JWK that does not qualify is skipped,
// never guessed at.
package jwks
