// Command releasecheck checks that every library module of the repository
// can be fetched and used alone, as an outside user gets it once the
// modules are tagged: it lays each module out, at its planned version, in a
// file-based module proxy (the zips made from the committed tree by
// golang.org/x/mod/zip), then, for each module, makes a fresh module
// outside the repository with GOWORK=off and an empty module cache, gets
// the module from that proxy (third-party modules come from the usual
// proxy), builds a small program that uses it and runs go vet on it.
//
//	go run ./scripts/releasecheck -repo . -version v0.1.0
//
// A module whose go.mod requires another module of the repository at a
// version that is not being released, or relies on a replace directive
// (which Go ignores in a dependency), fails here.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

// libModule is one module meant for users, and a program that uses it.
type libModule struct {
	dir     string // relative to the repository root
	program string // main.go of the checking module
}

// libModules are the modules users get; examples are not among them.
var libModules = []libModule{
	{".", `package main

import (
	"context"
	"fmt"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/audit"
	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/jwks"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/oidc"
	"github.com/jwtkit/auth/password"
)

func main() {
	ctx := context.Background()
	key, err := auth.NewHMACKey(auth.HS256, []byte("a release check secret of 32+ bytes"))
	if err != nil {
		panic(err)
	}
	keys, _ := auth.NewKeySet(key)
	store, _ := memstore.New()
	hasher, _ := password.NewBcrypt(password.WithCost(password.MinCost))
	var _ authstore.RefreshStore = store
	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer("iss"), auth.WithAudience("aud"),
		auth.WithRefreshStore(store), auth.WithRevocation(store), auth.WithPasswords(hasher),
		auth.WithEvents(func(context.Context, audit.Event) {}))
	if err != nil {
		panic(err)
	}
	at, _ := a.Issue(ctx, auth.Claims{Subject: "user-1"})
	c, err := a.Verify(ctx, at.Token)
	_, jerr := jwks.NewRemoteKeySet("https://id.example.com/.well-known/jwks.json")
	_ = oidc.Keycloak("web")
	fmt.Println(c.Subject, err, jerr)
}
`},
	{"sqlstore", `package main

import (
	"database/sql"
	"fmt"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/sqlstore"
)

func main() {
	db, err := sql.Open("no-driver-registered", "")
	if err == nil {
		_, err = sqlstore.New(db, sqlstore.Postgres)
	}
	_ = auth.WithRefreshStore
	fmt.Println(err != nil)
}
`},
	{"redisstore", `package main

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jwtkit/auth/authstore"
	"github.com/jwtkit/auth/redisstore"
)

func main() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	_, err := redisstore.New(rdb)
	_, terr := redisstore.NewThrottle(rdb, authstore.Rate{Limit: 5, Window: 15 * time.Minute})
	fmt.Println(err, terr)
}
`},
	{"otelauth", `package main

import (
	"context"
	"fmt"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/memstore"
	"github.com/jwtkit/auth/otelauth"
)

func main() {
	ctx := context.Background()
	tel, err := otelauth.New(otelauth.WithVerifySpans())
	if err != nil {
		panic(err)
	}
	key, _ := auth.NewHMACKey(auth.HS256, []byte("a release check secret of 32+ bytes"))
	keys, _ := auth.NewKeySet(key)
	store, _ := memstore.New()
	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer("iss"), auth.WithAudience("aud"),
		auth.WithRefreshStore(tel.WrapRefreshStore(store)), auth.WithRevocation(tel.WrapRevocationStore(store)),
		auth.WithObserver(tel.Observer()), auth.WithEvents(tel.Events()))
	if err != nil {
		panic(err)
	}
	at, _ := a.Issue(ctx, auth.Claims{Subject: "user-1"})
	_, err = a.Verify(ctx, at.Token)
	tel.KeyRotated(ctx, key.ID())
	fmt.Println(err)
}
`},
	{"grpcauth", `package main

import (
	"fmt"

	"google.golang.org/grpc"

	"github.com/jwtkit/auth"
	"github.com/jwtkit/auth/grpcauth"
)

func main() {
	key, _ := auth.NewHMACKey(auth.HS256, []byte("a release check secret of 32+ bytes"))
	keys, _ := auth.NewKeySet(key)
	a, err := auth.New(auth.WithKeys(keys), auth.WithIssuer("iss"), auth.WithAudience("aud"))
	if err != nil {
		panic(err)
	}
	i, err := grpcauth.New(a, grpcauth.Policy{"/demo.v1.Demo/*": {}})
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(i.Unary()), grpc.StreamInterceptor(i.Stream()))
	srv.Stop()
	fmt.Println(grpcauth.Code(nil) == "")
}
`},
}

