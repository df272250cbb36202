package main

import (
	"testing"

	"github.com/jwtkit/auth/examples/internal/starter"
)

// TestStarter does what a user who starts a service from this example
// does: it copies main.go into a directory of its own outside the
// repository, writes a go.mod that requires github.com/jwtkit/auth
// (replaced by this checkout), runs go mod tidy and go build offline, runs
// the program on a free port and registers a user over HTTP.
func TestStarter(t *testing.T) {
	starter.SkipShort(t)
	t.Parallel()
	root := starter.Root(t)
	bin := starter.Build(t, ".", starter.Local(root, starter.RootModule, "."))
	base := starter.Start(t, bin, "basic")
	starter.CheckRegister(t, base)
}
