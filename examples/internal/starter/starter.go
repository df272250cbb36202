// Package starter checks that an example program works as the start of a
// service of one's own: its tests copy the program's files out of the
// repository, into a module of their own, build it with the go command as a
// user would, run it, and talk to it over HTTP.
//
// The go command runs offline (GOPROXY=off, GOSUMDB=off): every module the
// copy's build needs is in the module cache already, because building the
// repository fetched it. go mod tidy runs with -e, since it also looks for
// the modules that the tests of dependencies import, which no build of the
// repository fetched; go build then shows that everything the program
// needs was resolved.
package starter

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth/internal/testenv"
)

// RootModule is the module path of the library.
const RootModule = "github.com/jwtkit/auth"

// Deadlines of the steps; generous, so that only a step that hangs fails,
// never a slow machine.
const (
	goLimit    = 3 * time.Minute
	startLimit = time.Minute
	httpLimit  = 30 * time.Second
	stopLimit  = 30 * time.Second
)

// Module is a requirement of the copy's go.mod: a module of this
// repository, replaced by its directory Dir, or a third-party module at
// Version, which the module cache holds.
type Module struct {
	Path    string
	Version string // required version; "v0.0.0" when Dir is set
	Dir     string // absolute directory of the replacement, or ""
}

// SkipShort skips t under -short, since building a program takes a while;
// under CI=true it never skips.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("builds a copy of the example with the go command; skipped under -short")
	}
}

// Root returns the directory of the library's root module, found from the
// current directory (the test's package directory) upwards.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == RootModule {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of module %s above the current directory", RootModule)
		}
		dir = parent
	}
}

// modulePath returns the module path that the go.mod file at path
// declares, or "" when there is no such file.
func modulePath(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// Local returns the requirement of the repository's module path, replaced
// by the directory dir under root.
func Local(root, path, dir string) Module {
	return Module{Path: path, Version: "v0.0.0", Dir: filepath.Join(root, dir)}
}

// BuildList returns the requirements of every third-party module that the
// running test binary was built with, at its version: a copy that requires
// them builds with the versions of the example's own build, which the
// module cache holds, where a dependency's go.mod may ask for an older one
// that only a download would bring.
func BuildList(t testing.TB) []Module {
	t.Helper()
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary has no build information")
	}
	var mods []Module
	for _, d := range info.Deps {
		if d.Replace == nil && d.Path != RootModule && !strings.HasPrefix(d.Path, RootModule+"/") {
			mods = append(mods, Module{Path: d.Path, Version: d.Version})
		}
	}
	return mods
}

// goEnv is the environment of the go command: offline, outside any
// workspace, free to write go.mod and go.sum.
func goEnv() []string {
	env := os.Environ()
	return append(env,
		"GOWORK=off",
		"GOFLAGS=-mod=mod",
		"GOPROXY=off",
		"GOSUMDB=off",
		"GONOSUMDB=*",
		"GOTOOLCHAIN=local",
	)
}

