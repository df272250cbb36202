package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtkit/auth/internal/testenv"

	"github.com/jwtkit/auth"
)

// The tests run both services on loopback with httptest servers and talk to
// them over real HTTP.

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const testIssuer = "https://auth.example.test"

// services is the auth service and the API behind their test servers.
type services struct {
	auth    *authService
	api     *apiService
	authURL string
	apiURL  string
	client  *http.Client
}

func startServices(t *testing.T, alg auth.Algorithm) *services {
	t.Helper()
	as, err := newAuthService(alg, testIssuer, audience, quiet)
	if err != nil {
		t.Fatalf("newAuthService(%s) = %v", alg, err)
	}
	authSrv := httptest.NewServer(as.Handler())
	t.Cleanup(authSrv.Close)
	api, err := newAPIService(authSrv.URL+"/.well-known/jwks.json", testIssuer, audience, quiet)
	if err != nil {
		t.Fatalf("newAPIService = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := api.Start(ctx); err != nil {
		t.Fatalf("api.Start = %v", err)
	}
	apiSrv := httptest.NewServer(api.Handler())
	t.Cleanup(apiSrv.Close)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	t.Cleanup(client.CloseIdleConnections)
	return &services{auth: as, api: api, authURL: authSrv.URL, apiURL: apiSrv.URL, client: client}
}

// issue asks the auth service for a token.
func (s *services) issue(user, role string) (string, error) {
	body, _ := json.Marshal(map[string]string{"user": user, "role": role})
	resp, err := s.client.Post(s.authURL+"/token", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /token: status %d, %v", resp.StatusCode, err)
	}
	return out.AccessToken, nil
}

// call sends GET path to the API with token and returns the status and the
// body.
func (s *services) call(path, token string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, s.apiURL+path, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

// kidOf returns the kid in a token's header.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Kid string }
	if err := json.Unmarshal(h, &v); err != nil {
		t.Fatal(err)
	}
	return v.Kid
}

func apiHasKey(api *apiService, kid string) bool {
	return slices.ContainsFunc(api.keys.Keys(), func(k *auth.Key) bool { return k.ID() == kid })
}

func TestServices(t *testing.T) {
	t.Parallel()
	for _, alg := range []auth.Algorithm{auth.EdDSA, auth.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			s := startServices(t, alg)
			tok, err := s.issue("ada", "admin")
			if err != nil {
				t.Fatal(err)
			}
			userTok, err := s.issue("bob", "user")
			if err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				path, token string
				status      int
				body        string
			}{
				{"/api/hello", tok, 200, `{"message":"hello ada"}`},
				{"/api/admin", tok, 200, `{"message":"welcome, ada"}`},
				{"/api/admin", userTok, 403, `{"error":"insufficient role","code":"INSUFFICIENT_ROLE"}`},
				{"/api/hello", "", 401, `{"error":"authentication required","code":"NO_TOKEN"}`},
				{"/api/hello", tok + "x", 401, `{"error":"invalid access token","code":"INVALID_TOKEN"}`},
			}
			for _, tt := range tests {
				status, body, err := s.call(tt.path, tt.token)
				if err != nil || status != tt.status || body != tt.body {
					t.Errorf("GET %s = %d %s, %v; want %d %s", tt.path, status, body, err, tt.status, tt.body)
				}
			}
		})
	}
}

// TestRotationUnderLoad rotates the auth service's key while a bounded
// stream of requests, each with a freshly issued token, hits the API: no
// request fails. Then a token signed by the retired key is refused.
//
// The rotation follows the README: publish the next key and wait until the
// API has it (here by asking it to refresh instead of waiting out the
// cache lifetime), sign with it, wait until no token of the old key is in
// use (here every request that got one has finished, instead of waiting out
// the access token lifetime), retire the old key.
func TestRotationUnderLoad(t *testing.T) {
	t.Parallel()
	for _, alg := range []auth.Algorithm{auth.EdDSA, auth.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			testRotationUnderLoad(t, alg)
		})
	}
}

