// Package keyrotation rotates signing keys on a schedule, shared by every
// instance of a service through an authstore.KeyStore (memstore.Keys for
// one process, the sqlstore and redisstore Stores for many), with no
// coordination beyond the store.
//
// Each instance runs a [Rotator] with the same [Policy]:
//
//	kek := ... // 32 bytes from the environment or a secret manager; never stored
//	r, err := keyrotation.New(ctx, store, kek, keyrotation.Policy{
//		Algorithm: auth.EdDSA,
//		Every:     24 * time.Hour,   // a new key signs every day
//		Publish:   time.Hour,        // published an hour before it signs
//		Retain:    2 * time.Hour,    // and kept an access-token lifetime plus margins after
//	})
//	if err != nil { ... }
//	go r.Run(ctx)
//	a, err := auth.New(auth.WithKeys(r.KeySet()), ...)
//	mux.Handle("GET /.well-known/jwks.json", r.KeySet())
//
// Whichever instance first finds the next key due makes it and adds it to
// the store, which lets exactly one addition per generation succeed; every
// instance loads it within the poll interval, publishes it in its JWK Set
// at once, and signs with it only from its ActiveAt, Publish later, so
// that every instance and every verifier that caches the JWK Set holds it
// before any token carries it. A replaced key stays published for Retain,
// then leaves the key sets and the store.
//
// Private keys are stored sealed: AES-256-GCM under the application's
// key-encryption key, with the key's id and algorithm as additional data,
// so a store (or its backups) holds nothing that signs, and a sealed key
// cannot be moved to another record. Keys configured by hand
// (auth.NewKeySet with auth.WithKeys) keep working as before; this package
// is for services that want rotation done for them.
package keyrotation
