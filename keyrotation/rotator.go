package keyrotation

import (
	"context"
	"crypto/cipher"
	"fmt"
	"sync"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
)

// Policy says how keys rotate. Every instance of a service must run the
// same policy on the same store.
type Policy struct {
	// Algorithm is the algorithm of new keys. A key keeps its own
	// algorithm for life, so the policy may change it: the next key
	// follows.
	Algorithm auth.Algorithm
	// Every is how often a new key starts signing.
	Every time.Duration
	// Publish is how long a new key is published before it signs. It
	// must be longer than the poll interval ([WithPollInterval]), so that
	// every instance holds a key before any instance signs with it, and
	// at least the time for which verifiers elsewhere cache the JWK Set.
	Publish time.Duration
	// Retain is how long a replaced key stays published after its
	// successor started signing. It must cover the longest access-token
	// lifetime, plus the verifiers' leeway and their JWK Set cache time:
	// a token that the old key signed just before the change verifies
	// until it expires.
	Retain time.Duration
}

func (p Policy) validate() error {
	switch {
	case p.Every <= 0:
		return configError("Policy.Every", "%v is not positive", p.Every)
	case p.Publish <= 0 || p.Publish >= p.Every:
		return configError("Policy.Publish", "%v is not in (0, Every = %v)", p.Publish, p.Every)
	case p.Retain <= 0:
		return configError("Policy.Retain", "%v is not positive", p.Retain)
	}
	return nil
}

// Rotator keeps an [auth.KeySet] in step with the signing keys of a shared
// [authstore.KeyStore] and makes the next key when it is due. Build it
// with [New], give [Rotator.KeySet] to auth.WithKeys (it also serves the
// JWK Set), and run [Rotator.Run] for the life of the process. A Rotator is
// safe for concurrent use.
//
// At each step ([Rotator.Sync]) it reads the store and:
//   - makes the next key when the newest one has less than Publish left
//     before its successor is due, and adds it to the store; of the
//     instances that try, the store lets one succeed, and all load that
//     key (its ActiveAt is Publish after now, or the successor's due time
//     if later);
//   - signs with the newest key whose ActiveAt has come;
//   - publishes the signing key, the keys not yet active, and each
//     replaced key until Retain after its successor's ActiveAt;
//   - deletes from the store the keys that no token can carry any more.
//
// If the store cannot be read, the key set stays as it was (tokens keep
// being signed and verified with the keys known) and Sync returns the
// error; Run logs it and tries again at the next poll.
type Rotator struct {
	store  authstore.KeyStore
	policy Policy
	cfg    config
	aead   cipher.AEAD
	keys   *auth.KeySet

	mu      sync.Mutex           // serialises Sync; guards the fields below
	decoded map[string]*auth.Key // kid -> key, for records already opened
	signing string               // kid of the key that signs
}

// New returns the Rotator of the keys in store, sealed under kek (32
// bytes, AES-256-GCM; never stored), rotating by p. It reads the store
// once, making the first key if there is none (that one signs at once), so
// that the key set it returns is ready. A configuration error matches
// auth.ErrConfig; a store failure is returned as it is.
func New(ctx context.Context, store authstore.KeyStore, kek []byte, p Policy, opts ...Option) (*Rotator, error) {
	if store == nil {
		return nil, configError("New", "nil key store")
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := checkAlgorithm(p.Algorithm); err != nil {
		return nil, err
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	c, err := newConfig(p, opts)
	if err != nil {
		return nil, err
	}
	r := &Rotator{store: store, policy: p, cfg: c, aead: aead, decoded: map[string]*auth.Key{}}
	if err := r.Sync(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// checkAlgorithm checks that alg is an algorithm the rotation makes keys
// for.
func checkAlgorithm(alg auth.Algorithm) error {
	switch alg {
	case auth.HS256, auth.HS384, auth.HS512, auth.EdDSA, auth.ES256, auth.ES384, auth.ES512,
		auth.RS256, auth.RS384, auth.RS512, auth.PS256, auth.PS384, auth.PS512:
		return nil
	}
	return configError("Policy.Algorithm", "%q is not an algorithm of package auth", alg)
}

// KeySet returns the key set that the Rotator keeps in step with the
// store: give it to auth.WithKeys, and serve it as the JWK Set.
func (r *Rotator) KeySet() *auth.KeySet { return r.keys }

// Run calls [Rotator.Sync] every poll interval until ctx is done, logging
// its failures, and returns ctx's error.
func (r *Rotator) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if err := r.Sync(ctx); err != nil && ctx.Err() == nil && r.cfg.logger != nil {
				r.cfg.logger.WarnContext(ctx, "keyrotation: sync failed; the known keys stay in use", "err", err.Error())
			}
		}
	}
}

// Sync reads the store, makes the next key when it is due, and brings the
// key set up to date (see [Rotator]).
func (r *Rotator) Sync(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.now()
	recs, err := r.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("keyrotation: read keys: %w", err)
	}
	if next, due := r.nextKey(recs, now); due {
		if err := r.add(ctx, next, now); err != nil {
			return err
		}
		if recs, err = r.store.Keys(ctx); err != nil {
			return fmt.Errorf("keyrotation: read keys: %w", err)
		}
	}
	return r.apply(ctx, recs, now)
}

