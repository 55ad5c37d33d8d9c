package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
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
