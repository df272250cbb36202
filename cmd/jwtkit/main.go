package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jwtkit/auth/password"
)

// Exit codes.
const (
	// exitOK: the command did what it was asked.
	exitOK = 0
	// exitFail: the command ran and failed (a token that does not verify,
	// a password that breaks the rules, a file that exists).
	exitFail = 1
	// exitUsage: the command line cannot be run (an unknown command or
	// flag, a missing flag or argument).
	exitUsage = 2
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run runs the command line args (without the program name) and returns
// the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, hasher: defaultHasher}
	return e.run(args)
}

// env is what a command reads and writes, and the password policy that
// hash-password hashes by.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// hasher returns the policy of hash-password: [defaultHasher], except
	// in tests, which pass a cheaper bcrypt cost.
	hasher func() (password.Hasher, error)
}

// defaultHasher returns the library's default password policy, the one
// auth.New uses without auth.WithPasswords: bcrypt at cost 12.
func defaultHasher() (password.Hasher, error) { return password.NewBcrypt() }

// command is one subcommand of jwtkit.
type command struct {
	name    string
	summary string // one line, for the command list
	run     func(e *env, args []string) int
}

// commands are the subcommands, in the order help lists them. help itself
// is dispatched by [env.run], which reads this list.
var commands = []command{
	{"keygen", "generate a private key (PKCS#8 PEM) for EdDSA, ES256 or RS256", (*env).keygen},
	{"jwks", "print the JWK Set of the public keys of PEM key files", (*env).jwks},
	{"inspect", "decode a token's header and claims WITHOUT verifying it", (*env).inspect},
	{"verify", "verify a token against a JWK Set, an issuer and an audience", (*env).verify},
	{"hash-password", "hash a password read from stdin by the default policy (bcrypt, cost 12)", (*env).hashPassword},
}

// run dispatches args to its command.
func (e *env) run(args []string) int {
	if len(args) == 0 {
		e.usage(e.stdout)
		return exitOK
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		return e.help(rest)
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(e, rest)
		}
	}
	fmt.Fprintf(e.stderr, "jwtkit: unknown command %q\n\n", name)
	e.usage(e.stderr)
	return exitUsage
}

// help prints the command list, or with one argument that command's usage.
func (e *env) help(args []string) int {
	switch {
	case len(args) == 0:
		e.usage(e.stdout)
		return exitOK
	case len(args) == 1:
		for _, c := range commands {
			if c.name == args[0] {
				return c.run(e, []string{"-h"})
			}
		}
		fmt.Fprintf(e.stderr, "jwtkit help: unknown command %q\n\n", args[0])
	default:
		fmt.Fprintf(e.stderr, "jwtkit help: too many arguments\n\n")
	}
	e.usage(e.stderr)
	return exitUsage
}

// usage writes the command list to w.
func (e *env) usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("jwtkit manages the keys, tokens and password hashes of github.com/jwtkit/auth.\n\n")
	b.WriteString("Usage:\n\n\tjwtkit COMMAND [flags] [arguments]\n\nCommands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "\t%-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "\t%-14s %s\n", "help", "list the commands, or show one: jwtkit help COMMAND")
	b.WriteString("\nExit status: 0 on success, 1 when the command fails, 2 for a usage error.\n")
	io.WriteString(w, b.String())
}

// cmd is one run of a command: its name, its synopsis and its flags.
type cmd struct {
	*env
	name     string
	synopsis string // the usage line, "jwtkit NAME ..."
	about    string // what the command does, a few lines
	flags    *flag.FlagSet
}

// newCmd returns the run of command name. Its flag set prints nothing:
// [cmd.parse] reports errors and help itself.
func (e *env) newCmd(name, synopsis, about string) *cmd {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmd{env: e, name: name, synopsis: synopsis, about: about, flags: fs}
}

// parse parses args into the flags. done reports that the command must end
// now with code: exitOK after -h (the usage went to stdout), exitUsage
// after a bad flag (the error and the usage went to stderr).
func (c *cmd) parse(args []string) (code int, done bool) {
	err := c.flags.Parse(args)
	switch {
	case err == nil:
		return exitOK, false
	case errors.Is(err, flag.ErrHelp):
		c.usage(c.stdout)
		return exitOK, true
	default:
		return c.usageError("%v", err), true
	}
}

// usage writes the command's synopsis, description and flags to w.
func (c *cmd) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", c.synopsis, c.about)
	var n int
	c.flags.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		c.flags.SetOutput(w)
		c.flags.PrintDefaults()
		c.flags.SetOutput(io.Discard)
	}
}

// usageError reports a command line that cannot be run, with the
// command's synopsis, and returns exitUsage.
func (c *cmd) usageError(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "jwtkit %s: %s\nusage: %s\nRun 'jwtkit help %s' for details.\n",
		c.name, fmt.Sprintf(format, args...), c.synopsis, c.name)
	return exitUsage
}

// fail reports err and returns exitFail.
func (c *cmd) fail(err error) int {
	fmt.Fprintf(c.stderr, "jwtkit %s: %v\n", c.name, err)
	return exitFail
}

// isSet reports whether the flag name was given on the command line.
func (c *cmd) isSet(name string) bool {
	set := false
	c.flags.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// readLimited reads r to its end, refusing more than limit bytes; what
// names the input in the error.
func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s exceeds %d bytes", what, limit)
	}
	return b, nil
}

// readFileLimited reads the file at path, refusing more than limit bytes.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, limit, path)
}
