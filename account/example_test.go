package account_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/account"
	"github.com/jwtkit/auth/password"
)

// exampleAuth returns the Auth of the examples and its password policy.
// The application's user store is the tests' in-memory one (newUsers).
func exampleAuth() (*auth.Auth, password.Hasher) {
	key, err := auth.NewHMACKey(auth.HS256, []byte("an example secret of 32+ bytes!!"))
	if err != nil {
		panic(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		panic(err)
	}
	policy, err := password.NewBcrypt(password.WithCost(password.MinCost))
	if err != nil {
		panic(err)
	}
	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer("https://id.example.com"), auth.WithAudience("example-api"), auth.WithPasswords(policy))
	if err != nil {
		panic(err)
	}
	return a, policy
}

func ExampleNew() {
	ctx := context.Background()
	a, policy := exampleAuth()
	users := newUsers()
	users.add("u-1", "ada@example.com", nil)

	// The mailer would queue the message for a mail relay.
	mailer := account.MailerFunc(func(_ context.Context, msg account.Message) error {
		fmt.Println("to:", msg.To)
		fmt.Println("subject:", msg.Subject)
		fmt.Println("link has the token:", msg.Link == "https://app.example.com/reset-password?token="+msg.Token)
		return nil
	})

	_, err := account.New(a, users, account.WithMailer(mailer))
	fmt.Println("without WithPasswords and WithLinks:", errors.Is(err, auth.ErrConfig))

	m, err := account.New(a, users,
		account.WithMailer(mailer),
		account.WithPasswords(policy),
		account.WithLinks("https://app.example.com/reset-password", "https://app.example.com/verify-email"))
	if err != nil {
		panic(err)
	}
	fmt.Println("known address:", m.Forgot(ctx, "ada@example.com", auth.Client{}))
	fmt.Println("unknown address:", m.Forgot(ctx, "nobody@example.com", auth.Client{}))
	// Output:
	// without WithPasswords and WithLinks: true
	// to: ada@example.com
	// subject: Password reset
	// link has the token: true
	// known address: <nil>
	// unknown address: <nil>
}

func ExampleManager_Reset() {
	ctx := context.Background()
	a, policy := exampleAuth()
	users := newUsers()
	users.add("u-1", "ada@example.com", nil)

	var token string // what the user's mail would carry
	mailer := account.MailerFunc(func(_ context.Context, msg account.Message) error {
		token = msg.Token
		return nil
	})
	m, err := account.New(a, users, account.WithMailer(mailer), account.WithPasswords(policy),
		account.WithLinks("https://app.example.com/reset-password", "https://app.example.com/verify-email"))
	if err != nil {
		panic(err)
	}
	if err := m.Forgot(ctx, "ada@example.com", auth.Client{}); err != nil {
		panic(err)
	}

	_, err = m.Reset(ctx, token, "short")
	fmt.Println("short password:", errors.Is(err, auth.ErrInvalidInput))

	userID, err := m.Reset(ctx, token, "a long new passphrase")
	fmt.Println("reset:", userID, err)

	_, err = m.Reset(ctx, token, "another new passphrase")
	fmt.Println("again:", errors.Is(err, account.ErrInvalidResetToken), auth.ErrorStatus(err), auth.ErrorCode(err))
	// Output:
	// short password: true
	// reset: u-1 <nil>
	// again: true 400 INVALID_RESET_TOKEN
}

func ExampleManager_VerifyEmail() {
	ctx := context.Background()
	a, policy := exampleAuth()
	users := newUsers()
	users.add("u-1", "ada@example.com", nil)

	var link string
	mailer := account.MailerFunc(func(_ context.Context, msg account.Message) error {
		link = msg.Link
		return nil
	})
	m, err := account.New(a, users, account.WithMailer(mailer), account.WithPasswords(policy),
		account.WithLinks("https://app.example.com/reset-password", "https://app.example.com/verify-email"))
	if err != nil {
		panic(err)
	}
	// After a registration:
	if err := m.SendVerification(ctx, "u-1", "ada@example.com"); err != nil {
		panic(err)
	}
	fmt.Println(strings.SplitN(link, "?", 2)[0])

	// The verification page posts the token of its link.
	token := strings.TrimPrefix(link, "https://app.example.com/verify-email?token=")
	userID, err := m.VerifyEmail(ctx, token)
	fmt.Println("verified:", userID, err, users.verified("u-1"))

	_, err = m.VerifyEmail(ctx, token)
	fmt.Println("again:", auth.ErrorCode(err))
	// Output:
	// https://app.example.com/verify-email
	// verified: u-1 <nil> true
	// again: INVALID_VERIFY_TOKEN
}
