package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth/examples/refserver"
	"github.com/jwtkit/auth/internal/testenv"
	"github.com/jwtkit/auth/keyrotation"
	"github.com/jwtkit/auth/password"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// cluster is several instances of the server sharing one database (and
// Redis, when set), each with its own in-process state.
type cluster struct {
	env   map[string]string
	nodes []*httptest.Server
	insts []*instance
}

type clusterOpts struct {
	instances int
	redis     bool
	dbProxy   *faultProxy // route PostgreSQL through this proxy
	redisVia  *faultProxy // route Redis through this proxy
	env       map[string]string
	rotation  []keyrotation.Option // for the key rotation of every instance
}

// freshSchema creates a schema of a random name beginning with prefix on
// the test PostgreSQL, dropped when the test ends.
func freshSchema(t *testing.T, pgURL, prefix string) string {
	t.Helper()
	schema := randomName(prefix)
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`)
		admin.Close()
	})
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	return schema
}

// newCluster starts the instances on a fresh schema and key prefix.
func newCluster(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	pgURL := testenv.PostgresURL(t)
	schema := freshSchema(t, pgURL, "t_")
	env := map[string]string{
		"AUTH_SECRET":        "a shared secret of at least 32 bytes for every instance",
		"AUTH_COOKIE_SECURE": "false",
		"DATABASE_URL":       viaProxy(t, pgURL, o.dbProxy),
		"DATABASE_SCHEMA":    schema,
	}
	if o.redis {
		env["REDIS_URL"] = viaProxy(t, testenv.RedisURL(t), o.redisVia)
		env["REDIS_PREFIX"] = randomName("t:") + ":"
	}
	for k, v := range o.env {
		env[k] = v
	}
	c := &cluster{env: env}
	for i := 0; i < max(o.instances, 1); i++ {
		cfg, err := refserver.LoadConfig(func(k string) string { return env[k] }, quiet)
		if err != nil {
			t.Fatal(err)
		}
		cfg.BcryptCost = password.MinCost
		inst, err := newInstance(context.Background(), cfg, func(k string) string { return env[k] }, quiet, o.rotation...)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(inst.server)
		t.Cleanup(func() {
			srv.Close()
			inst.close()
		})
		c.nodes = append(c.nodes, srv)
		c.insts = append(c.insts, inst)
	}
	return c
}

// viaProxy points a URL's host at the proxy, when there is one, and makes
// the proxy forward to the URL's original host.
func viaProxy(t *testing.T, raw string, p *faultProxy) string {
	t.Helper()
	if p == nil {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p.setTarget(u.Host)
	u.Host = p.addr()
	return u.String()
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }

func call(t *testing.T, method, url, bearer string, body any) reply {
	t.Helper()
	r, err := try(method, url, bearer, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (c *cluster) url(i int, path string) string { return c.nodes[i].URL + path }

func register(t *testing.T, c *cluster, i int, email string) reply {
	t.Helper()
	r := call(t, "POST", c.url(i, "/api/auth/register"), "", map[string]string{
		"email": email, "password": "correct horse", "name": "Test", "refreshTransfer": "body"})
	if r.status != 201 || r.str("refreshToken") == "" {
		t.Fatalf("register on %d = %d %v; want 201 with a refresh token", i, r.status, r.body)
	}
	return r
}

func login(t *testing.T, c *cluster, i int, email, password string) reply {
	t.Helper()
	return call(t, "POST", c.url(i, "/api/auth/login"), "", map[string]string{
		"email": email, "password": password, "refreshTransfer": "body"})
}

func refresh(t *testing.T, c *cluster, i int, tok string) reply {
	t.Helper()
	return call(t, "POST", c.url(i, "/api/auth/refresh"), "", map[string]string{"refreshToken": tok})
}

func wantCode(t *testing.T, what string, r reply, status int, code string) {
	t.Helper()
	if r.status != status || (code != "" && r.str("code") != code) {
		t.Errorf("%s = %d %v; want %d %s", what, r.status, r.body, status, code)
	}
}

func TestReplayOnAnotherInstanceRevokesEverywhere(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOpts{instances: 3})
	first := register(t, c, 0, "ada@example.com").str("refreshToken")
	second := refresh(t, c, 0, first)
	wantCode(t, "refresh on A", second, 200, "")
	// The stolen first token replayed on B: reuse, the session dies.
	wantCode(t, "replay on B", refresh(t, c, 1, first), 401, "INVALID_REFRESH_TOKEN")
	// The legitimate holder's newest token is dead on C too.
	wantCode(t, "newest on C", refresh(t, c, 2, second.str("refreshToken")), 401, "INVALID_REFRESH_TOKEN")
}

func TestLogoutAllOnOneInstanceEverywhere(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOpts{instances: 3})
	a := register(t, c, 0, "ada@example.com")
	b := login(t, c, 1, "ada@example.com", "correct horse")
	wantCode(t, "login on B", b, 200, "")
	wantCode(t, "me on C before", call(t, "GET", c.url(2, "/api/auth/me"), "", b.str("accessToken")), 401, "NO_TOKEN")
	wantCode(t, "me on C before", call(t, "GET", c.url(2, "/api/auth/me"), b.str("accessToken"), nil), 200, "")
	wantCode(t, "logout-all on A", call(t, "POST", c.url(0, "/api/auth/logout-all"), a.str("accessToken"), nil), 200, "")
	wantCode(t, "B's access token on C", call(t, "GET", c.url(2, "/api/auth/me"), b.str("accessToken"), nil), 401, "TOKEN_REVOKED")
	wantCode(t, "B's refresh token on B", refresh(t, c, 1, b.str("refreshToken")), 401, "INVALID_REFRESH_TOKEN")
	again := login(t, c, 2, "ada@example.com", "correct horse")
	wantCode(t, "login right after on C", again, 200, "")
	wantCode(t, "its token on A", call(t, "GET", c.url(0, "/api/auth/me"), again.str("accessToken"), nil), 200, "")
}

func TestLogoutOnOneInstanceEverywhere(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOpts{instances: 2, redis: true})
	a := register(t, c, 0, "ada@example.com")
	wantCode(t, "logout on A", call(t, "POST", c.url(0, "/api/auth/logout"), a.str("accessToken"),
		map[string]string{"refreshToken": a.str("refreshToken")}), 200, "")
	wantCode(t, "access token on B", call(t, "GET", c.url(1, "/api/auth/me"), a.str("accessToken"), nil), 401, "TOKEN_REVOKED")
	wantCode(t, "refresh token on B", refresh(t, c, 1, a.str("refreshToken")), 401, "INVALID_REFRESH_TOKEN")
}

func TestThrottleAcrossInstances(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOpts{instances: 3, redis: true, env: map[string]string{"AUTH_LOGIN_LIMIT": "3/1m"}})
	register(t, c, 0, "ada@example.com")
	for i := 0; i < 3; i++ {
		wantCode(t, "wrong password", login(t, c, i, "ada@example.com", "wrong horse"), 401, "INVALID_CREDENTIALS")
	}
	r := login(t, c, 0, "ada@example.com", "correct horse")
	wantCode(t, "right password after 3 failures on 3 instances", r, 429, "TOO_MANY_ATTEMPTS")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

func TestSameSchemaTwiceMigrates(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterOpts{instances: 1})
	// A second instance on the same schema runs the migrations again.
	cfg, err := refserver.LoadConfig(func(k string) string { return c.env[k] }, quiet)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := newInstance(context.Background(), cfg, func(k string) string { return c.env[k] }, quiet)
	if err != nil {
		t.Fatalf("second start on the same schema: %v", err)
	}
	inst.close()
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	cfg, err := refserver.LoadConfig(func(string) string { return "" }, quiet)
	if err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]map[string]string{
		"no database":                           {},
		"bad database":                          {"DATABASE_URL": "postgres://127.0.0.1:1/none?sslmode=disable&connect_timeout=1"},
		"bad redis":                             {"DATABASE_URL": testenv.PostgresURL(t), "REDIS_URL": "not a url"},
		"rotation without a key-encryption key": {"DATABASE_URL": testenv.PostgresURL(t), "AUTH_KEY_ROTATION": "1h"},
		"key-encryption key without rotation":   {"DATABASE_URL": testenv.PostgresURL(t), "AUTH_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32))},
		"short key-encryption key":              {"DATABASE_URL": testenv.PostgresURL(t), "AUTH_KEY_ENCRYPTION_KEY": "c2hvcnQ=", "AUTH_KEY_ROTATION": "1h"},
		"bad rotation period":                   {"DATABASE_URL": testenv.PostgresURL(t), "AUTH_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32)), "AUTH_KEY_ROTATION": "-1h"},
	} {
		inst, err := newInstance(context.Background(), cfg, func(k string) string { return env[k] }, quiet)
		if err == nil || strings.Contains(err.Error(), "\n") {
			if inst != nil {
				inst.close()
			}
			t.Errorf("%s: newInstance = %v; want a one-line error", name, err)
		}
	}
}

// waitFor polls f until it returns true or the deadline passes.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
