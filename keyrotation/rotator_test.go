package keyrotation

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/internal/testclock"
	"github.com/jwtkit/auth/memstore"
)

var testKEK = bytes.Repeat([]byte{7}, KeyEncryptionKeySize)

var testPolicy = Policy{Algorithm: auth.EdDSA, Every: time.Hour, Publish: 10 * time.Minute, Retain: 20 * time.Minute}

// instance is one service instance: its rotator and its Auth.
type instance struct {
	r *Rotator
	a *auth.Auth
}

func newInstance(t *testing.T, store authstore.KeyStore, clock *testclock.Clock, opts ...Option) *instance {
	t.Helper()
	r, err := New(context.Background(), store, testKEK, testPolicy, append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	a, err := auth.New(auth.WithKeys(r.KeySet()), auth.WithIssuer("iss"), auth.WithAudience("aud"), auth.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return &instance{r, a}
}

func (in *instance) issue(t *testing.T) string {
	t.Helper()
	tok, err := in.a.Issue(context.Background(), auth.Claims{Subject: "u"})
	if err != nil {
		t.Fatalf("Issue = %v", err)
	}
	return tok.Token
}

func (in *instance) signer() string { return in.r.KeySet().SigningKey().ID() }

// TestRotationAcrossInstances: three instances on one store agree on the
// signing key at every step of two rotations, each verifies what the
// others signed, exactly one key is made per generation, and a token of a
// key past its retirement is refused everywhere.
func TestRotationAcrossInstances(t *testing.T) {
	t.Parallel()
	store := &memstore.Keys{}
	clock := testclock.New()
	var mu sync.Mutex
	created := 0
	count := WithEvents(func(_ context.Context, ev audit.Event) {
		if ev.Kind == audit.KeyCreated {
			mu.Lock()
			created++
			mu.Unlock()
		}
	})
	nodes := []*instance{newInstance(t, store, clock, count), newInstance(t, store, clock, count), newInstance(t, store, clock, count)}
	first := nodes[0].signer()
	syncAll := func() {
		t.Helper()
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := n.r.Sync(context.Background()); err != nil {
					t.Errorf("Sync = %v", err)
				}
			}()
		}
		wg.Wait()
	}
	crossVerify := func(when string) {
		t.Helper()
		for i, from := range nodes {
			tok := from.issue(t)
			for j, to := range nodes {
				if _, err := to.a.Verify(context.Background(), tok); err != nil {
					t.Errorf("%s: token of instance %d at instance %d: %v", when, i, j, err)
				}
			}
			if from.signer() != nodes[0].signer() {
				t.Errorf("%s: instance %d signs with %s; instance 0 with %s", when, i, from.signer(), nodes[0].signer())
			}
		}
	}
	crossVerify("start")
	oldToken := nodes[1].issue(t)
	var signers []string
	// Two rotations, in steps of five minutes.
	for step := 0; step <= 24; step++ {
		syncAll()
		crossVerify(clock.Now().Sub(testclock.Instant).String())
		if s := nodes[0].signer(); len(signers) == 0 || signers[len(signers)-1] != s {
			signers = append(signers, s)
		}
		clock.Advance(5 * time.Minute)
	}
	if len(signers) != 3 || signers[0] != first {
		t.Fatalf("signing keys over two hours: %v; want the first and two more", signers)
	}
	mu.Lock()
	if created != 3 {
		t.Errorf("keys created: %d; want 3 (one per generation, whichever instance won)", created)
	}
	mu.Unlock()
	recs, _ := store.Keys(context.Background())
	if len(recs) > 3 {
		t.Errorf("store holds %d keys; want retired ones deleted", len(recs))
	}
	for i, n := range nodes {
		if _, err := n.a.Verify(context.Background(), oldToken); !errors.Is(err, auth.ErrTokenUnknownKey) {
			t.Errorf("token of the first key, two rotations later, at instance %d: %v; want ErrTokenUnknownKey", i, err)
		}
	}
}

