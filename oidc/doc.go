// Package oidc verifies the access tokens of an OpenID Connect provider
// that an organisation already runs (Keycloak, Auth0, Microsoft Entra ID or
// another), with the same middleware and the same claims as the library's
// own tokens.
//
// [Discover] reads the provider's discovery document from its issuer URL,
// checks that the document names exactly that issuer, and returns a
// [Provider] whose keys come from the document's jwks_uri through a
// [jwks.RemoteKeySet]. A profile ([auth.Profile]) says how the provider
// shapes its tokens: [Keycloak], [Auth0] and [Entra] give the profiles of
// those three, from their public documentation; any other provider gets a
// Profile of its own.
//
//	p, err := oidc.Discover(ctx, "https://id.example.com/realms/shop")
//	if err != nil { ... }
//	if err := p.Keys.Start(ctx); err != nil { ... }
//	a, err := auth.New(p.Options("shop-api", oidc.Keycloak("shop-web"))...)
//	if err != nil { ... }
//	mux.Handle("GET /orders", a.RequireRole("clerk")(orders))
//
// A profile relaxes only what it names (the typ, where scopes and roles
// are, a missing jti) and adds a check of the client the token was issued
// to (azp). It is per verifier and off by default: an [auth.Auth] without
// one accepts only tokens shaped as the library issues them, and a verifier
// configured for one provider refuses the tokens of another, which have
// another issuer, audience, keys or client.
package oidc
