package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecFile := filepath.Join(dir, "ec.pem")
	if err := os.WriteFile(ecFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string // substring of the one-line error
	}{
		{"short secret", map[string]string{"AUTH_SECRET": "short"}, "AUTH_SECRET"},
		{"unknown alg", map[string]string{"AUTH_ALG": "HS999"}, "AUTH_ALG"},
		{"alg none", map[string]string{"AUTH_ALG": "none"}, "AUTH_ALG"},
		{"bad ttl", map[string]string{"AUTH_ACCESS_TTL": "soon"}, "AUTH_ACCESS_TTL"},
		{"negative ttl", map[string]string{"AUTH_ACCESS_TTL": "-1m"}, "AUTH_ACCESS_TTL"},
		{"key file for another alg", map[string]string{"AUTH_ALG": "RS256", "AUTH_PRIVATE_KEY_FILE": ecFile}, "AUTH_PRIVATE_KEY_FILE"},
		{"missing key file", map[string]string{"AUTH_ALG": "EdDSA", "AUTH_PRIVATE_KEY_FILE": filepath.Join(dir, "nope.pem")}, "AUTH_PRIVATE_KEY_FILE"},
		{"secret with RS256", map[string]string{"AUTH_ALG": "RS256", "AUTH_SECRET": strings.Repeat("s", 40)}, "AUTH_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(envFrom(tt.env), quiet)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("loadConfig(%v) = %v; want one line naming %s", tt.env, err, tt.want)
			}
		})
	}
	if _, err := loadConfig(envFrom(map[string]string{"AUTH_ALG": "ES256", "AUTH_PRIVATE_KEY_FILE": ecFile}), quiet); err != nil {
		t.Errorf("ES256 with a P-256 key file: %v", err)
	}
}

func TestRegisterLoginMe(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(envFrom(map[string]string{"AUTH_ALG": "EdDSA"}), quiet)
	if err != nil {
		t.Fatal(err)
	}
	cfg.bcryptCost = 10 // the lowest cost the library allows; keeps -race runs short
	s, err := newServer(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	post := func(path, body string) (*http.Response, map[string]any) {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	resp, m := post("/api/auth/register", `{"email":"ada@example.com","password":"correct horse","name":"Ada"}`)
	if resp.StatusCode != 201 || m["accessToken"] == nil {
		t.Fatalf("register = %d %v; want 201 with a token", resp.StatusCode, m)
	}
	if resp, _ := post("/api/auth/register", `{"email":"ada@example.com","password":"correct horse","name":"Ada"}`); resp.StatusCode != 409 {
		t.Errorf("duplicate register = %d; want 409", resp.StatusCode)
	}
	resp, m = post("/api/auth/login", `{"email":"ada@example.com","password":"correct horse"}`)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login = %d %v; want 200, no-store", resp.StatusCode, m)
	}
	wrong, wm := post("/api/auth/login", `{"email":"ada@example.com","password":"wrong password"}`)
	unknown, um := post("/api/auth/login", `{"email":"bob@example.com","password":"wrong password"}`)
	if wrong.StatusCode != 401 || unknown.StatusCode != 401 || wm["code"] != um["code"] || wm["error"] != um["error"] {
		t.Errorf("wrong password %d %v vs unknown email %d %v; want the same 401", wrong.StatusCode, wm, unknown.StatusCode, um)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+m["accessToken"].(string))
	me, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		User map[string]any `json:"user"`
	}
	_ = json.NewDecoder(me.Body).Decode(&body)
	me.Body.Close()
	if me.StatusCode != 200 || body.User["email"] != "ada@example.com" || body.User["hash"] != nil {
		t.Errorf("me = %d %v; want 200 with the user and no hash", me.StatusCode, body.User)
	}
	jwks, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.NewDecoder(jwks.Body).Decode(&set)
	jwks.Body.Close()
	if len(set.Keys) != 1 || set.Keys[0]["alg"] != "EdDSA" || set.Keys[0]["d"] != nil {
		t.Errorf("jwks = %v; want one public EdDSA key", set.Keys)
	}
}
