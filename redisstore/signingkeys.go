package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"

	"github.com/jwtkit/auth/authstore"
)

var _ authstore.KeyStore = (*Store)(nil)

// Errors of AddKey calls that break a precondition of [authstore.KeyStore].
var (
	errBadKey      = errors.New("redisstore: key record without an id, an algorithm, a sealed key or a generation of at least 1")
	errKeyIDExists = errors.New("redisstore: key id already stored")
)

// keyEntry is the JSON value of a signing key's field in the records
// hash, whose name is the key's generation. Sealed is base64 (standard,
// padded), as encoding/json writes a []byte; the times are decimal
// microseconds since the Unix epoch, as everywhere in the store, "" for
// the zero time.
type keyEntry struct {
	ID        string `json:"kid"`
	Algorithm string `json:"alg"`
	Sealed    []byte `json:"sealed"`
	CreatedAt string `json:"created"`
	ActiveAt  string `json:"active"`
}

// encodeKey returns the value that the records hash keeps for rec.
func encodeKey(rec authstore.KeyRecord) (string, error) {
	b, err := json.Marshal(keyEntry{
		ID:        rec.ID,
		Algorithm: rec.Algorithm,
		Sealed:    rec.Sealed,
		CreatedAt: micro(rec.CreatedAt),
		ActiveAt:  micro(rec.ActiveAt),
	})
	return string(b), err
}

// parseKey decodes the field of generation gen and its value v, written by
// AddKey, into a record; it reports whether both were well-formed.
func parseKey(gen, v string) (authstore.KeyRecord, bool) {
	var e keyEntry
	g, err := strconv.ParseInt(gen, 10, 64)
	if err != nil || g < 1 || json.Unmarshal([]byte(v), &e) != nil || e.ID == "" || e.Algorithm == "" || len(e.Sealed) == 0 {
		return authstore.KeyRecord{}, false
	}
	rec := authstore.KeyRecord{Generation: g, ID: e.ID, Algorithm: e.Algorithm, Sealed: e.Sealed}
	if !parseTimes(timeField{e.CreatedAt, &rec.CreatedAt}, timeField{e.ActiveAt, &rec.ActiveAt}) {
		return authstore.KeyRecord{}, false
	}
	return rec, true
}

// AddKey stores the signing key rec with one script, as
// [authstore.KeyStore] requires: HSETNX of its record under its generation
// in the records hash, and its kid in the kids hash, both in the slot of
// the hash tag {keys}. It returns false with a nil error, storing nothing,
// when the generation is taken; of concurrent calls for one generation,
// Redis runs the scripts one after another, so only the first stores its
// key. It returns an error, and stores nothing, when rec.ID, rec.Algorithm
// or rec.Sealed is empty or rec.Generation is below 1 (checked before
// anything is sent to Redis), and when a key of rec.ID is stored already,
// whether or not its generation is taken. Neither hash expires: keys stay
// until [Store.DeleteKeys] deletes them. The times are kept to the
// microsecond, and Sealed byte for byte.
func (s *Store) AddKey(ctx context.Context, rec authstore.KeyRecord) (bool, error) {
	const op = "add key"
	if err := ctx.Err(); err != nil {
		return false, wrap(op, err)
	}
	if rec.ID == "" || rec.Algorithm == "" || len(rec.Sealed) == 0 || rec.Generation < 1 {
		return false, errBadKey
	}
	v, err := encodeKey(rec)
	if err != nil {
		return false, wrap(op, err)
	}
	records, ids := s.cfg.signingKeys()
	code, err := addKeyScript.Run(ctx, s.rdb, []string{records, ids},
		strconv.FormatInt(rec.Generation, 10), rec.ID, v).Int64()
	if err != nil {
		return false, wrap(op, err)
	}
	switch code {
	case 0:
		return false, nil
	case 1:
		return true, nil
	case 2:
		return false, errKeyIDExists
	}
	return false, wrap(op, errReply)
}

// Keys returns every stored signing key, lowest Generation first, as
// [authstore.KeyStore] requires: one HGETALL of the records hash, sorted
// in Go. Times come back in UTC.
func (s *Store) Keys(ctx context.Context) ([]authstore.KeyRecord, error) {
	const op = "keys"
	if err := ctx.Err(); err != nil {
		return nil, wrap(op, err)
	}
	records, _ := s.cfg.signingKeys()
	all, err := s.rdb.HGetAll(ctx, records).Result()
	if err != nil {
		return nil, wrap(op, err)
	}
	if len(all) == 0 {
		return nil, nil
	}
	out := make([]authstore.KeyRecord, 0, len(all))
	for gen, v := range all {
		rec, ok := parseKey(gen, v)
		if !ok {
			return nil, wrap(op, errReply)
		}
		out = append(out, rec)
	}
	slices.SortFunc(out, func(a, b authstore.KeyRecord) int { return cmp.Compare(a.Generation, b.Generation) })
	return out, nil
}

// DeleteKeys deletes every signing key whose Generation is below
// generation, its record and its kid, with one script in the slot of the
// hash tag {keys}, and returns how many it deleted, as [authstore.KeyStore]
// requires.
func (s *Store) DeleteKeys(ctx context.Context, generation int64) (int, error) {
	const op = "delete keys"
	if err := ctx.Err(); err != nil {
		return 0, wrap(op, err)
	}
	records, ids := s.cfg.signingKeys()
	n, err := deleteKeysScript.Run(ctx, s.rdb, []string{records, ids}, strconv.FormatInt(generation, 10)).Int64()
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(n), nil
}
