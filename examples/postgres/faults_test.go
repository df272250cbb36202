package main

import (
	"testing"
)

// TestDatabaseDown stops PostgreSQL under a running instance whose
// revocation state lives in Redis: whatever needs the database answers 503
// UNAVAILABLE with Retry-After and issues nothing; bearer routes keep working
// from the token and Redis; everything recovers once the database is back.
func TestDatabaseDown(t *testing.T) {
	t.Parallel()
	pg := newFaultProxy(t, "")
	c := newCluster(t, clusterOpts{instances: 1, redis: true, dbProxy: pg})
	reg := register(t, c, 0, "ada@example.com")
	access, rt := reg.str("accessToken"), reg.str("refreshToken")

	pg.setDown(true)
	for what, r := range map[string]reply{
		"login":    login(t, c, 0, "ada@example.com", "correct horse"),
		"register": call(t, "POST", c.url(0, "/api/auth/register"), "", map[string]string{"email": "bob@example.com", "password": "correct horse", "name": "Bob"}),
		"refresh":  refresh(t, c, 0, rt),
		"me":       call(t, "GET", c.url(0, "/api/auth/me"), access, nil),
	} {
		wantCode(t, what+" with the database down", r, 503, "UNAVAILABLE")
		if r.header.Get("Retry-After") == "" || r.str("accessToken") != "" || r.header.Get("Set-Cookie") != "" {
			t.Errorf("%s with the database down: Retry-After %q, token issued %v, Set-Cookie %q",
				what, r.header.Get("Retry-After"), r.str("accessToken") != "", r.header.Get("Set-Cookie"))
		}
	}
	wantCode(t, "posts (token and Redis only) with the database down", call(t, "GET", c.url(0, "/api/posts"), access, nil), 200, "")

	pg.setDown(false)
	// Nothing was half-rotated: the same refresh token rotates once, now.
	waitFor(t, "refresh after the database is back", func() bool { return refresh(t, c, 0, rt).status == 200 })
	wantCode(t, "the old token again (reuse)", refresh(t, c, 0, rt), 401, "INVALID_REFRESH_TOKEN")
	wantCode(t, "login after recovery", login(t, c, 0, "ada@example.com", "correct horse"), 200, "")
}

// TestDatabaseDownFailsClosed: with the revocation state in PostgreSQL too,
// even bearer routes must answer 503 while it is down, never let a token
// through unchecked and never call it bad.
func TestDatabaseDownFailsClosed(t *testing.T) {
	t.Parallel()
	pg := newFaultProxy(t, "")
	c := newCluster(t, clusterOpts{instances: 1, dbProxy: pg})
	access := register(t, c, 0, "ada@example.com").str("accessToken")
	pg.setDown(true)
	wantCode(t, "posts with the revocation store down", call(t, "GET", c.url(0, "/api/posts"), access, nil), 503, "UNAVAILABLE")
	pg.setDown(false)
	waitFor(t, "posts after recovery", func() bool { return call(t, "GET", c.url(0, "/api/posts"), access, nil).status == 200 })
}

// TestRedisDown stops Redis: bearer routes (the revocation check) and login
// (the throttle) answer 503; refresh, which needs only PostgreSQL, works;
// everything recovers once Redis is back.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	rd := newFaultProxy(t, "")
	c := newCluster(t, clusterOpts{instances: 1, redis: true, redisVia: rd})
	reg := register(t, c, 0, "ada@example.com")
	access := reg.str("accessToken")

	rd.setDown(true)
	wantCode(t, "posts with Redis down", call(t, "GET", c.url(0, "/api/posts"), access, nil), 503, "UNAVAILABLE")
	wantCode(t, "login with Redis down", login(t, c, 0, "ada@example.com", "correct horse"), 503, "UNAVAILABLE")
	next := refresh(t, c, 0, reg.str("refreshToken"))
	wantCode(t, "refresh with Redis down", next, 200, "")

	rd.setDown(false)
	waitFor(t, "posts after Redis is back", func() bool {
		return call(t, "GET", c.url(0, "/api/posts"), next.str("accessToken"), nil).status == 200
	})
	wantCode(t, "login after recovery", login(t, c, 0, "ada@example.com", "correct horse"), 200, "")
}
