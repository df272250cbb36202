package refserver

import (
	"context"
	"errors"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
)

// User is an account as the API shows it. It never holds the password hash.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	// EmailVerified is true once the user followed a verification link.
	EmailVerified bool `json:"emailVerified"`
}

// Claims returns the access token claims of u.
func (u User) Claims() auth.Claims {
	return auth.Claims{Subject: u.ID, Role: u.Role, Email: u.Email}
}

// ErrEmailTaken is returned by [UserStore.Create] for an email in use.
var ErrEmailTaken = errors.New("email taken")

// UserStore keeps the accounts. Emails arrive normalised ([NormalizeEmail]).
// Errors other than the documented ones are system failures: the server
// answers 503 for them.
type UserStore interface {
	// Credentials, SetPasswordHash (of auth.CredentialStore),
	// CredentialsByID and SetEmailVerified serve login and the account
	// flows.
	account.Users
	// Create stores u with the password hash, or returns ErrEmailTaken.
	Create(ctx context.Context, u User, hash []byte) error
	// Get returns the user id; found is false when there is none.
	Get(ctx context.Context, id string) (u User, found bool, err error)
	// Delete deletes the user id; found is false when there was none.
	Delete(ctx context.Context, id string) (found bool, err error)
	// LoadClaims is the [auth.ClaimsLoader]: [auth.ErrUserNotFound] once
	// the user is gone.
	LoadClaims(ctx context.Context, id string) (auth.Claims, error)
}

// NormalizeEmail is the one form in which emails are stored and looked up:
// trimmed, in Unicode normalization form KC, then lower-cased, the form in
// which the library throttles logins per account, so that no spelling of an
// address gets a budget of its own.
func NormalizeEmail(email string) string {
	return strings.ToLower(norm.NFKC.String(strings.TrimSpace(email)))
}

// MemoryUsers is the in-memory [UserStore].
type MemoryUsers struct {
	mu      sync.RWMutex // guards byEmail and byID
	byEmail map[string]*memUser
	byID    map[string]*memUser
}

type memUser struct {
	User
	hash []byte
}

// NewMemoryUsers returns an empty store.
func NewMemoryUsers() *MemoryUsers {
	return &MemoryUsers{byEmail: map[string]*memUser{}, byID: map[string]*memUser{}}
}

// Create implements [UserStore].
func (m *MemoryUsers) Create(_ context.Context, u User, hash []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byEmail[u.Email]; ok {
		return ErrEmailTaken
	}
	x := &memUser{User: u, hash: hash}
	m.byEmail[u.Email], m.byID[u.ID] = x, x
	return nil
}

// Get implements [UserStore].
func (m *MemoryUsers) Get(_ context.Context, id string) (User, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	x, ok := m.byID[id]
	if !ok {
		return User{}, false, nil
	}
	return x.User, true, nil
}

// Delete implements [UserStore].
func (m *MemoryUsers) Delete(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	x, ok := m.byID[id]
	if ok {
		delete(m.byID, id)
		delete(m.byEmail, x.Email)
	}
	return ok, nil
}

// Credentials implements [auth.CredentialStore].
func (m *MemoryUsers) Credentials(_ context.Context, login string) (auth.Credentials, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return credentialsOf(m.byEmail[NormalizeEmail(login)])
}

// CredentialsByID implements [account.Users].
func (m *MemoryUsers) CredentialsByID(_ context.Context, userID string) (auth.Credentials, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return credentialsOf(m.byID[userID])
}

// credentialsOf returns the credentials of x, or auth.ErrUserNotFound for
// a nil x.
func credentialsOf(x *memUser) (auth.Credentials, error) {
	if x == nil {
		return auth.Credentials{}, auth.ErrUserNotFound
	}
	return auth.Credentials{UserID: x.ID, Hash: x.hash, Claims: x.Claims()}, nil
}

// SetEmailVerified implements [account.Users].
func (m *MemoryUsers) SetEmailVerified(_ context.Context, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	x, ok := m.byID[userID]
	if !ok {
		return auth.ErrUserNotFound
	}
	x.EmailVerified = true
	return nil
}

// SetPasswordHash implements [auth.CredentialStore].
func (m *MemoryUsers) SetPasswordHash(_ context.Context, userID string, hash []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	x, ok := m.byID[userID]
	if !ok {
		return auth.ErrUserNotFound
	}
	x.hash = hash
	return nil
}

// LoadClaims implements [UserStore]: a role change or a deleted account
// takes effect at the next refresh.
func (m *MemoryUsers) LoadClaims(_ context.Context, id string) (auth.Claims, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	x, ok := m.byID[id]
	if !ok {
		return auth.Claims{}, auth.ErrUserNotFound
	}
	return x.Claims(), nil
}
