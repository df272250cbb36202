package refserver

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/jwtkit/auth/account"
)

// logMailer is the server's [account.Mailer]: it sends nothing, and logs
// that a message was sent, with its recipient and subject and never its
// link (links carry tokens). A real service puts its mail relay here.
type logMailer struct {
	logger *slog.Logger
	box    *devMailbox // nil unless AUTH_DEV_MAILBOX=true
}

func (m *logMailer) Send(ctx context.Context, msg account.Message) error {
	m.logger.InfoContext(ctx, "mail sent", "to", msg.To, "subject", msg.Subject)
	if m.box != nil {
		m.box.add(msg)
	}
	return nil
}

// devMailboxSize is how many messages the development mailbox keeps.
const devMailboxSize = 200

// devMailbox keeps the last messages, for GET /api/dev/mailbox
// (AUTH_DEV_MAILBOX=true only).
type devMailbox struct {
	mu   sync.Mutex // guards msgs
	msgs []account.Message
}

func (b *devMailbox) add(msg account.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.msgs) == devMailboxSize {
		b.msgs = append(b.msgs[:0], b.msgs[1:]...)
	}
	b.msgs = append(b.msgs, msg)
}

// mailboxEntry is one message as GET /api/dev/mailbox shows it.
type mailboxEntry struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Link    string `json:"link"`
	Token   string `json:"token"`
}

// ServeHTTP answers GET /api/dev/mailbox?to=EMAIL: the messages to EMAIL,
// newest first (every message without to).
func (b *devMailbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	to := NormalizeEmail(r.URL.Query().Get("to"))
	b.mu.Lock()
	out := []mailboxEntry{}
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if m := b.msgs[i]; to == "" || NormalizeEmail(m.To) == to {
			out = append(out, mailboxEntry{m.To, m.Subject, m.Link, m.Token})
		}
	}
	b.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}
