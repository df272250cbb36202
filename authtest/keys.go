package authtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/jwtkit/auth/authstore"
)

// TestKeyStore checks that the stores newStore returns follow the
// [authstore.KeyStore] contract. It runs one subtest per clause, each on a
// fresh, empty store from newStore, one after another: an added key comes
// back as it was, byte for byte and to the microsecond; a second addition
// of a generation is refused with false and changes nothing; of 50
// concurrent additions of one generation exactly one succeeds; Keys orders
// by generation; a duplicate or empty ID, an empty algorithm or sealed key
// and a generation below 1 are errors; DeleteKeys deletes below a
// generation only; a cancelled context fails.
func TestKeyStore(t *testing.T, newStore func(t *testing.T) authstore.KeyStore) {
	for _, tt := range []struct {
		name string
		run  func(*testing.T, authstore.KeyStore)
	}{
		{"AddKeys", testAddKeys},
		{"AddTaken", testAddTakenGeneration},
		{"AddConcurrent", testAddKeyConcurrent},
		{"Order", testKeysOrder},
		{"Invalid", testAddKeyInvalid},
		{"Delete", testDeleteKeys},
		{"CancelledContext", testKeysCancelledContext},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			tt.run(t, s)
		})
	}
}

// keyRecord returns a record of generation gen with random sealed bytes
// (every byte value included) around now.
func keyRecord(gen int64) authstore.KeyRecord {
	sealed := make([]byte, 256)
	for i := range sealed {
		sealed[i] = byte(i)
	}
	_, _ = rand.Read(sealed[:64])
	now := time.Now().UTC().Truncate(time.Microsecond)
	return authstore.KeyRecord{
		Generation: gen,
		ID:         uuid.NewString(),
		Algorithm:  "EdDSA",
		Sealed:     sealed,
		CreatedAt:  now.Add(time.Duration(gen) * time.Minute).Add(123 * time.Microsecond),
		ActiveAt:   now.Add(time.Duration(gen)*time.Minute + 30*time.Second),
	}
}

func sameKeyRecord(a, b authstore.KeyRecord) bool {
	return a.Generation == b.Generation && a.ID == b.ID && a.Algorithm == b.Algorithm &&
		bytes.Equal(a.Sealed, b.Sealed) && a.CreatedAt.Equal(b.CreatedAt) && a.ActiveAt.Equal(b.ActiveAt)
}

// wantKeys checks that s holds exactly want, in order.
func wantKeys(t *testing.T, s authstore.KeyStore, want ...authstore.KeyRecord) {
	t.Helper()
	got, err := s.Keys(context.Background())
	if err != nil {
		t.Fatalf("Keys = %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Keys returned %d keys; want %d", len(got), len(want))
	}
	for i := range want {
		if !sameKeyRecord(got[i], want[i]) {
			t.Errorf("Keys[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func addKey(t *testing.T, s authstore.KeyStore, rec authstore.KeyRecord) bool {
	t.Helper()
	added, err := s.AddKey(context.Background(), rec)
	if err != nil {
		t.Fatalf("AddKey(generation %d) = %v", rec.Generation, err)
	}
	return added
}

// AddKeys: added keys come back as they were.
func testAddKeys(t *testing.T, s authstore.KeyStore) {
	wantKeys(t, s)
	k1, k2 := keyRecord(1), keyRecord(2)
	k2.Algorithm = "RS256"
	if !addKey(t, s, k1) || !addKey(t, s, k2) {
		t.Fatal("AddKey of a new generation = false; want true")
	}
	wantKeys(t, s, k1, k2)
}

// AddTaken: a generation added already is refused with false, and the
// first key stays.
func testAddTakenGeneration(t *testing.T, s authstore.KeyStore) {
	k1 := keyRecord(1)
	addKey(t, s, k1)
	again := keyRecord(1)
	if addKey(t, s, again) {
		t.Error("AddKey of a taken generation = true; want false")
	}
	wantKeys(t, s, k1)
}

// AddConcurrent: of 50 concurrent additions of one generation, exactly one
// succeeds, and its key is the one stored.
func testAddKeyConcurrent(t *testing.T, s authstore.KeyStore) {
	const n = 50
	recs := make([]authstore.KeyRecord, n)
	for i := range recs {
		recs[i] = keyRecord(1)
	}
	var wins, fails atomic.Int32
	var winner atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			added, err := s.AddKey(context.Background(), recs[i])
			switch {
			case err != nil:
				fails.Add(1)
			case added:
				wins.Add(1)
				winner.Store(int32(i))
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || fails.Load() != 0 {
		t.Fatalf("%d concurrent AddKey of one generation: %d added, %d errors; want exactly 1 added, no error", n, wins.Load(), fails.Load())
	}
	wantKeys(t, s, recs[winner.Load()])
}

// Order: Keys orders by generation, whatever the order of addition.
func testKeysOrder(t *testing.T, s authstore.KeyStore) {
	k1, k2, k3 := keyRecord(1), keyRecord(2), keyRecord(3)
	for _, k := range []authstore.KeyRecord{k3, k1, k2} {
		addKey(t, s, k)
	}
	wantKeys(t, s, k1, k2, k3)
}

// Invalid: a record that breaks a precondition is an error and stores
// nothing.
func testAddKeyInvalid(t *testing.T, s authstore.KeyStore) {
	k1 := keyRecord(1)
	addKey(t, s, k1)
	dupID := keyRecord(2)
	dupID.ID = k1.ID
	for name, rec := range map[string]authstore.KeyRecord{
		"duplicate id":  dupID,
		"empty id":      func() authstore.KeyRecord { r := keyRecord(3); r.ID = ""; return r }(),
		"empty alg":     func() authstore.KeyRecord { r := keyRecord(4); r.Algorithm = ""; return r }(),
		"empty sealed":  func() authstore.KeyRecord { r := keyRecord(5); r.Sealed = nil; return r }(),
		"generation 0":  keyRecord(0),
		"generation -1": keyRecord(-1),
	} {
		if _, err := s.AddKey(context.Background(), rec); err == nil {
			t.Errorf("AddKey(%s) = nil error; want an error", name)
		}
	}
	wantKeys(t, s, k1)
}

// Delete: DeleteKeys deletes the keys below a generation and counts them.
func testDeleteKeys(t *testing.T, s authstore.KeyStore) {
	var recs []authstore.KeyRecord
	for gen := int64(1); gen <= 4; gen++ {
		recs = append(recs, keyRecord(gen))
		addKey(t, s, recs[gen-1])
	}
	for _, tt := range []struct {
		below int64
		n     int
	}{{1, 0}, {3, 2}, {3, 0}} {
		if n, err := s.DeleteKeys(context.Background(), tt.below); err != nil || n != tt.n {
			t.Errorf("DeleteKeys(%d) = %d, %v; want %d, nil", tt.below, n, err, tt.n)
		}
	}
	wantKeys(t, s, recs[2:]...)
}

// CancelledContext: every method fails on a cancelled context.
func testKeysCancelledContext(t *testing.T, s authstore.KeyStore) {
	k1 := keyRecord(1)
	addKey(t, s, k1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.AddKey(ctx, keyRecord(2)); err == nil {
		t.Error("AddKey(cancelled) = nil error; want an error")
	}
	if _, err := s.Keys(ctx); err == nil {
		t.Error("Keys(cancelled) = nil error; want an error")
	}
	if _, err := s.DeleteKeys(ctx, 5); err == nil {
		t.Error("DeleteKeys(cancelled) = nil error; want an error")
	}
	wantKeys(t, s, k1)
}
