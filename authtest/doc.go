// Package authtest checks implementations of the store contract of package
// [github.com/jwtkit/auth/authstore], one subtest per clause. It imports
// nothing of the library but authstore, so a store author needs only those
// two packages.
//
// [TestRefreshStore] runs every clause of the [authstore.RefreshStore]
// contract. To check a store backed by your own database, add one line to
// a test:
//
//	func TestStore(t *testing.T) {
//		authtest.TestRefreshStore(t, func(t *testing.T) authstore.RefreshStore { return newEmptyStore(t) })
//	}
//
// The function passed in is called once per subtest and must return an
// empty store: a fresh schema, a flushed Redis database, or a new
// [github.com/jwtkit/auth/memstore.Store]. It may register cleanup with
// [testing.T.Cleanup]. The subtests run one after another, never in
// parallel, so the function may reset one shared database each time. Select
// subtests with -run as usual, for example go test -run 'TestStore/Rotate'.
//
// What the suite assumes of a store:
//
//   - Times come back equal ([time.Time.Equal]) to what was stored, to the
//     microsecond. The suite builds every time in UTC, truncated to
//     microseconds, around the current time.
//   - Lookup returns expired records until Purge deletes them. A store
//     whose database expires keys by itself must keep them a while past
//     ExpiresAt: the suite reads records that expired a second earlier.
//   - A token is found under its own routing key ([authstore.RouteFor] of
//     its user) only, even in a store that has a single partition.
//   - A user may hold at least 10 sessions. RevokeUserManySessions signs
//     one user in 300 times and expects RevokeUser to revoke and count
//     whichever of those sessions the store kept.
//   - A session keeps at least its newest [authstore.MinKeptTokens] used
//     tokens: LongChain rotates one session 200 times, checks those, and
//     accepts older tokens either as stored or as unknown.
//   - The concurrency clauses start 50 calls at once. A store on
//     database/sql proves its atomicity only if they really overlap: let
//     the pool keep that many connections (db.SetMaxIdleConns(50)).
//
// Where the contract leaves room, the suite reads it so:
//
//   - Rotate with the zero expect requires old to be unused: a superseded
//     token (used, with no successor) cannot be rotated.
//   - A call that breaks a precondition (CreateSession with a duplicate
//     session id or token hash, or a token of another session or user;
//     Rotate with a next of another session or user, or with a hash the
//     user already has) must change nothing. CreateSession must return an
//     error; Rotate may return an error or false, but never true. The
//     duplicates are those under the user's own routing key: the suite
//     never expects a partitioned store to see another partition.
//   - RevokeSession finds a session only under its own user.
//   - RevokeUser revokes the sessions that are live at its time at.
//   - Sessions orders by CreatedAt, newest first, whatever RefreshedAt says.
//   - Purge counts a deleted session once, with its tokens; a count of every
//     deleted row is accepted too. What must hold is that a call returns
//     less than its limit only when nothing purgeable is left.
//
// The suite calls the store only through [authstore.RefreshStore]; it
// needs nothing else from it.
//
// [TestRevocationStore] and [TestThrottle] do the same for
// [authstore.RevocationStore] (the access-token denylist and per-user
// cutoff) and [authstore.Throttle] (login throttling). TestRevocationStore
// checks of Purge only what every store can show through the interface:
// that entries which still matter survive it, that it honours its limit,
// and that once a call has returned less than its limit the next one finds
// nothing. It accepts a Purge that deletes nothing, as a store whose
// database expires entries by itself may do; it never asks whether an
// entry past its bound is gone, since no verifier consults it by then.
package authtest
