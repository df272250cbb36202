package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/jwks"
	"github.com/jwtkit/auth/keyrotation"
)

// rotationClock is the clock of the key rotation in the test: it moves
// only when the test says, so that the schedule does not depend on how
// fast the machine runs. Tokens keep the real clock.
type rotationClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *rotationClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *rotationClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// kidOf returns the kid of a compact JWS.
func kidOf(t *testing.T, tok string) string {
	t.Helper()
	head, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var h struct{ Kid string }
	_ = json.Unmarshal(raw, &h)
	return h.Kid
}

// TestKeyRotationAcrossInstances runs three instances on one PostgreSQL
// with the shared key store, and a service that verifies with the JWK Set
// alone (as examples/microservices does). While requests run without a
// pause at every instance and at the verifier, the rotation clock moves
// two rotation periods and a half, in steps of a fifth of the publication
// delay, every instance syncing after each step. Not one request fails;
// three keys sign in turn; and then a token of the first key, which has
// left every key set, is refused everywhere as a token of an unknown key.
func TestKeyRotationAcrossInstances(t *testing.T) {
	t.Parallel()
	const period = time.Hour // AUTH_KEY_ROTATION; Publish is a quarter of it
	clock := &rotationClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	kek := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	c := newCluster(t, clusterOpts{
		instances: 3,
		env: map[string]string{
			"AUTH_ALG":                "EdDSA",
			"AUTH_SECRET":             "", // the keys come from the store
			"AUTH_KEY_ENCRYPTION_KEY": kek,
			"AUTH_KEY_ROTATION":       period.String(),
			// The test refreshes one session without pause.
			"AUTH_REFRESH_LIMIT": "100000/1m",
		},
		rotation: []keyrotation.Option{keyrotation.WithClock(clock.Now)},
	})
	ctx := context.Background()

	// The verifier: a JWK Set fetched from instance 0, on the rotation
	// clock, so that its cache expires at every step.
	remote, err := jwks.NewRemoteKeySet(c.url(0, "/.well-known/jwks.json"),
		jwks.WithClock(clock.Now), jwks.WithCacheBounds(time.Second, time.Second), jwks.WithCooldown(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.New(auth.WithKeySource(remote), auth.WithIssuer("auth-example"), auth.WithAudience("auth-example-api"))
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(verifier.Require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	t.Cleanup(api.Close)

	// One session per instance; the first access token is kept for the end.
	var refreshTokens [3]string
	var first string
	for i := range c.nodes {
		r := register(t, c, i, randomName("rot")+"@example.com")
		refreshTokens[i] = r.str("refreshToken")
		if i == 0 {
			first = r.str("accessToken")
		}
	}

	var requests, failures atomic.Int64
	var kidsMu sync.Mutex
	kids := map[string]bool{}
	var rounds [3]atomic.Int64 // driver iterations
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rt := refreshTokens[i]
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := try("POST", c.url(i, "/api/auth/refresh"), "", map[string]string{"refreshToken": rt})
				requests.Add(1)
				if err != nil || r.status != http.StatusOK {
					failures.Add(1)
					t.Errorf("refresh at instance %d: %v %d %v", i, err, r.status, r.body)
					return
				}
				rt = r.str("refreshToken")
				at := r.str("accessToken")
				kidsMu.Lock()
				kids[kidOf(t, at)] = true
				kidsMu.Unlock()
				for j := range c.nodes {
					me, err := try("GET", c.url(j, "/api/auth/me"), at, nil)
					requests.Add(1)
					if err != nil || me.status != http.StatusOK {
						failures.Add(1)
						t.Errorf("token of instance %d at instance %d: %v %d %v", i, j, err, me.status, me.body)
					}
				}
				v, err := try("GET", api.URL+"/", at, nil)
				requests.Add(1)
				if err != nil || v.status != http.StatusNoContent {
					failures.Add(1)
					t.Errorf("token of instance %d at the verifier: %v %d %v", i, err, v.status, v.body)
				}
				rounds[i].Add(1)
			}
		}()
	}

	// Two rotations and a half, in steps of a fifth of Publish; each step
	// waits until every driver has gone round once since the last.
	step := period / 4 / 5
	for n := 0; n < int(5*period/2/step); n++ {
		clock.advance(step)
		for i, inst := range c.insts {
			if err := inst.keys.Sync(ctx); err != nil {
				t.Fatalf("step %d: Sync at instance %d = %v", n, i, err)
			}
		}
		var seen [3]int64
		for i := range rounds {
			seen[i] = rounds[i].Load()
		}
		waitFor(t, "every driver to go round", func() bool {
			for i := range rounds {
				if rounds[i].Load() <= seen[i] {
					return false
				}
			}
			return true
		})
		if t.Failed() {
			break
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d failed, %d signing keys", requests.Load(), failures.Load(), len(kids))
	if failures.Load() != 0 {
		t.Fatalf("%d of %d requests failed; want none", failures.Load(), requests.Load())
	}
	if len(kids) < 3 {
		t.Errorf("tokens were signed by %d keys; want 3 (two rotations)", len(kids))
	}

	// The first key left every key set: its token, unexpired, is refused.
	for i := range c.nodes {
		if r := call(t, "GET", c.url(i, "/api/auth/me"), first, nil); r.status != http.StatusUnauthorized || r.str("code") != "INVALID_TOKEN" {
			t.Errorf("token of the retired key at instance %d = %d %v; want 401 INVALID_TOKEN", i, r.status, r.body)
		}
	}
	if r := call(t, "GET", api.URL+"/", first, nil); r.status != http.StatusUnauthorized || r.str("code") != "INVALID_TOKEN" {
		t.Errorf("token of the retired key at the verifier = %d %v; want 401 INVALID_TOKEN", r.status, r.body)
	}
}
