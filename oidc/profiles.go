package oidc

import (
	"strings"

	"github.com/jwtkit/auth"
)

// pointerToken escapes a member name for a JSON Pointer (RFC 6901).
func pointerToken(name string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
}

// Keycloak returns the profile of access tokens issued by a Keycloak realm
// to the client clientID: typ "JWT" (or "at+jwt"), scopes in "scope", roles
// from the realm ("realm_access.roles") and from the client
// ("resource_access.<clientID>.roles"), and azp equal to clientID. The
// verifier's audience must be in the token's aud, which Keycloak writes when
// the client has an audience mapper. An empty clientID reads realm roles
// only and accepts a token issued to any client of the realm.
func Keycloak(clientID string) auth.Profile {
	p := auth.Profile{
		Types:           []string{"JWT", "at+jwt"},
		ScopeClaim:      "scope",
		RoleClaims:      []string{"/realm_access/roles"},
		AuthorizedParty: clientID,
	}
	if clientID != "" {
		p.RoleClaims = append(p.RoleClaims, "/resource_access/"+pointerToken(clientID)+"/roles")
	}
	return p
}

// Auth0 returns the profile of access tokens issued by an Auth0 tenant for
// an API: typ "JWT" (or "at+jwt" with the RFC 9068 token profile), scopes in
// "scope", azp equal to clientID when clientID is not empty, and no jti
// required. Auth0 has no role claim of its own: roleClaim names the
// namespaced custom claim an Action adds ("https://example.com/roles");
// when empty, no role is read. Permissions that Auth0's RBAC adds are in
// the "permissions" claim, which [auth.Claims.Decode] reads.
func Auth0(clientID, roleClaim string) auth.Profile {
	p := auth.Profile{
		Types:           []string{"JWT", "at+jwt"},
		ScopeClaim:      "scope",
		AuthorizedParty: clientID,
		OptionalID:      true,
	}
	if roleClaim != "" {
		p.RoleClaims = []string{"/" + pointerToken(roleClaim)}
	}
	return p
}

// Entra returns the profile of v2.0 access tokens issued by Microsoft Entra
// ID to the client clientID for an API (the API's manifest sets
// accessTokenAcceptedVersion to 2): typ "JWT", delegated scopes in the
// space-separated "scp", application roles in "roles", azp equal to
// clientID when not empty, and no jti (Entra writes "uti" instead). The
// verifier's audience is the API's application (client) id, and the issuer
// is "https://login.microsoftonline.com/<tenant id>/v2.0": a multi-tenant
// "common" issuer is not one exact issuer and is not supported.
func Entra(clientID string) auth.Profile {
	return auth.Profile{
		Types:           []string{"JWT"},
		ScopeClaim:      "scp",
		RoleClaims:      []string{"/roles"},
		AuthorizedParty: clientID,
		OptionalID:      true,
	}
}