// nextKey returns the generation and activation time of the next key, and
// whether it is due at now.
func (r *Rotator) nextKey(recs []authstore.KeyRecord, now time.Time) (authstore.KeyRecord, bool) {
	if len(recs) == 0 {
		return authstore.KeyRecord{Generation: 1, ActiveAt: now}, true
	}
	newest := recs[len(recs)-1]
	due := newest.ActiveAt.Add(r.policy.Every)
	if now.Before(due.Add(-r.policy.Publish)) {
		return authstore.KeyRecord{}, false
	}
	active := now.Add(r.policy.Publish)
	if due.After(active) {
		active = due
	}
	return authstore.KeyRecord{Generation: newest.Generation + 1, ActiveAt: active}, true
}

// add makes a key for the slot next and offers it to the store; another
// instance may have filled the slot first.
func (r *Rotator) add(ctx context.Context, next authstore.KeyRecord, now time.Time) error {
	alg := r.policy.Algorithm
	k, plain, err := generate(r.cfg.random, alg)
	if err != nil {
		return err
	}
	sealed, err := seal(r.aead, r.cfg.random, k.ID(), alg, plain)
	clear(plain)
	if err != nil {
		return err
	}
	next.ID, next.Algorithm, next.Sealed = k.ID(), string(alg), sealed
	next.CreatedAt = now.UTC().Truncate(time.Microsecond)
	next.ActiveAt = next.ActiveAt.UTC().Truncate(time.Microsecond)
	added, err := r.store.AddKey(ctx, next)
	if err != nil {
		return fmt.Errorf("keyrotation: add key: %w", err)
	}
	if added {
		r.decoded[k.ID()] = k
		r.emit(ctx, audit.Event{Kind: audit.KeyCreated, Time: now, Reason: k.ID()})
	}
	return nil
}

// apply brings the key set to what recs say at now.
func (r *Rotator) apply(ctx context.Context, recs []authstore.KeyRecord, now time.Time) error {
	signer := -1
	for i, rec := range recs {
		if !rec.ActiveAt.After(now) {
			signer = i
		}
	}
	if signer < 0 {
		return fmt.Errorf("keyrotation: no stored key is active yet")
	}
	var publish []*auth.Key
	oldest := recs[signer].Generation
	for i, rec := range recs {
		if i < signer && !now.Before(recs[i+1].ActiveAt.Add(r.policy.Retain)) {
			continue // replaced long enough ago
		}
		k, err := r.key(rec)
		if err != nil {
			return err
		}
		publish = append(publish, k)
		oldest = min(oldest, rec.Generation)
	}
	signing, err := r.key(recs[signer])
	if err != nil {
		return err
	}
	if err := r.publish(signing, publish); err != nil {
		return err
	}
	if r.signing != signing.ID() {
		r.signing = signing.ID()
		r.emit(ctx, audit.Event{Kind: audit.KeyActivated, Time: now, Reason: signing.ID()})
	}
	if recs[0].Generation < oldest {
		if _, err := r.store.DeleteKeys(ctx, oldest); err != nil {
			return fmt.Errorf("keyrotation: delete retired keys: %w", err)
		}
	}
	return nil
}

// key returns the key of rec, opening it the first time.
func (r *Rotator) key(rec authstore.KeyRecord) (*auth.Key, error) {
	if k, ok := r.decoded[rec.ID]; ok {
		return k, nil
	}
	alg := auth.Algorithm(rec.Algorithm)
	plain, err := open(r.aead, rec.ID, alg, rec.Sealed)
	if err != nil {
		return nil, fmt.Errorf("%w (key %s)", err, rec.ID)
	}
	k, err := decode(alg, plain)
	clear(plain)
	if err != nil {
		return nil, err
	}
	if k.ID() != rec.ID {
		return nil, fmt.Errorf("keyrotation: stored key %s opens to a key of id %s", rec.ID, k.ID())
	}
	r.decoded[rec.ID] = k
	return k, nil
}

// publish makes the key set sign with signing and publish exactly keys:
// new keys are added first, then the signing key changes, then the keys
// that left are retired, so that every snapshot between verifies what the
// one before did.
func (r *Rotator) publish(signing *auth.Key, keys []*auth.Key) error {
	if r.keys == nil {
		var others []*auth.Key
		for _, k := range keys {
			if k.ID() != signing.ID() {
				others = append(others, k)
			}
		}
		ks, err := auth.NewKeySet(signing, others...)
		if err != nil {
			return err
		}
		r.keys = ks
		return nil
	}
	have := map[string]bool{}
	for _, k := range r.keys.Keys() {
		have[k.ID()] = true
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k.ID()] = true
		if !have[k.ID()] {
			if err := r.keys.Add(k); err != nil {
				return err
			}
		}
	}
	if cur := r.keys.SigningKey(); cur == nil || cur.ID() != signing.ID() {
		if err := r.keys.Promote(signing); err != nil {
			return err
		}
	}
	for id := range have {
		if !want[id] {
			if err := r.keys.Retire(id); err != nil {
				return err
			}
			delete(r.decoded, id)
		}
	}
	return nil
}

func (r *Rotator) emit(ctx context.Context, ev audit.Event) {
	if r.cfg.events != nil {
		r.cfg.events(ctx, ev)
	}
	audit.Log(ctx, r.cfg.logger, ev)
}
