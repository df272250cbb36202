package main

// End-to-end tests of the account flows (password reset, password change,
// e-mail verification) over real HTTP, on real PostgreSQL and, in every
// test's second half, Redis: each test runs once with the single-use tokens
// in PostgreSQL (sqlstore) and once with them in Redis (redisstore).
//
// The development mailbox is per instance (in memory): a test reads the
// mailbox of the instance that handled the request that sent the mail.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/internal/testenv"
	"github.com/jwtkit/auth/password"
)

const (
	oldPassword = "correct horse" // the password register() sets
	newPassword = "new horse battery staple"
)

// eachStore runs f as two parallel subtests: tokens in PostgreSQL, and
// tokens (with the denylist, cutoffs and throttle) in Redis.
func eachStore(t *testing.T, f func(t *testing.T, withRedis bool)) {
	t.Helper()
	for _, withRedis := range []bool{false, true} {
		name := "postgres"
		if withRedis {
			name = "redis"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, withRedis)
		})
	}
}

// accountCluster starts a cluster with the development mailbox on, plus
// env.
func accountCluster(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	env := map[string]string{"AUTH_DEV_MAILBOX": "true"}
	for k, v := range o.env {
		env[k] = v
	}
	o.env = env
	return newCluster(t, o)
}

// mail is one message as GET /api/dev/mailbox shows it.
type mail struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Link    string `json:"link"`
	Token   string `json:"token"`
}

// mailbox returns instance i's messages to email, newest first.
func mailbox(t *testing.T, c *cluster, i int, email string) []mail {
	t.Helper()
	resp, err := http.Get(c.url(i, "/api/dev/mailbox?to="+url.QueryEscape(email)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("mailbox of %d = %d %s; want 200", i, resp.StatusCode, raw)
	}
	var out []mail
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("mailbox of %d: %v in %s", i, err, raw)
	}
	return out
}

// mailsOf returns instance i's messages to email of kind ("reset" or
// "verify"), newest first.
func mailsOf(t *testing.T, c *cluster, i int, email, kind string) []mail {
	t.Helper()
	var out []mail
	for _, m := range mailbox(t, c, i, email) {
		if strings.Contains(strings.ToLower(m.Subject), kind) || strings.Contains(m.Link, kind) {
			out = append(out, m)
		}
	}
	return out
}

// mailToken returns the token of the newest message of kind to email in
// instance i's mailbox, and checks that the link carries it.
func mailToken(t *testing.T, c *cluster, i int, email, kind string) string {
	t.Helper()
	ms := mailsOf(t, c, i, email, kind)
	if len(ms) == 0 {
		t.Fatalf("no %s mail to %s in the mailbox of instance %d", kind, email, i)
	}
	m := ms[0]
	u, err := url.Parse(m.Link)
	if m.Token == "" || err != nil || u.Query().Get("token") != m.Token {
		t.Fatalf("%s mail to %s: token %q, link %q; want the link to carry the token", kind, email, m.Token, m.Link)
	}
	return m.Token
}

// otherToken returns tok with its last character changed.
func otherToken(tok string) string {
	last := byte('A')
	if tok[len(tok)-1] == 'A' {
		last = 'B'
	}
	return tok[:len(tok)-1] + string(last)
}

// try is call without t: for goroutines other than the test's.
func try(method, url, bearer string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	out := reply{status: resp.StatusCode, header: resp.Header}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	_ = json.Unmarshal(raw, &out.body)
	return out, nil
}

func forgot(t *testing.T, c *cluster, i int, email string) reply {
	t.Helper()
	return call(t, "POST", c.url(i, "/api/auth/password/forgot"), "", map[string]string{"email": email})
}

func resetPassword(t *testing.T, c *cluster, i int, token, pw string) reply {
	t.Helper()
	return call(t, "POST", c.url(i, "/api/auth/password/reset"), "", map[string]string{"token": token, "password": pw})
}

