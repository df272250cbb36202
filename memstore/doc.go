// Package memstore holds the in-memory stores of package auth, its
// defaults: [Store] is an authstore.RefreshStore, an
// authstore.RevocationStore and an authstore.OneTimeStore, [Keys] an
// authstore.KeyStore, and [Throttle] an authstore.Throttle. They
// serve one process only: every session is lost at a restart, and instances
// behind a load balancer need a shared store (modules sqlstore and
// redisstore). Memory stays bounded without help: see [Store] and
// [Throttle] for the caps.
//
//	store, err := memstore.New(memstore.WithMaxSessionsPerUser(20))
//	if err != nil { ... }
//	a, err := auth.New(..., auth.WithRefreshStore(store), auth.WithRevocation(store))
//
// The constructors refuse an option out of its range with an error; no
// value is silently replaced by a default.
package memstore