func main() {
	repo := flag.String("repo", ".", "the repository root")
	version := flag.String("version", "v0.1.0", "the version every library module is released at")
	revision := flag.String("revision", "HEAD", "the commit whose files are released")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	flag.Parse()
	if err := run(*repo, *version, *revision, *keep, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
}

func run(repo, version, revision string, keep bool, out io.Writer) error {
	repo, err := filepath.Abs(repo)
	if err != nil {
		return err
	}
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return fmt.Errorf("version %q is not a canonical semantic version", version)
	}
	tmp, err := os.MkdirTemp("", "releasecheck-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(out, "releasecheck: keeping", tmp)
	} else {
		defer removeAll(tmp)
	}
	proxy := filepath.Join(tmp, "proxy")
	paths := make([]string, len(libModules))
	for i, m := range libModules {
		path, err := publish(proxy, repo, m.dir, version, revision)
		if err != nil {
			return fmt.Errorf("%s: %w", m.dir, err)
		}
		paths[i] = path
	}
	failed := 0
	for i, m := range libModules {
		start := time.Now()
		err := check(tmp, proxy, paths[i], version, m, i)
		status := "ok  "
		if err != nil {
			status, failed = "FAIL", failed+1
		}
		fmt.Fprintf(out, "%s %s@%s (%.1fs)\n", status, paths[i], version, time.Since(start).Seconds())
		if err != nil {
			fmt.Fprintf(out, "%v\n", err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d modules cannot be used alone", failed, len(libModules))
	}
	return nil
}

// publish writes the module in dir, as committed at revision, to the
// file-based proxy at version, and returns its module path.
func publish(proxy, repo, dir, version, revision string) (string, error) {
	gomod, err := gitShow(repo, revision, filepath.ToSlash(filepath.Join(dir, "go.mod")))
	if err != nil {
		return "", err
	}
	f, err := modfile.ParseLax("go.mod", gomod, nil)
	if err != nil || f.Module == nil {
		return "", fmt.Errorf("go.mod: %v", err)
	}
	path := f.Module.Mod.Path
	escaped, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return "", err
	}
	mv := module.Version{Path: path, Version: version}
	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		return "", err
	}
	subdir := filepath.ToSlash(dir)
	if subdir == "." {
		subdir = ""
	}
	if err := zip.CreateFromVCS(zf, mv, repo, revision, subdir); err != nil {
		zf.Close()
		return "", fmt.Errorf("zip: %w", err)
	}
	if err := zf.Close(); err != nil {
		return "", err
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	for name, data := range map[string][]byte{
		version + ".mod":  gomod,
		version + ".info": info,
		"list":            []byte(version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	return path, nil
}

// check gets the module path@version alone into a fresh module with an
// empty module cache, builds the module's program and vets it.
func check(tmp, proxy, path, version string, m libModule, i int) error {
	work := filepath.Join(tmp, fmt.Sprintf("check%d", i))
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	gomod := "module example.com/releasecheck\n\ngo 1.25.0\n"
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "main.go"), []byte(m.program), 0o644); err != nil {
		return err
	}
	env := checkEnv(proxy, filepath.Join(tmp, fmt.Sprintf("modcache%d", i)))
	for _, args := range [][]string{
		{"get", path + "@" + version},
		{"mod", "tidy"},
		{"build", "-o", os.DevNull, "."},
		{"vet", "."},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = work, env
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, indent(b))
		}
	}
	return nil
}

// checkEnv is the environment of an outside user: no workspace, an empty
// module cache of its own, the repository's modules from the file proxy
// only (and not checked against the checksum database, which cannot know
// them before they are published).
func checkEnv(proxy, modcache string) []string {
	upstream := os.Getenv("GOPROXY")
	if upstream == "" {
		out, _ := exec.Command("go", "env", "GOPROXY").Output()
		upstream = strings.TrimSpace(string(out))
	}
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "GOWORK", "GOMODCACHE", "GOPROXY", "GOFLAGS", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GONOPROXY", "GOTOOLCHAIN":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GOWORK=off",
		"GOMODCACHE="+modcache,
		"GOPROXY="+fileURL(proxy)+","+upstream,
		"GONOSUMDB=github.com/jwtkit/auth",
		"GOFLAGS=-mod=mod",
		"GOTOOLCHAIN=local",
	)
}

func fileURL(path string) string {
	return "file://" + filepath.ToSlash(path)
}

func gitShow(repo, revision, file string) ([]byte, error) {
	cmd := exec.Command("git", "show", revision+":"+file)
	cmd.Dir = repo
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git show %s:%s: %v: %s", revision, file, err, strings.TrimSpace(stderr.String()))
	}
	return b, nil
}

// removeAll removes dir, module caches included (their files are read-only).
func removeAll(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
	}
}

func indent(b []byte) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(string(b), "\n"), "\n", "\n\t")
}