func verifyEmail(t *testing.T, c *cluster, i int, token string) reply {
	t.Helper()
	return call(t, "POST", c.url(i, "/api/auth/email/verify"), "", map[string]string{"token": token})
}

func me(t *testing.T, c *cluster, i int, access string) reply {
	t.Helper()
	return call(t, "GET", c.url(i, "/api/auth/me"), access, nil)
}

// user returns the "user" member of r.
func user(r reply) map[string]any { u, _ := r.body["user"].(map[string]any); return u }

// wantVerified checks that r is 200 with a user of id whose emailVerified
// is want.
func wantVerified(t *testing.T, what string, r reply, id string, want bool) {
	t.Helper()
	wantUser(t, what, r, 200, id, want)
}

// wantUser checks that r has status and a user of id whose emailVerified
// is want.
func wantUser(t *testing.T, what string, r reply, status int, id string, want bool) {
	t.Helper()
	u := user(r)
	if r.status != status || u == nil {
		t.Errorf("%s = %d %v; want %d {user}", what, r.status, r.body, status)
		return
	}
	if u["id"] != id {
		t.Errorf("%s: user id %v; want %s", what, u["id"], id)
	}
	if got, ok := u["emailVerified"].(bool); !ok || got != want {
		t.Errorf("%s: emailVerified %v; want %v", what, u["emailVerified"], want)
	}
}

// want503 checks that r is 503 UNAVAILABLE with Retry-After.
func want503(t *testing.T, what string, r reply) {
	t.Helper()
	wantCode(t, what, r, 503, "UNAVAILABLE")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", what)
	}
}

// TestVerifyEmailAcrossInstances: the link sent at registration on one
// instance verifies on another, once; the flag lives in PostgreSQL, so
// every instance shows it.
func TestVerifyEmailAcrossInstances(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, withRedis bool) {
		c := accountCluster(t, clusterOpts{instances: 2, redis: withRedis})
		const email = "ada@example.com"
		reg := register(t, c, 0, email)
		id := user(reg)["id"].(string)
		wantUser(t, "register", reg, 201, id, false)
		if n := len(mailsOf(t, c, 1, email, "verify")); n != 0 {
			t.Errorf("instance 1's mailbox holds %d verification mails; the mailbox is per instance", n)
		}
		tok := mailToken(t, c, 0, email, "verify")
		wantVerified(t, "me before verification", me(t, c, 1, reg.str("accessToken")), id, false)

		wantCode(t, "verify with another token of the same shape", verifyEmail(t, c, 1, otherToken(tok)), 400, "INVALID_VERIFY_TOKEN")
		wantVerified(t, "verify on 1", verifyEmail(t, c, 1, tok), id, true)
		wantCode(t, "the same link again on 0", verifyEmail(t, c, 0, tok), 400, "INVALID_VERIFY_TOKEN")
		wantCode(t, "the same link again on 1", verifyEmail(t, c, 1, tok), 400, "INVALID_VERIFY_TOKEN")
		for i := range 2 {
			wantVerified(t, fmt.Sprintf("me on %d after verification", i), me(t, c, i, reg.str("accessToken")), id, true)
		}
		l := login(t, c, 1, email, oldPassword)
		wantVerified(t, "login on 1 after verification", l, id, true)
	})
}

