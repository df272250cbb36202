package main

import (
	"strings"
	"testing"
)

func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"-help"}, {"--help"}} {
		t.Run(strings.Join(append([]string{"jwtkit"}, args...), " "), func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, "", args...)
			r.wantCode(t, exitOK)
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
			for _, c := range append(commands, command{name: "help"}) {
				if !strings.Contains(r.stdout, "\t"+c.name+" ") {
					t.Errorf("help does not list %s:\n%s", c.name, r.stdout)
				}
			}
		})
	}
}

func TestCommandSummaries(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range commands {
		if c.summary == "" || strings.Contains(c.summary, "\n") {
			t.Errorf("%s: summary %q is not one line", c.name, c.summary)
		}
		if seen[c.name] {
			t.Errorf("%s listed twice", c.name)
		}
		seen[c.name] = true
	}
	for _, name := range []string{"keygen", "jwks", "inspect", "verify", "hash-password"} {
		if !seen[name] {
			t.Errorf("no command %s", name)
		}
	}
}

func TestHelpOfEachCommand(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		for _, args := range [][]string{{"help", c.name}, {c.name, "-h"}, {c.name, "--help"}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				r := runCmd(t, "", args...)
				r.wantCode(t, exitOK)
				if !strings.HasPrefix(r.stdout, "usage: jwtkit "+c.name) {
					t.Errorf("stdout does not start with the usage of %s:\n%s", c.name, r.stdout)
				}
				if r.stderr != "" {
					t.Errorf("stderr: %s", r.stderr)
				}
			})
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"--bogus"}, `unknown command "--bogus"`},
		{[]string{"help", "bogus"}, `unknown command "bogus"`},
		{[]string{"help", "keygen", "jwks"}, "too many arguments"},
		{[]string{"keygen", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"jwks", "-nope", "x.pem"}, "flag provided but not defined: -nope"},
		{[]string{"inspect", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"verify", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"hash-password", "-nope"}, "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, "", tt.args...)
			r.wantCode(t, exitUsage)
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "usage:") && !strings.Contains(r.stderr, "Usage:") {
				t.Errorf("stderr lacks %q and the usage:\n%s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}

func TestUnknownCommandListsCommands(t *testing.T) {
	t.Parallel()
	r := runCmd(t, "", "bogus")
	r.wantCode(t, exitUsage)
	for _, c := range commands {
		if !strings.Contains(r.stderr, c.name) {
			t.Errorf("usage on stderr does not list %s:\n%s", c.name, r.stderr)
		}
	}
}
