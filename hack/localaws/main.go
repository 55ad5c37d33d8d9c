// Command localaws runs the project's local AWS: kumo in-process behind a
// front door on 127.0.0.1:4566 that fills kumo's gaps, runs Lambda functions
// and serves API Gateway REST. See README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sivchari/kumo"

	"github.com/resize-operator/resize-operator/hack/localaws/frontdoor"
	"github.com/resize-operator/resize-operator/hack/localaws/lambdarunner"
)

// stateMarker marks a state directory as made by localaws, so a mistyped
// --state-dir is never wiped.
const stateMarker = ".localaws"

// reexecEnv guards against re-executing more than once.
const reexecEnv = "LOCALAWS_REEXEC"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localaws:", err)
		os.Exit(1)
	}
}

func run() error {
	start := time.Now()

	listen := flag.String("listen", "127.0.0.1:4566", "address of the front door; kumo's Step Functions calls Lambda at localhost:4566, so other ports break Lambda tasks")
	stateDir := flag.String("state-dir", ".local/aws", "directory for what the stack writes (Lambda packages and code); wiped at start: every run starts empty")
	region := flag.String("region", defaultRegion(), "region the stack reports in ARNs and gives to functions")
	concurrency := flag.Int("lambda-concurrency", 4, "processes a function may run for concurrent invocations (started on demand)")
	verbose := flag.Bool("v", false, "log every front-door decision")
	flag.Parse()

	if err := reexecIfNeeded(*region); err != nil {
		return err
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ln, err := listenFrontDoor(*listen)
	if err != nil {
		return err
	}

	if err := resetStateDir(*stateDir); err != nil {
		_ = ln.Close()
		return err
	}

	endpoint := "http://" + ln.Addr().String()

	km := kumo.NewServer()

	var fd *frontdoor.Server

	runner := lambdarunner.New(lambdarunner.Config{
		Dir:            filepath.Join(*stateDir, "lambda"),
		RuntimeAPI:     ln.Addr().String(),
		Endpoint:       endpoint,
		Region:         *region,
		Log:            os.Stderr,
		MaxConcurrency: *concurrency,
		OnExit: func(name, processID string, err error) {
			fd.FunctionExited(name, processID, err)
		},
	})

	fd, err = frontdoor.New(frontdoor.Options{
		KumoURL:  km.URL,
		Endpoint: endpoint,
		Region:   *region,
		Runner:   runner,
		Logger:   logger,
	})
	if err != nil {
		return err
	}

	wireAPIGateway(fd, *region, "000000000000")

	srv := &http.Server{Handler: fd, ReadHeaderTimeout: 10 * time.Second}

	serveErr := make(chan error, 1)

	go func() { serveErr <- srv.Serve(ln) }()

	fd.SetReady()
	fmt.Printf("localaws ready on %s (state dir %s)\n", endpoint, *stateDir)
	logger.Info("started", "startup", time.Since(start).Round(time.Millisecond), "kumo", km.URL, "region", *region)

	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)

	select {
	case s := <-sig:
		logger.Info("stopping", "signal", s.String())
	case err := <-serveErr:
		runner.Shutdown()
		return fmt.Errorf("serve: %w", err)
	}

	go func() {
		// A second signal means "now": the runner's process groups are
		// still killed by Pdeathsig when this process dies.
		<-sig
		os.Exit(1)
	}()

	// Functions first: their Runtime API long polls would hold the server's
	// graceful shutdown open.
	runner.Shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()

	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}

	closed := make(chan struct{})

	go func() {
		km.Close()
		close(closed)
	}()

	select {
	case <-closed:
	case <-time.After(3 * time.Second):
	}

	logger.Info("stopped")

	return nil
}

func defaultRegion() string {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}

	return "us-east-1"
}

// reexecIfNeeded restarts this program with an environment kumo reads while
// its packages initialise, before main can change it: the region its ARNs
// carry (AWS_DEFAULT_REGION), and no KUMO_* settings that would persist
// state or move the address kumo calls itself on.
func reexecIfNeeded(region string) error {
	clean := os.Getenv("AWS_DEFAULT_REGION") == region
	for _, k := range []string{"KUMO_DATA_DIR", "KUMO_HOST", "KUMO_PORT", "KUMO_INIT_DIR"} {
		if os.Getenv(k) != "" {
			clean = false
		}
	}

	if clean {
		return nil
	}

	if os.Getenv(reexecEnv) != "" {
		return errors.New("environment still not usable after re-exec (AWS_DEFAULT_REGION or KUMO_* variables)")
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}

	env := []string{reexecEnv + "=1", "AWS_DEFAULT_REGION=" + region}

	for _, kv := range os.Environ() {
		switch k, _, _ := cut(kv); k {
		case "AWS_DEFAULT_REGION", "KUMO_DATA_DIR", "KUMO_HOST", "KUMO_PORT", "KUMO_INIT_DIR", reexecEnv:
		default:
			env = append(env, kv)
		}
	}

	return syscall.Exec(exe, os.Args, env)
}

func cut(kv string) (string, string, bool) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}

	return kv, "", false
}

// listenFrontDoor binds the front door's address, explaining who holds it
// when it is taken: only one stack can run per machine.
func listenFrontDoor(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}

	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}

	client := &http.Client{Timeout: time.Second}

	resp, herr := client.Get("http://" + addr + "/_localaws/health")
	if herr == nil {
		defer func() { _ = resp.Body.Close() }() // only a probe: its error changes nothing

		var h struct {
			Service string `json:"service"`
			PID     int    `json:"pid"`
		}

		if json.NewDecoder(resp.Body).Decode(&h) == nil && h.Service == "localaws" {
			return nil, fmt.Errorf("another localaws (pid %d) is already serving on %s; use it or stop it first", h.PID, addr)
		}
	}

	return nil, fmt.Errorf("%s is in use by another program (not localaws); free it or pass --listen", addr)
}

// resetStateDir empties the state directory so each run starts clean. It
// refuses to wipe a non-empty directory it did not create.
func resetStateDir(dir string) error {
	entries, err := os.ReadDir(dir)

	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read state dir: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, stateMarker)); err != nil {
			return fmt.Errorf("state dir %s is not empty and was not made by localaws; refusing to wipe it", dir)
		}

		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("wipe state dir: %w", err)
		}
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}

	return os.WriteFile(filepath.Join(dir, stateMarker), []byte("made by localaws; wiped at every start\n"), 0o644)
}
