package auth

// Auth issues and verifies access tokens and guards HTTP handlers with them.
// Build one with [New]; it is immutable and safe for concurrent use, so one
// value serves a whole process.
type Auth struct {
	cfg     config
	headers *headerCache // headers of verified tokens, to skip decoding them again
}

// New returns an [Auth] configured by opts. It refuses, with an error
// matching [ErrConfig], a configuration without keys, with an empty issuer
// or audience, or with a value out of its documented range. Weak keys were
// already refused when they were built.
//
// Sign and verify with a local key set:
//
//	key, err := auth.NewHMACKey(auth.HS256, secret)
//	keys, err := auth.NewKeySet(key)
//	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"))
func New(opts ...Option) (*Auth, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.fillDefaults()
	if err := cfg.fillPasswords(); err != nil {
		return nil, err
	}
	return &Auth{cfg: cfg, headers: newHeaderCache()}, nil
}

// Keys returns the key set given with [WithKeys], or nil when the Auth
// verifies only. Serve it as the JWK Set: mux.Handle("GET
// /.well-known/jwks.json", a.Keys()).
func (a *Auth) Keys() *KeySet { return a.cfg.keySet }

// Issuer returns the configured issuer.
func (a *Auth) Issuer() string { return a.cfg.issuer }

// Audience returns the configured audience.
func (a *Auth) Audience() string { return a.cfg.audience }

func (a *Auth) signingKey() *Key {
	if a.cfg.keySet == nil {
		return nil
	}
	return a.cfg.keySet.SigningKey()
}
