package auth

// Auth issues and verifies access tokens, starts, rotates and revokes
// sessions, and guards HTTP handlers. Build one with [New]; it is immutable
// and safe for concurrent use, so one value serves a whole process.
type Auth struct {
	cfg     config
	headers *headerCache // headers of verified tokens, to skip decoding them again
	cache   *tokenCache  // tokens that verified fully; nil when off
}

// New returns an [Auth] configured by opts. It refuses, with an error
// matching [ErrConfig] that names the option, a configuration without keys
// or with keys given twice, without an issuer or audience, or with a value
// out of its documented range. Weak keys were already refused when they
// were built. What opts leave unset gets the in-memory stores of this
// process and a bcrypt hasher.
//
// Sign and verify with a local key set:
//
//	key, err := auth.NewHMACKey(auth.HS256, secret)
//	keys, err := auth.NewKeySet(key)
//	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("api"))
func New(opts ...Option) (*Auth, error) {
	cfg := defaultConfig()
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := cfg.fillDefaults(); err != nil {
		return nil, err
	}
	return &Auth{cfg: cfg, headers: newHeaderCache(), cache: newTokenCache(cfg.cacheEntries, cfg.cacheBytes)}, nil
}

func (a *Auth) signingKey() *Key {
	if a.cfg.keySet == nil {
		return nil
	}
	return a.cfg.keySet.SigningKey()
}
