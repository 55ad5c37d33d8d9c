package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// runMainEnv makes the test binary run main() instead of the tests, so the
// flag test sees the real command line without building the manager again.
const runMainEnv = "RESIZE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHelpDocumentsEveryFlag runs the manager's --help and finds each flag
// the install docs and config/ rely on, with its default.
func TestHelpDocumentsEveryFlag(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--help")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	// flag prints "  -name type\n    \tusage (default x)"; split per flag.
	entries := map[string]string{}
	for _, e := range strings.Split(string(out), "\n  -")[1:] {
		name, _, _ := strings.Cut(e, " ")
		name, _, _ = strings.Cut(name, "\n")
		entries[name] = e
	}
	// Each flag with text its entry must hold: the default, as flag prints
	// it, or the usage's own words for a zero default (which flag omits).
	for flagName, want := range map[string]string{
		"aws-region":                "when empty, AWS_REGION",
		"aws-endpoint-url":          "when empty, AWS's own endpoints",
		"resync-period":             "(default 10m0s)",
		"max-concurrent-reconciles": "(default 2)",
		"leader-elect":              "off when not given",
		"metrics-bind-address":      `(default "0")`,
		"metrics-secure":            "(default true)",
		"enable-http2":              "off by default",
		"health-probe-bind-address": `(default ":8081")`,
		"zap-log-level":             "Zap Level",
		"zap-devel":                 "Development Mode",
	} {
		e, ok := entries[flagName]
		if !ok {
			t.Errorf("--help does not list --%s:\n%s", flagName, out)
			continue
		}
		if !strings.Contains(strings.Join(strings.Fields(e), " "), want) {
			t.Errorf("--help for --%s lacks %q:\n  -%s", flagName, want, e)
		}
	}
}

// TestInstallArgsAreFlags runs the manager with the arguments of the
// Deployment that config/default renders, then --help: an unknown or
// malformed flag stops it with an error before --help is reached.
func TestInstallArgsAreFlags(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kubectl is not on PATH")
		}
		t.Skip("kubectl is not on PATH")
	}
	out, err := exec.Command(kubectl, "kustomize", "config/default").Output()
	if err != nil {
		t.Fatalf("kubectl kustomize config/default: %v", err)
	}
	var args []string
	inArgs := false
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "      - args:"):
			inArgs = true
		case inArgs && strings.HasPrefix(l, "        - "):
			args = append(args, strings.TrimPrefix(l, "        - "))
		default:
			inArgs = false
		}
	}
	if len(args) == 0 {
		t.Fatalf("no container args in the rendered Deployment:\n%s", out)
	}
	cmd := exec.Command(os.Args[0], append(args, "--help")...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("manager %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	t.Logf("manager accepts %s", strings.Join(args, " "))
}

// TestMetricsEndpoint starts the manager against an API server (envtest)
// and scrapes it: over plain HTTP, the controller's metrics sit beside
// controller-runtime's; over HTTPS (the default), a caller without a token
// is refused. AWS is an endpoint that refuses connections, so the one
// pipeline's calls fail fast and show up with outcome Error.
func TestMetricsEndpoint(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KUBEBUILDER_ASSETS is not set")
		}
		t.Skip("KUBEBUILDER_ASSETS is not set (make envtest)")
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	rp := &pipelinesv1alpha1.ResizePipeline{}
	rp.Namespace, rp.Name = "default", "metrics"
	rp.Spec.SourceBucket.Name, rp.Spec.DestinationBucket.Name = "metrics-src", "metrics-dst"
	if err := k8s.Create(context.Background(), rp); err != nil {
		t.Fatal(err)
	}

	deadAWS := "http://" + freeAddr(t)
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

	metricsAddr, probeAddr := freeAddr(t), freeAddr(t)
	startManager(t, kubeconfig, "--metrics-bind-address="+metricsAddr, "--metrics-secure=false",
		"--health-probe-bind-address="+probeAddr, "--aws-region=us-east-1", "--aws-endpoint-url="+deadAWS, "--leader-elect=false")
	waitHTTP(t, insecure, "http://"+probeAddr+"/readyz", http.StatusOK)
	want := []string{
		`resize_pipelines{ready="Unknown"}`,
		`resize_aws_calls_total{operation="HeadBucket",outcome="Error",service="S3"}`,
		`resize_aws_call_duration_seconds_bucket{operation="HeadBucket",service="S3"`,
		`controller_runtime_reconcile_total{controller="resizepipeline"`,
	}
	var body string
	deadline := time.Now().Add(60 * time.Second)
	for {
		body = get(t, insecure, "http://"+metricsAddr+"/metrics", http.StatusOK)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no %s after 60s:\n%s", missing, grepLines(body, "resize_", "controller_runtime_reconcile_total"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("the controller's series:\n%s", grepLines(body, "resize_aws_calls_total", "resize_pipelines"))

	secureAddr, probeAddr2 := freeAddr(t), freeAddr(t)
	startManager(t, kubeconfig, "--metrics-bind-address="+secureAddr,
		"--health-probe-bind-address="+probeAddr2, "--aws-region=us-east-1", "--aws-endpoint-url="+deadAWS)
	waitHTTP(t, insecure, "http://"+probeAddr2+"/readyz", http.StatusOK)
	// No token: the authentication filter refuses before any metric is read.
	waitHTTP(t, insecure, "https://"+secureAddr+"/metrics", http.StatusUnauthorized)
}

// startManager runs main() in a child process until the test ends.
func startManager(t *testing.T, kubeconfig string, args ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "KUBECONFIG="+kubeconfig,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true")
	logFile, err := os.Create(filepath.Join(t.TempDir(), "manager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("manager log:\n%s", b)
		}
	})
}

func waitHTTP(t *testing.T, c *http.Client, url string, status int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := c.Get(url)
		last := fmt.Sprint(err)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
			last = resp.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d within 60s (last: %s)", url, status, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func get(t *testing.T, c *http.Client, url string, status int) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d:\n%s", url, resp.StatusCode, status, b)
	}
	return string(b)
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

func grepLines(s string, prefixes ...string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				fmt.Fprintln(&b, l)
				break
			}
		}
	}
	return b.String()
}
