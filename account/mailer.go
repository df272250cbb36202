package account

import "context"

// Purposes of the links a [Manager] sends, as [Message.Purpose] and as the
// purpose of their authstore.OneTimeToken records.
const (
	PurposeReset  = "password_reset"
	PurposeVerify = "email_verify"
)

// Message is one e-mail for the application's [Mailer] to send.
type Message struct {
	// To is the recipient's address.
	To string
	// Purpose is [PurposeReset] or [PurposeVerify].
	Purpose string
	// Subject and Text are a plain subject and body in English, with the
	// link in the body; a mailer may write its own from Purpose and Link.
	Subject, Text string
	// Link is the URL to follow: the configured page ([WithLinks]) with
	// the token as its "token" query parameter.
	Link string
	// Token is the bare token, for a mailer that builds a link of its own
	// (a mobile app's, say). Like Link, it is a credential until used:
	// never log either.
	Token string
}

// Mailer sends messages. Send should return quickly (hand the message to a
// queue or a mail relay): [Manager.Forgot] waits for it, and pads the
// answer to an unknown address to the time Send usually takes. An error
// is logged; the client's answer does not change, so that it reveals
// nothing about the address. Send must be safe for concurrent use, and
// must never log Link or Token.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// MailerFunc adapts a function to [Mailer].
type MailerFunc func(ctx context.Context, m Message) error

// Send calls f(ctx, m).
func (f MailerFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }
