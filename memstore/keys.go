package memstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/jwtkit/auth/authstore"
)

// Keys is the in-memory [authstore.KeyStore]: the signing keys of one
// process, for tests and for a single instance that wants automatic
// rotation without a database. The zero value is an empty store, ready to
// use.
type Keys struct {
	mu   sync.Mutex // guards recs
	recs []authstore.KeyRecord
}

var (
	errBadKey    = errors.New("memstore: key record without an id, an algorithm, a sealed key or a generation of at least 1")
	errDuplicate = errors.New("memstore: key id already stored")
)

// AddKey implements [authstore.KeyStore].
func (k *Keys) AddKey(ctx context.Context, rec authstore.KeyRecord) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if rec.ID == "" || rec.Algorithm == "" || len(rec.Sealed) == 0 || rec.Generation < 1 {
		return false, errBadKey
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, r := range k.recs {
		if r.ID == rec.ID {
			return false, errDuplicate
		}
		if r.Generation == rec.Generation {
			return false, nil
		}
	}
	rec.Sealed = bytes.Clone(rec.Sealed)
	k.recs = append(k.recs, rec)
	slices.SortFunc(k.recs, func(a, b authstore.KeyRecord) int { return cmp.Compare(a.Generation, b.Generation) })
	return true, nil
}

// Keys implements [authstore.KeyStore].
func (k *Keys) Keys(ctx context.Context) ([]authstore.KeyRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]authstore.KeyRecord, len(k.recs))
	for i, r := range k.recs {
		r.Sealed = bytes.Clone(r.Sealed)
		out[i] = r
	}
	return out, nil
}

// DeleteKeys implements [authstore.KeyStore].
func (k *Keys) DeleteKeys(ctx context.Context, generation int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(k.recs)
	k.recs = slices.DeleteFunc(k.recs, func(r authstore.KeyRecord) bool { return r.Generation < generation })
	return n - len(k.recs), nil
}

var _ authstore.KeyStore = (*Keys)(nil)