// TestResetAcrossInstances: a reset link sent by one instance works on
// another, ends every session of the user on every instance, and works
// once.
func TestResetAcrossInstances(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, withRedis bool) {
		c := accountCluster(t, clusterOpts{instances: 2, redis: withRedis})
		const email = "ada@example.com"
		a := register(t, c, 0, email)
		b := login(t, c, 1, email, oldPassword)
		wantCode(t, "login on 1", b, 200, "")

		f := forgot(t, c, 0, email)
		wantCode(t, "forgot on 0", f, 202, "")
		if f.str("message") == "" {
			t.Errorf("forgot on 0: body %v; want a message", f.body)
		}
		tok := mailToken(t, c, 0, email, "reset")

		// A password that breaks the rules is refused before the token
		// is touched: the link stays usable.
		wantCode(t, "reset with a short password", resetPassword(t, c, 1, tok, "short"), 400, "INVALID_INPUT")
		wantCode(t, "reset on 1", resetPassword(t, c, 1, tok, newPassword), 200, "")

		// Every session, on every instance, is gone.
		wantCode(t, "session A's refresh token on 0", refresh(t, c, 0, a.str("refreshToken")), 401, "INVALID_REFRESH_TOKEN")
		wantCode(t, "session B's refresh token on 1", refresh(t, c, 1, b.str("refreshToken")), 401, "INVALID_REFRESH_TOKEN")
		wantCode(t, "session A's access token on 1", me(t, c, 1, a.str("accessToken")), 401, "TOKEN_REVOKED")
		wantCode(t, "session B's access token on 0", me(t, c, 0, b.str("accessToken")), 401, "TOKEN_REVOKED")

		wantCode(t, "login with the old password on 0", login(t, c, 0, email, oldPassword), 401, "INVALID_CREDENTIALS")
		l := login(t, c, 0, email, newPassword)
		wantCode(t, "login with the new password on 0, right after the reset", l, 200, "")
		wantCode(t, "its access token on 1", me(t, c, 1, l.str("accessToken")), 200, "")

		wantCode(t, "the same link again on 0", resetPassword(t, c, 0, tok, "yet another password"), 400, "INVALID_RESET_TOKEN")
		wantCode(t, "login with the new password still", login(t, c, 1, email, newPassword), 200, "")
	})
}

// TestResetConcurrentAcrossInstances: of 20 concurrent uses of one link,
// spread over two instances, exactly one succeeds, and its password is the
// one that sticks.
func TestResetConcurrentAcrossInstances(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, withRedis bool) {
		// Argon2id, the other hash policy, hashes the 20 new passwords
		// far faster than bcrypt at its lowest cost (under -race).
		c := accountCluster(t, clusterOpts{instances: 2, redis: withRedis,
			env: map[string]string{"AUTH_PASSWORD_HASH": "argon2id"}})
		const email = "ada@example.com"
		register(t, c, 0, email)
		wantCode(t, "forgot on 0", forgot(t, c, 0, email), 202, "")
		tok := mailToken(t, c, 0, email, "reset")

		const n = 20
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			replies [n]reply
			errs    [n]error
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				replies[i], errs[i] = try("POST", c.url(i%2, "/api/auth/password/reset"), "",
					map[string]string{"token": tok, "password": fmt.Sprintf("racing password %02d", i)})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i := range n {
			switch r := replies[i]; {
			case errs[i] != nil:
				t.Errorf("reset %d: %v", i, errs[i])
			case r.status == 200:
				if winner >= 0 {
					t.Errorf("resets %d and %d both succeeded with one link", winner, i)
				}
				winner = i
			case r.status != 400 || r.str("code") != "INVALID_RESET_TOKEN":
				t.Errorf("reset %d on %d = %d %v; want 200 or 400 INVALID_RESET_TOKEN", i, i%2, r.status, r.body)
			}
		}
		if winner < 0 {
			t.Fatalf("none of %d concurrent resets succeeded", n)
		}
		pw := fmt.Sprintf("racing password %02d", winner)
		wantCode(t, "login with the winner's password on 1", login(t, c, 1, email, pw), 200, "")
		wantCode(t, "login with the old password on 0", login(t, c, 0, email, oldPassword), 401, "INVALID_CREDENTIALS")
	})
}

