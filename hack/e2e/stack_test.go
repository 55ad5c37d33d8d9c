package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	awsEndpoint = "http://127.0.0.1:4566"
	region      = "ca-central-1"
)

// stack is the user's whole machine for `make run-local`: the local AWS, a
// Kubernetes API server and the controller, each a real process built by the
// Makefile, started and stopped as run-local does.
type stack struct {
	dir        string
	kubeconfig string
	procs      []*exec.Cmd
}

// binary finds a program built by the Makefile, from an environment variable
// or the repository's bin/ folder.
func binary(env, name string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	p, err := filepath.Abs(filepath.Join("..", "..", "bin", name))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not built (%v): run the end-to-end test through `make test`", name, err)
	}
	return p, nil
}

func startStack(ctx context.Context) (*stack, error) {
	dir, err := os.MkdirTemp("", "resize-e2e-")
	if err != nil {
		return nil, err
	}
	s := &stack{dir: dir, kubeconfig: filepath.Join(dir, "kubeconfig")}
	bins := map[string]string{}
	for env, name := range map[string]string{"LOCALAWS_BIN": "localaws", "LOCALKUBE_BIN": "localkube", "MANAGER_BIN": "manager"} {
		if bins[name], err = binary(env, name); err != nil {
			return nil, err
		}
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join("..", "..", "bin", "k8s")
	}

	if healthy() {
		return nil, fmt.Errorf("something already serves %s; the end-to-end test needs its own local AWS stack", awsEndpoint)
	}
	if err := s.start(ctx, "localaws", "localaws ready", bins["localaws"], "--state-dir", filepath.Join(dir, "aws")); err != nil {
		return s, err
	}
	if err := s.start(ctx, "localkube", "localkube ready", bins["localkube"],
		"--assets", assets, "--crd-dir", filepath.Join("..", "..", "config", "crd", "bases"),
		"--write-kubeconfig", s.kubeconfig); err != nil {
		return s, err
	}
	// A short resync makes the drift test quick; production runs every 10 minutes.
	err = s.start(ctx, "manager", "Starting workers", bins["manager"],
		"--kubeconfig", s.kubeconfig, "--aws-endpoint-url", awsEndpoint, "--aws-region", region,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:0",
		"--resync-period", "15s")
	return s, err
}

// start runs a program in its own process group, logging to the stack's
// folder, and waits until it prints its ready line.
func (s *stack) start(ctx context.Context, name, readyLine, bin string, args ...string) error {
	logPath := filepath.Join(s.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION="+region)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	s.procs = append(s.procs, cmd)
	exited := make(chan error, 1)
	// The child has its own copy of the log file; ours is only closed.
	go func() { exited <- cmd.Wait(); _ = logFile.Close() }()

	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("%s exited before it was ready (%v); its log:\n%s", name, err, tail(logPath))
		case <-deadline.C:
			return fmt.Errorf("%s not ready after 2 minutes; its log:\n%s", name, tail(logPath))
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if data, _ := os.ReadFile(logPath); strings.Contains(string(data), readyLine) {
				return nil
			}
		}
	}
}

// stop ends the processes in reverse order and removes the stack's folder,
// keeping it (and saying where) when keepLogs is set.
func (s *stack) stop(keepLogs bool) {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i].Process
		_ = syscall.Kill(-p.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _, _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
		}
	}
	if keepLogs {
		fmt.Fprintf(os.Stderr, "e2e: logs kept in %s\n", s.dir)
		return
	}
	_ = os.RemoveAll(s.dir)
}

func (s *stack) log(name string) string { return tail(filepath.Join(s.dir, name+".log")) }

func healthy() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(awsEndpoint + "/_localaws/health")
	if err != nil {
		return false
	}
	_ = resp.Body.Close() // only the status matters
	return resp.StatusCode == http.StatusOK
}

func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = f.Close() }() // opened for reading only
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 40 {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// kubectl runs the user's kubectl against the stack's API server.
func (s *stack) kubectl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.kubeconfig)
	out, err := cmd.Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, exitErr.Stderr)
	}
	return string(out), err
}
