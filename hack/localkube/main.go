// Command localkube runs a Kubernetes API server (kube-apiserver and etcd,
// as envtest starts them) with the project's CRDs installed, and writes an
// admin kubeconfig for kubectl and the controller. It is the cluster of
// `make run-local`: no nodes, no scheduler, just the API the operator needs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func main() {
	var (
		assets     = flag.String("assets", "bin/k8s", "folder holding the kube-apiserver and etcd binaries (make envtest)")
		kubeconfig = flag.String("write-kubeconfig", ".local/kubeconfig", "where to write the admin kubeconfig")
	)
	var crdDirs stringList
	flag.Var(&crdDirs, "crd-dir", "folder of CRDs to install before reporting ready (repeatable; default config/crd/bases)")
	flag.Parse()
	if len(crdDirs) == 0 {
		crdDirs = stringList{"config/crd/bases"}
	}

	if err := run(*assets, *kubeconfig, crdDirs); err != nil {
		fmt.Fprintln(os.Stderr, "localkube:", err)
		os.Exit(1)
	}
}

func run(assets, kubeconfigPath string, crdDirs []string) error {
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			return fmt.Errorf("%s is missing from %s: build it with `make envtest`", bin, assets)
		}
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     crdDirs,
		ErrorIfCRDPathMissing: true,
	}
	if _, err := env.Start(); err != nil {
		return fmt.Errorf("starting the API server: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := writeKubeconfig(env, kubeconfigPath)
	if err == nil {
		fmt.Printf("localkube ready: %s (KUBECONFIG=%s)\n", env.Config.Host, kubeconfigPath)
		<-ctx.Done()
	}
	return errors.Join(err, env.Stop())
}

// writeKubeconfig gives kubectl and the controller a cluster-admin identity.
// envtest's own config authenticates with a client certificate that only this
// process knows, so a user is added and its kubeconfig written out.
func writeKubeconfig(env *envtest.Environment, path string) error {
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding the admin user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("rendering the kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