// TestChangePasswordAcrossInstances: a password change on one instance
// ends the sessions started on another and keeps the caller signed in.
func TestChangePasswordAcrossInstances(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, withRedis bool) {
		c := accountCluster(t, clusterOpts{instances: 2, redis: withRedis})
		const email = "ada@example.com"
		a := register(t, c, 0, email)
		b := login(t, c, 1, email, oldPassword)
		wantCode(t, "login on 1", b, 200, "")
		change := func(current string) reply {
			return call(t, "POST", c.url(0, "/api/auth/password/change"), a.str("accessToken"), map[string]string{
				"currentPassword": current, "newPassword": newPassword, "refreshTransfer": "body"})
		}

		wantCode(t, "change with a wrong current password", change("wrong horse"), 401, "INVALID_CREDENTIALS")
		wantCode(t, "session B after the failed change", me(t, c, 1, b.str("accessToken")), 200, "")

		ch := change(oldPassword)
		wantCode(t, "change on 0", ch, 200, "")
		if ch.str("accessToken") == "" || ch.str("refreshToken") == "" {
			t.Fatalf("change on 0: body %v; want accessToken and refreshToken", ch.body)
		}
		if cc := ch.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("change on 0: Cache-Control %q; want no-store", cc)
		}

		wantCode(t, "session B's refresh token on 1", refresh(t, c, 1, b.str("refreshToken")), 401, "INVALID_REFRESH_TOKEN")
		wantCode(t, "session B's access token on 1", me(t, c, 1, b.str("accessToken")), 401, "TOKEN_REVOKED")
		wantCode(t, "session B's access token on 0", me(t, c, 0, b.str("accessToken")), 401, "TOKEN_REVOKED")

		// The caller stays signed in, on every instance.
		wantCode(t, "the new access token on 1", me(t, c, 1, ch.str("accessToken")), 200, "")
		wantCode(t, "the new refresh token on 1", refresh(t, c, 1, ch.str("refreshToken")), 200, "")

		wantCode(t, "login with the old password on 1", login(t, c, 1, email, oldPassword), 401, "INVALID_CREDENTIALS")
		wantCode(t, "login with the new password on 1", login(t, c, 1, email, newPassword), 200, "")
	})
}

// TestRequireVerifiedEmail: with AUTH_REQUIRE_VERIFIED_EMAIL=true, login
// is 403 EMAIL_NOT_VERIFIED (after the password check) on every instance
// until the address is verified, on any instance.
func TestRequireVerifiedEmail(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, withRedis bool) {
		c := accountCluster(t, clusterOpts{instances: 2, redis: withRedis,
			env: map[string]string{"AUTH_REQUIRE_VERIFIED_EMAIL": "true"}})
		const email = "ada@example.com"
		reg := register(t, c, 0, email)
		id := user(reg)["id"].(string)
		for i := range 2 {
			r := login(t, c, i, email, oldPassword)
			wantCode(t, fmt.Sprintf("login on %d before verification", i), r, 403, "EMAIL_NOT_VERIFIED")
			if r.str("accessToken") != "" || r.str("refreshToken") != "" || r.header.Get("Set-Cookie") != "" {
				t.Errorf("login on %d before verification issued tokens: %v, Set-Cookie %q", i, r.body, r.header.Get("Set-Cookie"))
			}
		}
		// The password is checked first: a wrong one says nothing about
		// verification.
		wantCode(t, "wrong password before verification", login(t, c, 1, email, "wrong horse"), 401, "INVALID_CREDENTIALS")

		wantVerified(t, "verify on 1", verifyEmail(t, c, 1, mailToken(t, c, 0, email, "verify")), id, true)
		for i := range 2 {
			r := login(t, c, i, email, oldPassword)
			wantVerified(t, fmt.Sprintf("login on %d after verification", i), r, id, true)
			if r.str("accessToken") == "" {
				t.Errorf("login on %d after verification: no access token", i)
			}
		}
	})
}