// TestRotationPublishesBeforeSigning: the next key is in the JWK Set a
// Publish ahead of signing; the replaced key stays for Retain.
func TestRotationPublishesBeforeSigning(t *testing.T) {
	t.Parallel()
	clock := testclock.New()
	in := newInstance(t, &memstore.Keys{}, clock)
	first := in.signer()
	sync := func() {
		t.Helper()
		if err := in.r.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	published := func() int { return len(in.r.KeySet().Keys()) }
	clock.Advance(testPolicy.Every - testPolicy.Publish - time.Second)
	sync()
	if published() != 1 {
		t.Fatalf("%d keys published before the next one is due; want 1", published())
	}
	clock.Advance(time.Second)
	sync()
	if published() != 2 || in.signer() != first {
		t.Fatalf("at the next key's due time: %d keys, signer changed %v; want 2 keys, the first still signing", published(), in.signer() != first)
	}
	clock.Advance(testPolicy.Publish)
	sync()
	if in.signer() == first {
		t.Fatal("a Publish after the next key was made: the first key still signs")
	}
	clock.Advance(testPolicy.Retain - time.Second)
	sync()
	if published() != 2 {
		t.Errorf("just before Retain ends: %d keys published; want 2", published())
	}
	clock.Advance(time.Second)
	sync()
	if published() != 1 {
		t.Errorf("once Retain ended: %d keys published; want 1", published())
	}
}

// TestSealedKeys: the store never sees a private key, a key opens only
// under its key-encryption key and in its own record.
func TestSealedKeys(t *testing.T) {
	t.Parallel()
	store := &memstore.Keys{}
	clock := testclock.New()
	in := newInstance(t, store, clock)
	recs, err := store.Keys(context.Background())
	if err != nil || len(recs) != 1 {
		t.Fatalf("Keys = %d, %v", len(recs), err)
	}
	plain, err := open(in.r.aead, recs[0].ID, auth.Algorithm(recs[0].Algorithm), recs[0].Sealed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(plain); err != nil {
		t.Errorf("opened key is not PKCS#8: %v", err)
	}
	if bytes.Contains(recs[0].Sealed, plain[len(plain)-32:]) {
		t.Error("sealed record holds the private key in the clear")
	}
	other := bytes.Repeat([]byte{8}, KeyEncryptionKeySize)
	if _, err := New(context.Background(), store, other, testPolicy, WithClock(clock.Now)); !errors.Is(err, errUnseal) {
		t.Errorf("New with another key-encryption key = %v; want errUnseal", err)
	}
	if _, err := open(in.r.aead, "another-id", auth.EdDSA, recs[0].Sealed); !errors.Is(err, errUnseal) {
		t.Errorf("open under another id = %v; want errUnseal", err)
	}
	tampered := bytes.Clone(recs[0].Sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := open(in.r.aead, recs[0].ID, auth.EdDSA, tampered); !errors.Is(err, errUnseal) {
		t.Errorf("open of an altered record = %v; want errUnseal", err)
	}
}

// TestNewConfig: New refuses what would fail later.
func TestNewConfig(t *testing.T) {
	t.Parallel()
	store := &memstore.Keys{}
	for name, tt := range map[string]struct {
		kek  []byte
		p    Policy
		opts []Option
	}{
		"short kek":        {kek: testKEK[:16], p: testPolicy},
		"no algorithm":     {kek: testKEK, p: Policy{Every: time.Hour, Publish: time.Minute, Retain: time.Minute}},
		"publish >= every": {kek: testKEK, p: Policy{Algorithm: auth.EdDSA, Every: time.Hour, Publish: time.Hour, Retain: time.Minute}},
		"no retain":        {kek: testKEK, p: Policy{Algorithm: auth.EdDSA, Every: time.Hour, Publish: time.Minute}},
		"poll >= publish":  {kek: testKEK, p: testPolicy, opts: []Option{WithPollInterval(testPolicy.Publish)}},
		"nil option":       {kek: testKEK, p: testPolicy, opts: []Option{nil}},
	} {
		if _, err := New(context.Background(), store, tt.kek, tt.p, tt.opts...); !errors.Is(err, auth.ErrConfig) {
			t.Errorf("New(%s) = %v; want ErrConfig", name, err)
		}
	}
	if _, err := New(context.Background(), nil, testKEK, testPolicy); !errors.Is(err, auth.ErrConfig) {
		t.Errorf("New(nil store) = %v; want ErrConfig", err)
	}
}

// failingKeys is a key store that fails every read.
type failingKeys struct{ authstore.KeyStore }

var errDown = errors.New("store down")

func (f *failingKeys) Keys(context.Context) ([]authstore.KeyRecord, error) { return nil, errDown }

// TestStoreDownKeepsKeys: when the store cannot be read, the key set stays
// as it was and tokens keep being signed and verified.
func TestStoreDownKeepsKeys(t *testing.T) {
	t.Parallel()
	clock := testclock.New()
	ok := &memstore.Keys{}
	in := newInstance(t, ok, clock)
	tok := in.issue(t)
	down := &failingKeys{ok}
	in.r.store = down
	clock.Advance(5 * time.Minute)
	if err := in.r.Sync(context.Background()); !errors.Is(err, errDown) {
		t.Fatalf("Sync with the store down = %v; want errDown", err)
	}
	if _, err := in.a.Verify(context.Background(), tok); err != nil {
		t.Errorf("Verify with the store down = %v; want the known key to verify", err)
	}
	if _, err := New(context.Background(), down, testKEK, testPolicy, WithClock(clock.Now)); !errors.Is(err, errDown) {
		t.Errorf("New on a store that is down = %v; want errDown", err)
	}
}

// TestAlgorithms: every algorithm family rotates, HMAC keys included
// (whose JWK Set stays empty).
func TestAlgorithms(t *testing.T) {
	t.Parallel()
	for _, alg := range []auth.Algorithm{auth.HS256, auth.ES256, auth.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			p := testPolicy
			p.Algorithm = alg
			clock := testclock.New()
			r, err := New(context.Background(), &memstore.Keys{}, testKEK, p, WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.KeySet().SigningKey().Algorithm(); got != alg {
				t.Errorf("signing key algorithm = %s; want %s", got, alg)
			}
			// A second instance opens the stored key to the same kid.
			r2, err := New(context.Background(), r.store, testKEK, p, WithClock(clock.Now))
			if err != nil || r2.KeySet().SigningKey().ID() != r.KeySet().SigningKey().ID() {
				t.Errorf("second instance: %v; want the same signing key", err)
			}
		})
	}
}
