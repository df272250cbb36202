package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// TokenStore keeps the refresh token of a client's session between runs.
// The client loads it when it needs a refresh token it does not hold,
// saves the new one after every sign-in and every rotation, and saves ""
// when the session ends. Implementations must be safe for concurrent use.
type TokenStore interface {
	// Load returns the stored refresh token. When none is stored it
	// returns "" and a nil error: a missing token is not a failure. An
	// error means the store could not be read; the client then changes
	// nothing and reports it.
	Load(ctx context.Context) (string, error)
	// Save replaces the stored refresh token with token, so that a later
	// Load returns it; "" removes it (removing what is not there is no
	// error). A Save that fails leaves the stored token as it was: a
	// concurrent or later Load sees the old token or the new one, never a
	// part of either.
	Save(ctx context.Context, token string) error
}

// MemoryStore is a [TokenStore] in the process's memory, the default of
// [New]; two clients given the same MemoryStore share its session. The
// zero value is an empty store, ready to use.
type MemoryStore struct {
	mu    sync.Mutex // guards token
	token string
}

// Load implements [TokenStore].
func (m *MemoryStore) Load(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.token, nil
}

// Save implements [TokenStore].
func (m *MemoryStore) Save(_ context.Context, token string) error {
	m.mu.Lock()
	m.token = token
	m.mu.Unlock()
	return nil
}

// FileStore is a [TokenStore] in one file that holds the refresh token and
// nothing else, readable and writable by its owner only (mode 0600). A
// missing file holds no token. Save writes a temporary file in the same
// directory, syncs it and renames it over the file, so the file always
// holds a whole token; saving "" removes the file. The directory must
// exist and should be the user's own.
type FileStore struct {
	path string
}

// NewFileStore returns the store in the file path, made absolute so that
// a later change of working directory does not move it. The file need not
// exist.
func NewFileStore(path string) (*FileStore, error) {
	if path == "" {
		return nil, errors.New("client: NewFileStore: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("client: NewFileStore: %w", err)
	}
	return &FileStore{path: abs}, nil
}

// Path returns the absolute path of the file.
func (s *FileStore) Path() string { return s.path }

// Load implements [TokenStore].
func (s *FileStore) Load(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("client: loading the refresh token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Save implements [TokenStore].
func (s *FileStore) Save(ctx context.Context, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if token == "" {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("client: removing the refresh token: %w", err)
		}
		return nil
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return errors.New("client: saving the refresh token: it holds white space")
	}
	if err := s.write(token); err != nil {
		return fmt.Errorf("client: saving the refresh token: %w", err)
	}
	return nil
}

// write puts token in a new temporary file next to the file (os.CreateTemp
// makes it with mode 0600), syncs it and renames it over the file.
func (s *FileStore) write(token string) (err error) {
	dir, name := filepath.Split(s.path)
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.WriteString(token + "\n"); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Rename(tmp, s.path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable where the system allows it; a
// system that cannot sync a directory (Windows) loses nothing but that.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