// TestOneTimeTokensStoredAsHashes: neither PostgreSQL nor Redis holds a
// link's token, only its SHA-256.
func TestOneTimeTokensStoredAsHashes(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, withRedis bool) {
		c := accountCluster(t, clusterOpts{instances: 1, redis: withRedis})
		const email = "ada@example.com"
		register(t, c, 0, email)
		wantCode(t, "forgot", forgot(t, c, 0, email), 202, "")
		tokens := map[string]string{ // purpose -> token
			"password_reset": mailToken(t, c, 0, email, "reset"),
			"email_verify":   mailToken(t, c, 0, email, "verify"),
		}
		// leaks reports whether s holds a token, or its secret part
		// (what follows the routing key).
		leaks := func(s string) string {
			for purpose, tok := range tokens {
				if strings.Contains(s, tok) || strings.Contains(s, tok[authstore.RouteLen:]) {
					return purpose
				}
			}
			return ""
		}

		db, err := sql.Open("pgx", c.env["DATABASE_URL"])
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		schema := c.env["DATABASE_SCHEMA"]

		// Every row of every table of the test schema, as text.
		rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, name)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sawOneTime := false
		for _, table := range tables {
			sawOneTime = sawOneTime || table == "auth_one_time_tokens"
			rs, err := db.QueryContext(ctx, `SELECT r::text FROM `+schema+`.`+table+` r`)
			if err != nil {
				t.Fatal(err)
			}
			for rs.Next() {
				var row string
				if err := rs.Scan(&row); err != nil {
					t.Fatal(err)
				}
				if p := leaks(row); p != "" {
					t.Errorf("table %s.%s holds the %s token as text", schema, table, p)
				}
			}
			if err := rs.Err(); err != nil {
				t.Fatal(err)
			}
			rs.Close()
		}
		if !sawOneTime {
			t.Fatalf("no table auth_one_time_tokens in schema %s (tables %v)", schema, tables)
		}
		// Where the tokens are kept, they are kept as their SHA-256.
		for purpose, tok := range tokens {
			h := sha256.Sum256([]byte(tok))
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+schema+`.auth_one_time_tokens WHERE route = $1 AND token_hash = $2 AND purpose = $3`,
				tok[:authstore.RouteLen], h[:], purpose).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 1, true: 0}[withRedis]; n != want {
				t.Errorf("rows of the %s token's SHA-256 in PostgreSQL: %d; want %d", purpose, n, want)
			}
		}
		if !withRedis {
			return
		}

		ropts, err := redis.ParseURL(c.env["REDIS_URL"])
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(ropts)
		defer rdb.Close()
		prefix := c.env["REDIS_PREFIX"]
		var keys []string
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		for _, key := range keys {
			if p := leaks(key); p != "" {
				t.Errorf("Redis key %q holds the %s token", key, p)
			}
			for _, v := range redisValues(t, rdb, key) {
				if p := leaks(v); p != "" {
					t.Errorf("the value of Redis key %q holds the %s token", key, p)
				}
			}
		}
		for purpose, tok := range tokens {
			h := sha256.Sum256([]byte(tok))
			key := prefix + "{" + tok[:authstore.RouteLen] + "}:o:" + base64.RawURLEncoding.EncodeToString(h[:])
			got, err := rdb.HGet(ctx, key, "p").Result()
			if err != nil || got != purpose {
				t.Errorf("Redis: %s of the %s token's SHA-256: purpose %q, %v; want %q (keys %q)", key, purpose, got, err, purpose, keys)
			}
		}
	})
}

