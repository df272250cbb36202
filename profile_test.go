package auth_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/jwtkit/auth"
)

// newProfileAuth returns a verify-only Auth for s's key with profile p, on
// the fixture's clock, issuer and audience.
func newProfileAuth(t *testing.T, s signer, p auth.Profile) *auth.Auth {
	t.Helper()
	ks, err := auth.NewKeySet(s.key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.WithKeySource(ks), auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience), auth.WithClock(fxClock), auth.WithProfile(p))
	if err != nil {
		t.Fatalf("New(WithProfile(%+v)): %v", p, err)
	}
	return a
}

func TestProfileTypes(t *testing.T) {
	s := newSigner(t, auth.ES256, "p256-a")
	strict := newAuth(t, s.key)
	jwtOnly := newProfileAuth(t, s, auth.Profile{Types: []string{"JWT"}})
	untyped := newProfileAuth(t, s, auth.Profile{Types: []string{"JWT", ""}})
	defaults := newProfileAuth(t, s, auth.Profile{OptionalID: true})
	header := func(typ any) map[string]any { return with(headerFor(s), "typ", typ) }
	noTyp := with(headerFor(s), "typ", nil)
	tests := []struct {
		name   string
		a      *auth.Auth
		header map[string]any
		want   error
	}{
		{"strict refuses JWT", strict, header("JWT"), auth.ErrTokenHeader},
		{"strict refuses no typ", strict, noTyp, auth.ErrTokenHeader},
		{"JWT profile takes JWT", jwtOnly, header("JWT"), nil},
		{"JWT profile takes application/jwt", jwtOnly, header("application/jwt"), nil},
		{"JWT profile refuses at+jwt", jwtOnly, header("at+jwt"), auth.ErrTokenHeader},
		{"JWT profile refuses no typ", jwtOnly, noTyp, auth.ErrTokenHeader},
		{"JWT profile refuses device+jwt", jwtOnly, header("device+jwt"), auth.ErrTokenHeader},
		{"untyped profile takes no typ", untyped, noTyp, nil},
		{"untyped profile takes empty typ", untyped, header(""), nil},
		{"empty Types means at+jwt", defaults, header("at+jwt"), nil},
		{"empty Types refuses JWT", defaults, header("JWT"), auth.ErrTokenHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := forge(t, tt.header, validClaims(), s)
			checkVerify(t, tt.a, tok, tt.want)
			// Twice: a header that verified once is cached; a refused
			// one must stay refused.
			checkVerify(t, tt.a, tok, tt.want)
		})
	}
}

func TestProfileClaims(t *testing.T) {
	s := newSigner(t, auth.ES256, "p256-a")
	h := with(headerFor(s), "typ", "JWT")
	roles := auth.Profile{Types: []string{"JWT"}, ScopeClaim: "scp", RoleClaims: []string{"/realm_access/roles", "/resource_access/shop~1web/roles", "/https:~1~1example.com~1roles"}}
	tests := []struct {
		name      string
		p         auth.Profile
		claims    map[string]any
		want      error
		wantRoles []string
		wantScope string
	}{
		{"roles from every pointer", roles, with(validClaims(),
			"realm_access", map[string]any{"roles": []string{"clerk", "viewer"}},
			"resource_access", map[string]any{"shop/web": map[string]any{"roles": []string{"refunds"}}, "other": map[string]any{"roles": []string{"admin"}}},
			"https://example.com/roles", "auditor",
			"scp", "orders.read orders.write"), nil, []string{"clerk", "viewer", "refunds", "auditor"}, "orders.read orders.write"},
		{"role claim is ignored when roles come from elsewhere", roles, with(validClaims(), "role", "admin"), nil, nil, ""},
		{"scp as an array", roles, with(validClaims(), "scp", []string{"a", "b"}), nil, nil, "a b"},
		{"scope claim is ignored when scopes come from scp", roles, with(validClaims(), "scope", "admin:all"), nil, nil, ""},
		{"roles of the wrong type", roles, with(validClaims(), "realm_access", map[string]any{"roles": 7}), auth.ErrTokenMalformed, nil, ""},
		{"roles parent not an object", roles, with(validClaims(), "realm_access", []string{"admin"}), auth.ErrTokenMalformed, nil, ""},
		{"scp of the wrong type", roles, with(validClaims(), "scp", map[string]any{"a": true}), auth.ErrTokenMalformed, nil, ""},
		{"jti required by default", roles, with(validClaims(), "jti", nil), auth.ErrTokenClaims, nil, ""},
		{"jti optional", auth.Profile{Types: []string{"JWT"}, OptionalID: true}, with(validClaims(), "jti", nil), nil, nil, ""},
		{"azp matches", auth.Profile{Types: []string{"JWT"}, AuthorizedParty: "web"}, with(validClaims(), "azp", "web"), nil, nil, ""},
		{"client_id without azp", auth.Profile{Types: []string{"JWT"}, AuthorizedParty: "web"}, with(validClaims(), "client_id", "web"), nil, nil, ""},
		{"azp wins over client_id", auth.Profile{Types: []string{"JWT"}, AuthorizedParty: "web"}, with(validClaims(), "azp", "mobile", "client_id", "web"), auth.ErrTokenClaims, nil, ""},
		{"azp of another client", auth.Profile{Types: []string{"JWT"}, AuthorizedParty: "web"}, with(validClaims(), "azp", "mobile"), auth.ErrTokenClaims, nil, ""},
		{"azp missing", auth.Profile{Types: []string{"JWT"}, AuthorizedParty: "web"}, validClaims(), auth.ErrTokenClaims, nil, ""},
		{"azp not a string", auth.Profile{Types: []string{"JWT"}, AuthorizedParty: "web"}, with(validClaims(), "azp", []string{"web"}), auth.ErrTokenMalformed, nil, ""},
		{"profile keeps the issuer check", roles, with(validClaims(), "iss", "https://other.example.com"), auth.ErrTokenClaims, nil, ""},
		{"profile keeps the audience check", roles, with(validClaims(), "aud", "other"), auth.ErrTokenClaims, nil, ""},
		{"profile keeps the expiry check", roles, with(validClaims(), "exp", fxNow.Unix()-1), auth.ErrTokenExpired, nil, ""},
		{"profile keeps the subject check", roles, with(validClaims(), "sub", nil), auth.ErrTokenClaims, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newProfileAuth(t, s, tt.p)
			c := checkVerify(t, a, forge(t, h, tt.claims, s), tt.want)
			if tt.want != nil {
				return
			}
			if !slices.Equal(c.Roles, tt.wantRoles) || c.Scope != tt.wantScope {
				t.Errorf("Verify() roles %q scope %q; want %q and %q", c.Roles, c.Scope, tt.wantRoles, tt.wantScope)
			}
			if len(tt.p.RoleClaims) > 0 && (c.Role != "" || c.HasRole("admin")) {
				t.Errorf("Verify() Role = %q, HasRole(admin) = %v; want no role from the role claim", c.Role, c.HasRole("admin"))
			}
			for _, r := range tt.wantRoles {
				if !c.HasRole("nobody", r) {
					t.Errorf("HasRole(nobody, %q) = false; want true", r)
				}
			}
		})
	}
}

