package password

import (
	"context"
	"testing"
)

// The benchmarks use the default parameters: bcrypt cost 12, Argon2id
// m=19 MiB, t=2, p=1.

func benchHashers(b *testing.B) map[string]Hasher {
	b.Helper()
	bc, err := NewBcrypt()
	if err != nil {
		b.Fatal(err)
	}
	a, err := NewArgon2id()
	if err != nil {
		b.Fatal(err)
	}
	return map[string]Hasher{"bcrypt": bc, "argon2id": a}
}

func BenchmarkHash(b *testing.B) {
	for _, name := range []string{"bcrypt", "argon2id"} {
		h := benchHashers(b)[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := h.Hash(context.Background(), "correct horse"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, name := range []string{"bcrypt", "argon2id"} {
		h := benchHashers(b)[name]
		hash, err := h.Hash(context.Background(), "correct horse")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if ok, _, err := h.Verify(context.Background(), hash, "correct horse"); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkVerifyUnknownUser is the dummy path (nil hash): it should cost
// what BenchmarkVerify does.
func BenchmarkVerifyUnknownUser(b *testing.B) {
	for _, name := range []string{"bcrypt", "argon2id"} {
		h := benchHashers(b)[name]
		_, _, _ = h.Verify(context.Background(), nil, "warm up") // makes bcrypt's dummy hash
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if ok, _, err := h.Verify(context.Background(), nil, "correct horse"); ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