// redisValues returns every string a key holds: its value, fields,
// members or elements, and their scores.
func redisValues(t *testing.T, rdb *redis.Client, key string) []string {
	t.Helper()
	ctx := context.Background()
	typ, err := rdb.Type(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	switch typ {
	case "none": // expired since the scan
	case "string":
		v, err := rdb.Get(ctx, key).Result()
		if err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		out = append(out, v)
	case "hash":
		m, err := rdb.HGetAll(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			out = append(out, k, v)
		}
	case "set":
		m, err := rdb.SMembers(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	case "zset":
		m, err := rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range m {
			out = append(out, fmt.Sprint(z.Member), fmt.Sprint(z.Score))
		}
	case "list":
		m, err := rdb.LRange(ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	default:
		t.Errorf("Redis key %q of unexpected type %s", key, typ)
	}
	return out
}

// TestUsersTableBeforeEmailVerified: an accounts table created before the
// email_verified column gains it at start; its accounts sign in
// (unverified), and registration and verification work.
func TestUsersTableBeforeEmailVerified(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, withRedis bool) {
		pgURL := testenv.PostgresURL(t)
		schema := freshSchema(t, pgURL, "old_")
		admin, err := sql.Open("pgx", pgURL)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		ctx := context.Background()
		// The table as users.go created it before email_verified.
		if _, err := admin.ExecContext(ctx, `CREATE TABLE `+schema+`.app_users (
			id            uuid PRIMARY KEY,
			email         text NOT NULL UNIQUE,
			name          text NOT NULL,
			role          text NOT NULL,
			password_hash bytea NOT NULL,
			created_at    timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			t.Fatal(err)
		}
		hasher, err := password.NewBcrypt(password.WithCost(password.MinCost))
		if err != nil {
			t.Fatal(err)
		}
		hash, err := hasher.Hash(ctx, "an old password")
		if err != nil {
			t.Fatal(err)
		}
		const oldID = "6f1c2a4e-0b7d-4c55-9a0e-3d2b1f7c8e90"
		if _, err := admin.ExecContext(ctx, `INSERT INTO `+schema+`.app_users (id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5)`,
			oldID, "old@example.com", "Old", "user", hash); err != nil {
			t.Fatal(err)
		}

		c := accountCluster(t, clusterOpts{instances: 2, redis: withRedis, env: map[string]string{"DATABASE_SCHEMA": schema}})

		var n int
		if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = $1 AND table_name = 'app_users' AND column_name = 'email_verified'`, schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("email_verified columns of %s.app_users after start: %d; want 1", schema, n)
		}

		old := login(t, c, 1, "old@example.com", "an old password")
		wantVerified(t, "login of an account from before the column", old, oldID, false)

		const email = "ada@example.com"
		reg := register(t, c, 0, email)
		id := user(reg)["id"].(string)
		wantUser(t, "register", reg, 201, id, false)
		wantVerified(t, "verify on 1", verifyEmail(t, c, 1, mailToken(t, c, 0, email, "verify")), id, true)
		wantVerified(t, "me on 0", me(t, c, 0, reg.str("accessToken")), id, true)
		wantVerified(t, "the old account's me", me(t, c, 0, old.str("accessToken")), oldID, false)
	})
}

// TestAccountFlowsDatabaseDown cuts PostgreSQL under a running instance: a
// reset request for a known address, a reset and a verification answer 503
// UNAVAILABLE with Retry-After (never 202 without a link, never 500), and
// no mail goes out; the flows work again once the database is back.
func TestAccountFlowsDatabaseDown(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, withRedis bool) {
		pg := newFaultProxy(t, "")
		c := accountCluster(t, clusterOpts{instances: 1, redis: withRedis, dbProxy: pg})
		const email = "ada@example.com"
		reg := register(t, c, 0, email)
		wantCode(t, "forgot", forgot(t, c, 0, email), 202, "")
		tok := mailToken(t, c, 0, email, "reset")

		pg.setDown(true)
		want503(t, "forgot for a known address with the database down", forgot(t, c, 0, email))
		if n := len(mailsOf(t, c, 0, email, "reset")); n != 1 {
			t.Errorf("reset mails after a forgot with the database down: %d; want 1 (the first)", n)
		}
		want503(t, "reset with the database down", resetPassword(t, c, 0, tok, newPassword))
		want503(t, "verify with the database down", verifyEmail(t, c, 0, mailToken(t, c, 0, email, "verify")))

		pg.setDown(false)
		waitFor(t, "me after the database is back", func() bool {
			return me(t, c, 0, reg.str("accessToken")).status == 200
		})
		// The password did not change.
		wantCode(t, "login with the old password after recovery", login(t, c, 0, email, oldPassword), 200, "")
		wantCode(t, "forgot after recovery", forgot(t, c, 0, email), 202, "")
		wantCode(t, "reset with the link sent after recovery", resetPassword(t, c, 0, mailToken(t, c, 0, email, "reset"), newPassword), 200, "")
		wantCode(t, "login with the new password", login(t, c, 0, email, newPassword), 200, "")
	})
}

