package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Input that PostgreSQL refuses in text (invalid UTF-8, NUL) never reaches
// it: client metadata is cleaned and clipped on a character boundary, and
// names and e-mail addresses with control characters or bidirectional
// overrides are 400 INVALID_INPUT, never 503.
func TestInputPostgresRefuses(t *testing.T) {
	c := newCluster(t, clusterOpts{})
	post := func(path, userAgent string, body map[string]string) reply {
		t.Helper()
		b, _ := json.Marshal(body)
		req, err := http.NewRequest("POST", c.url(0, path), bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", userAgent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r := reply{status: resp.StatusCode, header: resp.Header}
		_ = json.NewDecoder(resp.Body).Decode(&r.body)
		return r
	}
	register(t, c, 0, "ada@example.com")
	for name, ua := range map[string]string{
		"user agent cut inside a character": strings.Repeat("é", 200),
		"user agent with byte 0xff":         "agent/1.0 \xff\xfe",
	} {
		r := post("/api/auth/login", ua, map[string]string{"email": "ada@example.com", "password": "correct horse", "refreshTransfer": "body"})
		wantCode(t, "login with a "+name, r, 200, "")
	}
	for name, body := range map[string]map[string]string{
		"login e-mail with NUL":    {"email": "ada@example.com\x00", "password": "correct horse"},
		"register name with NUL":   {"email": "bob@example.com", "password": "correct horse", "name": "Bob\x00"},
		"register name with \\xff": {"email": "bob@example.com", "password": "correct horse", "name": "Bob \xff"},
		"register name with RLO":   {"email": "bob@example.com", "password": "correct horse", "name": "Bob\u202Egpj.exe"},
		"register name with a tab": {"email": "bob@example.com", "password": "correct horse", "name": "Bob\tX"},
		"register e-mail with NUL": {"email": "bob\x00@example.com", "password": "correct horse", "name": "Bob"},
		"forgot e-mail with NUL":   {"email": "ada@example.com\x00"},
	} {
		path := "/api/auth/register"
		switch {
		case strings.HasPrefix(name, "login"):
			path = "/api/auth/login"
		case strings.HasPrefix(name, "forgot"):
			path = "/api/auth/password/forgot"
		}
		wantCode(t, name, post(path, "test", body), 400, "INVALID_INPUT")
	}
}
