package sqlstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/authtest"
	"github.com/jwtkit/auth/sqlstore"
)

// TestKeyStore runs the conformance suite of the signing-key store on
// every setup of suiteSetups.
func TestKeyStore(t *testing.T) {
	for _, tt := range suiteSetups {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			authtest.TestKeyStore(t, func(t *testing.T) authstore.KeyStore { return tt.new(t) })
		})
	}
}

// TestAddKeyStoredID checks the cases of a stored kid that the suite
// leaves out: a kid stored already is an error also when the generation is
// taken, where ON CONFLICT skips the row without checking kid; a kid
// stored under another generation, on a free generation, fails with the
// database's unique violation, wrapped. A precondition is refused before
// any query, even on missing tables.
func TestAddKeyStoredID(t *testing.T) {
	for _, tt := range stores {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.new(t)
			ctx := t.Context()
			now := time.Now().UTC().Truncate(time.Microsecond)
			k1 := authstore.KeyRecord{Generation: 1, ID: uuid.NewString(), Algorithm: "EdDSA", Sealed: []byte{0}, CreatedAt: now, ActiveAt: now}
			k2 := k1
			k2.Generation, k2.ID = 2, uuid.NewString()
			for _, k := range []authstore.KeyRecord{k1, k2} {
				if added, err := s.AddKey(ctx, k); !added || err != nil {
					t.Fatalf("AddKey(generation %d) = %v, %v; want true, nil", k.Generation, added, err)
				}
			}
			for name, rec := range map[string]authstore.KeyRecord{
				"the same key again":                      k1,
				"a taken generation, another key's id":    {Generation: 1, ID: k2.ID, Algorithm: "EdDSA", Sealed: []byte{1}, CreatedAt: now, ActiveAt: now},
				"a free generation, a stored id":          {Generation: 3, ID: k1.ID, Algorithm: "EdDSA", Sealed: []byte{1}, CreatedAt: now, ActiveAt: now},
				"a free generation, another stored id":    {Generation: 4, ID: k2.ID, Algorithm: "ES256", Sealed: []byte{1}, CreatedAt: now, ActiveAt: now},
				"a taken generation, the other stored id": {Generation: 2, ID: k1.ID, Algorithm: "ES256", Sealed: []byte{1}, CreatedAt: now, ActiveAt: now},
			} {
				added, err := s.AddKey(ctx, rec)
				if added || err == nil || !strings.HasPrefix(err.Error(), "sqlstore: add key: ") {
					t.Errorf("AddKey(%s) = %v, %v; want false, an error", name, added, err)
				}
			}
			got, err := s.Keys(ctx)
			if err != nil || len(got) != 2 || got[0].ID != k1.ID || got[1].ID != k2.ID {
				t.Errorf("Keys = %+v, %v; want the two keys added first", got, err)
			}
			if added, err := s.AddKey(ctx, authstore.KeyRecord{Generation: 2, ID: uuid.NewString(), Algorithm: "EdDSA", Sealed: []byte{1}}); added || err != nil {
				t.Errorf("AddKey(a taken generation, a new id) = %v, %v; want false, nil", added, err)
			}
		})
	}
}

// TestKeyPreconditions checks that AddKey refuses a broken precondition
// before it sends a query: on a store whose tables are missing, the error
// is the precondition's, not the driver's.
func TestKeyPreconditions(t *testing.T) {
	db := newSQLiteDB(t)
	s, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	ok := authstore.KeyRecord{Generation: 1, ID: uuid.NewString(), Algorithm: "EdDSA", Sealed: []byte{1}}
	for name, rec := range map[string]authstore.KeyRecord{
		"empty id":      {Generation: 1, Algorithm: ok.Algorithm, Sealed: ok.Sealed},
		"empty alg":     {Generation: 1, ID: ok.ID, Sealed: ok.Sealed},
		"nil sealed":    {Generation: 1, ID: ok.ID, Algorithm: ok.Algorithm},
		"empty sealed":  {Generation: 1, ID: ok.ID, Algorithm: ok.Algorithm, Sealed: []byte{}},
		"generation 0":  {ID: ok.ID, Algorithm: ok.Algorithm, Sealed: ok.Sealed},
		"generation -1": {Generation: -1, ID: ok.ID, Algorithm: ok.Algorithm, Sealed: ok.Sealed},
	} {
		added, err := s.AddKey(t.Context(), rec)
		var sqliteErr *sqlite.Error
		if added || err == nil || errors.As(err, &sqliteErr) || !strings.HasPrefix(err.Error(), "sqlstore: add key: ") {
			t.Errorf("AddKey(%s) on missing tables = %v, %v; want false, the precondition's error", name, added, err)
		}
	}
}

// TestKeysUniqueViolation checks that on PostgreSQL the kid conflict of a
// free generation is the server's unique violation, wrapped, so that
// callers can tell it from a lost race (false, nil).
func TestKeysUniqueViolation(t *testing.T) {
	s := newPostgresStore(t)
	ctx := t.Context()
	k := authstore.KeyRecord{Generation: 1, ID: uuid.NewString(), Algorithm: "EdDSA", Sealed: []byte{1}}
	if _, err := s.AddKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	k.Generation = 2
	_, err := s.AddKey(ctx, k)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" { // unique_violation
		t.Errorf("AddKey(stored id, free generation) = %v; want the unique violation, wrapped", err)
	}
}
