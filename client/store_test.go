package client

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// testTokenStore checks the clauses of the TokenStore contract on an empty
// store, one subtest per clause.
func testTokenStore(t *testing.T, newStore func(t *testing.T) TokenStore) {
	ctx := context.Background()
	t.Run("empty store loads no token", func(t *testing.T) {
		s := newStore(t)
		if got, err := s.Load(ctx); got != "" || err != nil {
			t.Errorf("Load (empty) = %q, %v; want \"\", nil", got, err)
		}
	})
	t.Run("save then load round trip", func(t *testing.T) {
		s := newStore(t)
		for _, tok := range []string{"first-token", "second-token"} {
			if err := s.Save(ctx, tok); err != nil {
				t.Fatalf("Save(%q) = %v; want nil", tok, err)
			}
			if got, err := s.Load(ctx); got != tok || err != nil {
				t.Errorf("Load after Save(%q) = %q, %v; want %q, nil", tok, got, err, tok)
			}
		}
	})
	t.Run("saving empty removes", func(t *testing.T) {
		s := newStore(t)
		if err := s.Save(ctx, "a-token"); err != nil {
			t.Fatal(err)
		}
		for range 2 { // removing what is not there is no error
			if err := s.Save(ctx, ""); err != nil {
				t.Errorf("Save(\"\") = %v; want nil", err)
			}
			if got, err := s.Load(ctx); got != "" || err != nil {
				t.Errorf("Load after Save(\"\") = %q, %v; want \"\", nil", got, err)
			}
		}
	})
	t.Run("concurrent loads see whole tokens", func(t *testing.T) {
		s := newStore(t)
		tokens := []string{"short", strings.Repeat("long", 500)}
		if err := s.Save(ctx, tokens[0]); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 100 {
				if err := s.Save(ctx, tokens[i%2]); err != nil {
					t.Errorf("Save = %v; want nil", err)
					return
				}
			}
		})
		for range 4 {
			wg.Go(func() {
				for range 100 {
					got, err := s.Load(ctx)
					if err != nil || (got != tokens[0] && got != tokens[1]) {
						t.Errorf("Load during Saves = %.20q (%d bytes), %v; want one whole token", got, len(got), err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	testTokenStore(t, func(*testing.T) TokenStore { return &MemoryStore{} })
}

func TestFileStore(t *testing.T) {
	t.Parallel()
	newFileStore := func(t *testing.T) *FileStore {
		s, err := NewFileStore(filepath.Join(t.TempDir(), "session"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	testTokenStore(t, func(t *testing.T) TokenStore { return newFileStore(t) })
	ctx := context.Background()

	t.Run("mode 0600", func(t *testing.T) {
		s := newFileStore(t)
		// A file that was readable by others before is replaced by one
		// that is not.
		if err := os.WriteFile(s.Path(), []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, "a-token"); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s = %v; want 0600", s.Path(), got)
		}
	})
	t.Run("atomic: temp file and rename", func(t *testing.T) {
		s := newFileStore(t)
		if err := s.Save(ctx, "first-token"); err != nil {
			t.Fatal(err)
		}
		before := stat(t, s.Path())
		if err := s.Save(ctx, "second-token"); err != nil {
			t.Fatal(err)
		}
		if os.SameFile(before, stat(t, s.Path())) {
			t.Errorf("Save wrote the file in place; want a new file renamed over it")
		}
		entries, err := os.ReadDir(filepath.Dir(s.Path()))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != "session" {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("directory after Save = %v; want [session], no temporary file left", names)
		}
	})
	t.Run("failed save leaves the token", func(t *testing.T) {
		s := newFileStore(t)
		if err := s.Save(ctx, "kept-token"); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, "bad token"); err == nil {
			t.Errorf("Save(%q) = nil; want an error", "bad token")
		}
		dir := filepath.Dir(s.Path())
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		if os.Geteuid() != 0 { // root writes anyway
			if err := s.Save(ctx, "new-token"); err == nil {
				t.Errorf("Save in a read-only directory = nil; want an error")
			}
		}
		if got, err := s.Load(ctx); got != "kept-token" || err != nil {
			t.Errorf("Load after failed Saves = %q, %v; want %q, nil", got, err, "kept-token")
		}
	})
	t.Run("missing directory loads no token", func(t *testing.T) {
		s, err := NewFileStore(filepath.Join(t.TempDir(), "missing", "session"))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Load(ctx); got != "" || err != nil {
			t.Errorf("Load = %q, %v; want \"\", nil", got, err)
		}
	})
	t.Run("relative path made absolute", func(t *testing.T) {
		s, err := NewFileStore("session")
		if err != nil || !filepath.IsAbs(s.Path()) {
			t.Errorf("NewFileStore(%q) = %v, %v; want an absolute path", "session", s, err)
		}
		if _, err := NewFileStore(""); err == nil {
			t.Errorf("NewFileStore(\"\") = nil error; want one")
		}
	})
}

// stat returns the file info of path.
func stat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
