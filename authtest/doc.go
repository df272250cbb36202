// Package authtest checks implementations of the interfaces of package
// [github.com/jwtkit/auth] against their contracts.
//
// [TestRefreshStore] runs every clause of the [auth.RefreshStore] contract,
// one subtest per clause. To check a store backed by your own database, add
// one line to a test:
//
//	func TestStore(t *testing.T) {
//		authtest.TestRefreshStore(t, func(t *testing.T) auth.RefreshStore { return newEmptyStore(t) })
//	}
//
// The function passed in is called once per subtest and must return an
// empty store: a fresh schema, a flushed Redis database, or a new
// [auth.MemoryStore]. It may register cleanup with [testing.T.Cleanup]. The
// subtests run one after another, never in parallel, so the function may
// reset one shared database each time. Select subtests with -run as usual,
// for example go test -run 'TestStore/Rotate'.
//
// What the suite assumes of a store:
//
//   - Times come back equal ([time.Time.Equal]) to what was stored, to the
//     microsecond. The suite builds every time in UTC, truncated to
//     microseconds, around the current time.
//   - Lookup returns expired records until Purge deletes them. A store
//     whose database expires keys by itself must keep them a while past
//     ExpiresAt: the suite reads records that expired a second earlier.
//   - A token is found under its own routing key ([auth.RouteFor] of its
//     user) only, even in a store that has a single partition.
//   - A user may hold at least 10 families.
//   - The concurrency clauses start 50 calls at once. A store on
//     database/sql proves its atomicity only if they really overlap: let
//     the pool keep that many connections (db.SetMaxIdleConns(50)).
//
// Where the contract leaves room, the suite reads it so:
//
//   - Rotate with the zero expect requires old to be unused: a superseded
//     token (used, with no successor) cannot be rotated.
//   - RevokeFamily finds a family only under its own user.
//   - RevokeUser revokes the families that are live at its time at.
//   - Families orders by CreatedAt, newest first, whatever RefreshedAt says.
//   - Purge counts a deleted family once, with its tokens; a count of every
//     deleted row is accepted too. What must hold is that a call returns
//     less than its limit only when nothing purgeable is left.
//
// The suite calls the store only through [auth.RefreshStore]; it needs
// nothing else from it.
//
// [TestRevocationStore] and [TestThrottle] do the same for
// [auth.RevocationStore] (the access-token denylist and per-user cutoff) and
// [auth.Throttle] (login throttling).
package authtest