// A claim the profile reads, given twice, refuses the token: decoders
// disagree on which one wins.
func TestProfileRefusesDuplicateClaims(t *testing.T) {
	s := newSigner(t, auth.ES256, "p256-a")
	a := newProfileAuth(t, s, auth.Profile{Types: []string{"JWT"}, RoleClaims: []string{"/roles"}, AuthorizedParty: "web"})
	h := mustJSON(t, with(headerFor(s), "typ", "JWT"))
	base := `"iss":"` + fxIssuer + `","aud":"` + fxAudience + `","sub":"u","jti":"j","iat":` + strconv.FormatInt(fxNow.Unix()-60, 10) + `,"exp":` + strconv.FormatInt(fxNow.Unix()+600, 10)
	for name, payload := range map[string]string{
		"roles twice":        `{` + base + `,"azp":"web","roles":["user"],"roles":["admin"]}`,
		"azp twice":          `{` + base + `,"azp":"mobile","azp":"web"}`,
		"nested roles twice": `{` + base + `,"azp":"web","roles":{"a":1,"a":2}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := a.Verify(context.Background(), forgeRaw(t, h, []byte(payload), s)); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Verify(%s) = %v; want ErrInvalidToken", payload, err)
			}
		})
	}
}

func TestProfileConfig(t *testing.T) {
	s := newSigner(t, auth.ES256, "p256-a")
	ks, err := auth.NewKeySet(s.key)
	if err != nil {
		t.Fatal(err)
	}
	base := []auth.Option{auth.WithIssuer(fxIssuer), auth.WithAudience(fxAudience)}
	tests := []struct {
		name string
		opts []auth.Option
	}{
		{"with signing keys", []auth.Option{auth.WithKeys(ks), auth.WithProfile(auth.Profile{})}},
		{"twice", []auth.Option{auth.WithKeySource(ks), auth.WithProfile(auth.Profile{}), auth.WithProfile(auth.Profile{})}},
		{"pointer without slash", []auth.Option{auth.WithKeySource(ks), auth.WithProfile(auth.Profile{RoleClaims: []string{"roles"}})}},
		{"pointer with a bad escape", []auth.Option{auth.WithKeySource(ks), auth.WithProfile(auth.Profile{RoleClaims: []string{"/a~2b"}})}},
		{"pointer with an empty name", []auth.Option{auth.WithKeySource(ks), auth.WithProfile(auth.Profile{RoleClaims: []string{"/a//b"}})}},
		{"whole document", []auth.Option{auth.WithKeySource(ks), auth.WithProfile(auth.Profile{RoleClaims: []string{""}})}},
		{"typ with a space", []auth.Option{auth.WithKeySource(ks), auth.WithProfile(auth.Profile{Types: []string{"J WT"}})}},
		{"scope claim not printable", []auth.Option{auth.WithKeySource(ks), auth.WithProfile(auth.Profile{ScopeClaim: "sc\x00p"})}},
		{"azp with spaces", []auth.Option{auth.WithKeySource(ks), auth.WithProfile(auth.Profile{AuthorizedParty: " web"})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.New(append(base, tt.opts...)...); !errors.Is(err, auth.ErrConfig) {
				t.Errorf("New() = %v; want ErrConfig", err)
			}
		})
	}
}

// The library never issues Roles: its tokens carry one role.
func TestIssueRefusesRoles(t *testing.T) {
	a := newAuth(t, newSigner(t, auth.HS256, "hmac").key)
	if _, err := a.Issue(context.Background(), auth.Claims{Subject: "u", Roles: []string{"admin"}}); err == nil {
		t.Error("Issue(Roles: admin) = nil error; want a refusal")
	}
}
