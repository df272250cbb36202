// Package authstore is the contract between package auth and the stores
// that keep its state: [RefreshStore] keeps sessions and their refresh
// tokens, [RevocationStore] keeps revoked access tokens, and [Throttle]
// counts failed attempts. It imports nothing else of the library, so a
// store author reads this one page, implements the interfaces against the
// database already in use, and proves the result with the conformance suite
// in package github.com/jwtkit/auth/authtest.
//
// Every store operation that must be atomic touches one user's data only,
// and every refresh token begins with its user's routing key ([RouteFor]),
// so a store partitioned by that key (a Redis Cluster hash tag, a
// distribution column) runs each operation in one partition.
//
// The stores the library ships implement these interfaces:
// github.com/jwtkit/auth/memstore (one process, the default),
// github.com/jwtkit/auth/sqlstore (PostgreSQL and SQLite) and
// github.com/jwtkit/auth/redisstore (Redis and Redis Cluster).
package authstore