// goCmd runs the go command of the toolchain that runs the test in dir and
// returns its output. When it fails, the failure message holds its output
// after before, the output of the steps before.
func goCmd(t testing.TB, dir, before string, args ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), goLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = goEnv()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%sgo %s did not finish within %v:\n%s", before, strings.Join(args, " "), goLimit, out)
	}
	if err != nil {
		t.Fatalf("%sgo %s: %v\n%s", before, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Build does what a user who starts from the example in src does: it
// copies the non-test .go files of src into a new directory outside the
// repository, writes a go.mod for module example.com/starter that requires
// mods (of a path given twice, the last entry counts), runs
// go mod tidy and go build, and returns the program's path.
func Build(t testing.TB, src string, mods ...Module) string {
	t.Helper()
	dir := t.TempDir()
	root := Root(t)
	if rel, err := filepath.Rel(root, dir); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("temporary directory %s is inside the repository %s; set TMPDIR elsewhere", dir, root)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	copied := 0
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		copied++
	}
	if copied == 0 {
		t.Fatalf("no .go file to copy in %s", src)
	}

	last := map[string]int{} // index in mods of each path's last entry
	for i, m := range mods {
		last[m.Path] = i
	}
	var unique []Module
	for i, m := range mods {
		if last[m.Path] == i {
			unique = append(unique, m)
		}
	}
	mods = unique
	var gomod strings.Builder
	gomod.WriteString("module example.com/starter\n\ngo 1.25.0\n\nrequire (\n")
	for _, m := range mods {
		fmt.Fprintf(&gomod, "\t%s %s\n", m.Path, m.Version)
	}
	gomod.WriteString(")\n")
	for _, m := range mods {
		if m.Dir != "" {
			fmt.Fprintf(&gomod, "\nreplace %s => %s\n", m.Path, m.Dir)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tidy := goCmd(t, dir, "", "mod", "tidy", "-e")
	bin := filepath.Join(t.TempDir(), "starter")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	goCmd(t, dir, "go mod tidy -e:\n"+tidy+"\n", "build", "-o", bin, ".")
	return bin
}

// Start runs the program bin with exactly the environment env plus
// ADDR=127.0.0.1:0, waits for the line "NAME: listening on URL" that it
// writes to stderr, and returns URL. When the test ends the program gets an
// interrupt and must exit with status 0 (a graceful shutdown).
func Start(t testing.TB, bin, name string, env ...string) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"ADDR=127.0.0.1:0"}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var log testenv.SyncBuffer // what the program wrote, for failure messages
	cmd.Stdout = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error           // set before done closes
	done := make(chan struct{}) // closed once the program has exited
	urls := make(chan string, 1)
	go func() {
		// Read every line, so that the program never blocks on a full
		// pipe, and pass the address on once. Wait only once the pipe is
		// drained, as os/exec requires.
		prefix := name + ": listening on "
		sent := false
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			line := lines.Text()
			fmt.Fprintln(&log, line)
			if url, ok := strings.CutPrefix(line, prefix); ok && !sent {
				urls <- url
				sent = true
			}
		}
		_, _ = io.Copy(&log, stderr)
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		select {
		case <-done:
			if !t.Failed() {
				t.Errorf("%s exited before the test ended: %v\n%s", name, waitErr, log.String())
			}
			return
		default:
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			_ = cmd.Process.Kill()
		}
		select {
		case <-done:
			if waitErr != nil {
				t.Errorf("%s after an interrupt: %v; want exit status 0\n%s", name, waitErr, log.String())
			}
		case <-time.After(stopLimit):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("%s did not stop within %v of an interrupt\n%s", name, stopLimit, log.String())
		}
	})
	select {
	case url := <-urls:
		return url
	case <-done:
		t.Fatalf("%s exited before listening: %v\n%s", name, waitErr, log.String())
	case <-time.After(startLimit):
		t.Fatalf("%s wrote no listening line within %v\n%s", name, startLimit, log.String())
	}
	return ""
}

// CheckRegister checks the server at base as its first user would: once
// /healthz answers 200, registering answers 201 with an access token, which
// /api/auth/me accepts.
func CheckRegister(t testing.TB, base string) {
	t.Helper()
	client := &http.Client{Timeout: httpLimit}
	deadline := time.Now().Add(httpLimit)
	for {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/healthz did not answer 200 within %v: %v", base, httpLimit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	body := `{"email":"ada@example.com","password":"correct horse battery","name":"Ada"}`
	resp, err := client.Post(base+"/api/auth/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		AccessToken string `json:"accessToken"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &reg) != nil || reg.AccessToken == "" {
		t.Fatalf("POST /api/auth/register = %d %s; want 201 with an accessToken", resp.StatusCode, raw)
	}

	req, err := http.NewRequest(http.MethodGet, base+"/api/auth/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+reg.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/auth/me with the new token = %d %s; want 200", resp.StatusCode, raw)
	}
}
