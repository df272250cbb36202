package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jwtkit/auth/password"
)

// maxPasswordLine bounds the line hash-password reads: far more than the
// 72 bytes a password may have, so that a longer one is refused by
// password.Check with its reason rather than cut.
const maxPasswordLine = 4 << 10

const hashPasswordAbout = `Hash-password reads one password from stdin, the first line without its
line ending ("\n" or "\r\n"), and prints its hash by the library's
default policy: bcrypt at cost 12, what auth.New hashes with when
auth.WithPasswords is not given. A password that password.Check refuses
(it must be 8 to 72 bytes of UTF-8 without NUL) is an error. The password
is never printed, and never taken from the command line, where other
users and the shell history could see it. The terminal echoes what is
typed: pipe the password in.`

// hashPassword is the hash-password command.
func (e *env) hashPassword(args []string) int {
	c := e.newCmd("hash-password", "jwtkit hash-password < PASSWORD", hashPasswordAbout)
	if code, done := c.parse(args); done {
		return code
	}
	if c.flags.NArg() > 0 {
		return c.usageError("the password is read from stdin, never from the command line")
	}
	pw, err := readPassword(c.stdin)
	if err != nil {
		return c.fail(err)
	}
	if err := password.Check(pw); err != nil {
		return c.fail(err)
	}
	h, err := c.hasher()
	if err != nil {
		return c.fail(err)
	}
	hash, err := h.Hash(context.Background(), pw)
	if err != nil {
		return c.fail(err)
	}
	if _, err := fmt.Fprintf(c.stdout, "%s\n", hash); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// errNoPassword is the error of an empty stdin.
var errNoPassword = errors.New("no password on stdin")

// readPassword returns the first line of r without its line ending. It
// reads at most maxPasswordLine bytes and nothing past the first newline's
// buffer.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordLine)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	if line == "" {
		return "", errNoPassword
	}
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	return line, nil
}