// TestLinksSurviveDatabaseOutage: a reset or verification that answered
// 503 because PostgreSQL was down has written nothing (CONTRACT.md: "nothing
// half-written"): its link still works once the database is back.
func TestLinksSurviveDatabaseOutage(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, withRedis bool) {
		pg := newFaultProxy(t, "")
		c := accountCluster(t, clusterOpts{instances: 1, redis: withRedis, dbProxy: pg})
		const email = "ada@example.com"
		reg := register(t, c, 0, email)
		id := user(reg)["id"].(string)
		wantCode(t, "forgot", forgot(t, c, 0, email), 202, "")
		reset, verify := mailToken(t, c, 0, email, "reset"), mailToken(t, c, 0, email, "verify")

		pg.setDown(true)
		want503(t, "reset with the database down", resetPassword(t, c, 0, reset, newPassword))
		want503(t, "verify with the database down", verifyEmail(t, c, 0, verify))
		pg.setDown(false)
		waitFor(t, "me after the database is back", func() bool {
			return me(t, c, 0, reg.str("accessToken")).status == 200
		})

		wantCode(t, "the reset link after recovery", resetPassword(t, c, 0, reset, newPassword), 200, "")
		wantVerified(t, "the verification link after recovery", verifyEmail(t, c, 0, verify), id, true)
	})
}

// TestAccountFlowsRedisDown cuts Redis, which keeps the tokens and the
// throttle: a reset request, a reset and a verification answer 503 with
// Retry-After and spend nothing; the links work once Redis is back.
func TestAccountFlowsRedisDown(t *testing.T) {
	t.Parallel()
	rd := newFaultProxy(t, "")
	c := accountCluster(t, clusterOpts{instances: 1, redis: true, redisVia: rd})
	const email = "ada@example.com"
	reg := register(t, c, 0, email)
	id := user(reg)["id"].(string)
	wantCode(t, "forgot", forgot(t, c, 0, email), 202, "")
	reset, verify := mailToken(t, c, 0, email, "reset"), mailToken(t, c, 0, email, "verify")

	rd.setDown(true)
	want503(t, "forgot with Redis down", forgot(t, c, 0, email))
	if n := len(mailsOf(t, c, 0, email, "reset")); n != 1 {
		t.Errorf("reset mails after a forgot with Redis down: %d; want 1 (the first)", n)
	}
	want503(t, "reset with Redis down", resetPassword(t, c, 0, reset, newPassword))
	want503(t, "verify with Redis down", verifyEmail(t, c, 0, verify))

	rd.setDown(false)
	waitFor(t, "me after Redis is back", func() bool {
		return me(t, c, 0, reg.str("accessToken")).status == 200
	})
	wantCode(t, "login with the old password after recovery", login(t, c, 0, email, oldPassword), 200, "")
	wantVerified(t, "the verification link after recovery", verifyEmail(t, c, 0, verify), id, true)
	wantCode(t, "the reset link after recovery", resetPassword(t, c, 0, reset, newPassword), 200, "")
	wantCode(t, "login with the new password", login(t, c, 0, email, newPassword), 200, "")
}
