package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		env    map[string]string
		secure bool
	}{
		{"default config", map[string]string{"AUTH_COOKIE_SECURE": ""}, true},
		{"AUTH_COOKIE_SECURE=false", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, tt.env)
			r := ts.client(t).post("/api/auth/register", credentials("ada@example.com", testPassword, "name", "Ada"))
			if r.status != http.StatusCreated {
				t.Fatalf("%v; want 201", r)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("register Content-Type = %q; want application/json", ct)
			}
			wantNoStore(t, r)
			wantRefreshCookie(t, r, tt.secure, defaultRefreshTTL)
			if strings.Contains(string(r.body), testPassword) || strings.Contains(string(r.body), "$2") {
				t.Errorf("register body = %s; want no password or hash", r.body)
			}

			body := object(t, r)
			wantKeys(t, "register body", body, "user", "accessToken", "expiresIn")
			user, _ := body["user"].(map[string]any)
			wantKeys(t, "user", user, "id", "email", "name", "role", "emailVerified")
			id, _ := user["id"].(string)
			if !uuidRE.MatchString(id) || user["email"] != "ada@example.com" || user["name"] != "Ada" || user["role"] != "user" {
				t.Errorf("user = %v; want a UUID id, ada@example.com, Ada, role user", user)
			}
			if got := body["expiresIn"]; got != 900.0 {
				t.Errorf("expiresIn = %v; want 900", got)
			}

			tok, _ := body["accessToken"].(string)
			header, claims := decodeJWT(t, tok)
			if header["typ"] != "at+jwt" || header["alg"] != "HS256" || header["kid"] == nil || header["kid"] == "" {
				t.Errorf("token header = %v; want typ at+jwt, alg HS256 and a kid", header)
			}
			for _, name := range []string{"iss", "aud", "sub", "exp", "iat", "jti", "role", "email"} {
				if _, ok := claims[name]; !ok {
					t.Errorf("token claims = %v; want %s", claims, name)
				}
			}
			if claims["sub"] != id || claims["iss"] != "auth-example" || claims["role"] != "user" || claims["email"] != "ada@example.com" {
				t.Errorf("token claims = %v; want sub %s, iss auth-example, role user, email ada@example.com", claims, id)
			}
			if aud := claims["aud"]; aud != "auth-example-api" && !slices.Equal(toStrings(aud), []string{"auth-example-api"}) {
				t.Errorf("token aud = %v; want auth-example-api", aud)
			}
		})
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestRegisterRefusals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.client(t)
	c.register("ada@example.com")

	reg := func(email, pw, name string) string {
		b, _ := json.Marshal(map[string]string{"email": email, "password": pw, "name": name})
		return string(b)
	}
	const ok = `"email":"bob@example.com","password":"correct horse battery","name":"Bob"`
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"email taken", reg("ada@example.com", "another password", "Ada"), 409, "EMAIL_TAKEN"},
		{"email taken in other case", reg("ADA@Example.COM", "another password", "Ada"), 409, "EMAIL_TAKEN"},
		{"email taken with spaces", reg(" ada@example.com ", "another password", "Ada"), 409, "EMAIL_TAKEN"},
		{"email without at", reg("bob.example.com", testPassword, "Bob"), 400, "INVALID_INPUT"},
		{"email with a display name", reg("Bob <bob@example.com>", testPassword, "Bob"), 400, "INVALID_INPUT"},
		{"empty email", reg("", testPassword, "Bob"), 400, "INVALID_INPUT"},
		{"password of 7 bytes", reg("bob@example.com", "1234567", "Bob"), 400, "INVALID_INPUT"},
		{"password of 73 bytes", reg("bob@example.com", strings.Repeat("p", 73), "Bob"), 400, "INVALID_INPUT"},
		{"password of 37 runes and 73 bytes", reg("bob@example.com", strings.Repeat("é", 36)+"p", "Bob"), 400, "INVALID_INPUT"},
		{"empty name", reg("bob@example.com", testPassword, " "), 400, "INVALID_INPUT"},
		{"missing email", `{"password":"correct horse battery","name":"Bob"}`, 400, "INVALID_INPUT"},
		{"missing password", `{"email":"bob@example.com","name":"Bob"}`, 400, "INVALID_INPUT"},
		{"missing name", `{"email":"bob@example.com","password":"correct horse battery"}`, 400, "INVALID_INPUT"},
		{"bad JSON", `{"email":"bob@example.com",`, 400, "INVALID_INPUT"},
		{"not an object", `["bob@example.com"]`, 400, "INVALID_INPUT"},
		{"wrong type", `{"email":"bob@example.com","password":12345678,"name":"Bob"}`, 400, "INVALID_INPUT"},
		{"unknown field", `{` + ok + `,"role":"admin"}`, 400, "INVALID_INPUT"},
		{"trailing object", `{` + ok + `}{}`, 400, "INVALID_INPUT"},
		{"trailing garbage", `{` + ok + `} x`, 400, "INVALID_INPUT"},
		{"unknown refresh transfer", `{` + ok + `,"refreshTransfer":"pigeon"}`, 400, "INVALID_INPUT"},
		{"body over 64 KiB", reg("bob@example.com", strings.Repeat("p", 64<<10), "Bob"), 413, "BODY_TOO_LARGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.in(t).post("/api/auth/register", tt.body)
			wantError(t, r, tt.status, tt.code)
			wantNoCookie(t, r)
		})
	}
	// Nothing above created bob: a valid registration still works.
	accepted := []struct{ name, email, pw string }{
		{"password of 8 bytes", "bob@example.com", "12345678"},
		{"password of 72 bytes", "carol@example.com", strings.Repeat("p", 72)},
		{"password of 24 runes and 72 bytes", "dan@example.com", strings.Repeat("€", 24)},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			r := c.in(t).post("/api/auth/register", reg(tt.email, tt.pw, "Bob"))
			if r.status != http.StatusCreated {
				t.Errorf("%v; want 201", r)
			}
		})
	}
}

// TestAccessTokenLifetime checks that exp is exactly iat plus
// AUTH_ACCESS_TTL, in the whole seconds that tokens carry (a lifetime is
// rounded up to the second), and that expiresIn says the same: any positive
// duration is valid, short ones too.
func TestAccessTokenLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ttl  string
		want int64 // seconds
	}{
		{"1s", 1},
		{"500ms", 1},
		{"1500ms", 2},
		{"90s", 90},
	}
	for _, tt := range tests {
		t.Run(tt.ttl, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, map[string]string{"AUTH_ACCESS_TTL": tt.ttl})
			r := ts.client(t).post("/api/auth/register", credentials("ada@example.com", testPassword, "name", "Ada"))
			if r.status != http.StatusCreated {
				t.Fatalf("%v; want 201", r)
			}
			var body struct {
				AccessToken string
				ExpiresIn   json.Number
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("%v: %v", r, err)
			}
			_, claims := decodeJWT(t, body.AccessToken)
			exp, err1 := claims["exp"].(json.Number).Int64()
			iat, err2 := claims["iat"].(json.Number).Int64()
			if err1 != nil || err2 != nil {
				t.Fatalf("claims = %v; want integer exp and iat", claims)
			}
			if exp-iat != tt.want {
				t.Errorf("AUTH_ACCESS_TTL=%s: exp - iat = %d; want %d", tt.ttl, exp-iat, tt.want)
			}
			if got, err := body.ExpiresIn.Int64(); err != nil || got != tt.want {
				t.Errorf("AUTH_ACCESS_TTL=%s: expiresIn = %s; want %d", tt.ttl, body.ExpiresIn, tt.want)
			}
		})
	}
}