func testRotationUnderLoad(t *testing.T, alg auth.Algorithm) {
	const (
		requests = 500
		workers  = 8
		interval = 5 * time.Millisecond // between request starts: 2.5 s in all
		limit    = 60 * time.Second
	)
	s := startServices(t, alg)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	oldKid := s.auth.keys.SigningKey().ID()
	oldTok, err := s.issue("early", "")
	if err != nil {
		t.Fatal(err)
	}

	var (
		done     atomic.Int64
		inUse    sync.RWMutex // read-held from a token's issue to its response
		mu       sync.Mutex
		failures []string
		byKid    = map[string]int{}
	)
	fail := func(msg string) {
		mu.Lock()
		failures = append(failures, msg)
		mu.Unlock()
	}
	// The stream: a ticker hands out request slots, workers issue and call.
	slots := make(chan int)
	go func() {
		defer close(slots)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := range requests {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
			select {
			case slots <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range slots {
				inUse.RLock()
				user := fmt.Sprintf("user-%d", i)
				tok, err := s.issue(user, "")
				if err != nil {
					inUse.RUnlock()
					fail(fmt.Sprintf("request %d: issue: %v", i, err))
					done.Add(1)
					continue
				}
				status, body, err := s.call("/api/hello", tok)
				inUse.RUnlock()
				if want := `{"message":"hello ` + user + `"}`; err != nil || status != http.StatusOK || body != want {
					fail(fmt.Sprintf("request %d (kid %s): %d %s, %v", i, kidOf(t, tok), status, body, err))
				} else {
					mu.Lock()
					byKid[kidOf(t, tok)]++
					mu.Unlock()
				}
				done.Add(1)
			}
		})
	}

	// The rotation, at fixed points of the stream.
	waitDone := func(n int64) {
		t.Helper()
		for done.Load() < n {
			if ctx.Err() != nil {
				t.Fatalf("stream stalled at %d of %d requests within %v", done.Load(), requests, limit)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitDone(100)
	next, err := s.auth.AddNextKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.api.keys.Refresh(ctx); err != nil {
		t.Fatalf("API JWK Set refresh = %v", err)
	}
	if !apiHasKey(s.api, next.ID()) {
		t.Fatalf("API lacks the published key %s after a refresh", next.ID())
	}
	if _, err := s.auth.Promote(next); err != nil {
		t.Fatal(err)
	}
	// The old key still verifies until it is retired.
	if status, body, err := s.call("/api/hello", oldTok); status != http.StatusOK {
		t.Errorf("old key's token after promote: %d %s, %v; want 200", status, body, err)
	}

	waitDone(300)
	inUse.Lock() // every token of the old key has been used
	//lint:ignore SA2001 taking the lock was the point: it waits for every reader
	inUse.Unlock()
	if err := s.auth.Retire(oldKid); err != nil {
		t.Fatal(err)
	}
	if err := s.api.keys.Refresh(ctx); err != nil {
		t.Fatalf("API JWK Set refresh = %v", err)
	}
	if apiHasKey(s.api, oldKid) {
		t.Errorf("API still has the retired key %s after a refresh", oldKid)
	}

	wg.Wait()
	if n := done.Load(); n != requests {
		t.Fatalf("%d of %d requests ran within %v", n, requests, limit)
	}
	for _, f := range failures {
		t.Error(f)
	}
	if byKid[oldKid] == 0 || byKid[next.ID()] == 0 {
		t.Errorf("requests per kid %v; want both the old key %s and the new key %s used", byKid, oldKid, next.ID())
	}

	status, body, err := s.call("/api/hello", oldTok)
	if want := `{"error":"invalid access token","code":"INVALID_TOKEN"}`; err != nil || status != http.StatusUnauthorized || body != want {
		t.Errorf("retired key's token: %d %s, %v; want 401 %s", status, body, err, want)
	}
	t.Logf("%s: %d requests, %d failed, by kid %v", alg, requests, len(failures), byKid)
}

func TestRunConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AUTH_ALG": "HS256"}, "shared secret"},
		{map[string]string{"AUTH_ALG": "HS384"}, "shared secret"},
		{map[string]string{"AUTH_ALG": "none"}, "AUTH_ALG"},
		{map[string]string{"AUTH_ALG": "eddsa"}, "AUTH_ALG"},
		{map[string]string{"AUTH_ROTATE_EVERY": "soon"}, "AUTH_ROTATE_EVERY"},
		{map[string]string{"AUTH_ADDR": "127.0.0.1:0", "API_ADDR": "256.0.0.1:0"}, "256.0.0.1"},
	}
	for _, tt := range tests {
		err := run(context.Background(), func(k string) string { return tt.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%v) = %v; want an error about %s", tt.env, err, tt.want)
		}
	}
}

// TestRun starts the program on free loopback ports and stops it.
func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var out testenv.SyncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, func(k string) string {
			return map[string]string{"AUTH_ADDR": "127.0.0.1:0", "API_ADDR": "127.0.0.1:0", "AUTH_ALG": "ES256"}[k]
		}, &out)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "API on http://") {
		if time.Now().After(deadline) {
			t.Fatalf("no start line within 10s; output:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	line := out.String()
	i := strings.Index(line, "API on ")
	apiURL := strings.Fields(line[i+len("API on "):])[0]
	resp, err := http.Get(apiURL + "/api/hello")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/hello without a token = %d; want 401", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run after cancel = %v; want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}
