package controllers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// The install manifests, rendered the way `make deploy` and README render
// them, checked for what a platform team expects of an operator install.

const (
	installNamespace = "resize-operator-system"
	installPrefix    = "resize-operator-"
)

// kubectlOrSkip finds kubectl; without it the manifest tests skip, except
// in CI, where kubectl is part of the toolchain.
func kubectlOrSkip(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kubectl is not on PATH")
		}
		t.Skip("kubectl is not on PATH")
	}
	return path
}

// renderedObject is one object of a rendered install.
type renderedObject struct {
	obj *unstructured.Unstructured
	raw []byte
}

// render runs `kubectl kustomize dir` and indexes the objects by
// "Kind/namespace/name".
func render(t *testing.T, dir string) map[string]renderedObject {
	t.Helper()
	out, err := exec.Command(kubectlOrSkip(t), "kustomize", dir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, ee.Stderr)
		}
		t.Fatalf("kubectl kustomize %s: %v", dir, err)
	}
	objs := map[string]renderedObject{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		key := u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
		if _, dup := objs[key]; dup {
			t.Errorf("%s is rendered twice", key)
		}
		objs[key] = renderedObject{obj: u, raw: doc}
	}
	return objs
}

// get decodes the rendered object key into a typed object.
func get[T any](t *testing.T, objs map[string]renderedObject, key string) *T {
	t.Helper()
	o, ok := objs[key]
	if !ok {
		keys := make([]string, 0, len(objs))
		for k := range objs {
			keys = append(keys, k)
		}
		t.Fatalf("the install has no %s; it has:\n  %s", key, strings.Join(sortedStrings(keys), "\n  "))
	}
	var v T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.obj.Object, &v); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return &v
}

func TestDefaultInstallRenders(t *testing.T) {
	objs := render(t, filepath.Join("..", "config", "default"))
	ns := installNamespace
	p := installPrefix

	get[corev1.Namespace](t, objs, "Namespace//"+ns)
	get[unstructured.Unstructured](t, objs, "CustomResourceDefinition//resizepipelines.pipelines.resize.dev")
	sa := get[corev1.ServiceAccount](t, objs, "ServiceAccount/"+ns+"/"+p+"controller-manager")
	saSubject := rbacv1.Subject{Kind: "ServiceAccount", Name: sa.Name, Namespace: ns}

	// Every namespaced object lands in the install's namespace.
	for key, o := range objs {
		if o.obj.GetNamespace() != "" && o.obj.GetNamespace() != ns {
			t.Errorf("%s is not in %s", key, ns)
		}
	}

	// RBAC: the manager's ClusterRole is the one controller-gen generated
	// from the +kubebuilder:rbac markers, bound to the service account.
	generated := readYAML[rbacv1.ClusterRole](t, filepath.Join("..", "config", "rbac", "role.yaml"))
	managerRole := get[rbacv1.ClusterRole](t, objs, "ClusterRole//"+p+"manager-role")
	if diff := cmp.Diff(generated.Rules, managerRole.Rules); diff != "" {
		t.Errorf("the rendered manager-role differs from config/rbac/role.yaml (-generated +rendered):\n%s", diff)
	}
	binds := func(kind, key, role string) {
		t.Helper()
		var ref rbacv1.RoleRef
		var subjects []rbacv1.Subject
		if kind == "ClusterRoleBinding" {
			b := get[rbacv1.ClusterRoleBinding](t, objs, key)
			ref, subjects = b.RoleRef, b.Subjects
		} else {
			b := get[rbacv1.RoleBinding](t, objs, key)
			ref, subjects = b.RoleRef, b.Subjects
		}
		if ref.Name != role || len(subjects) != 1 || subjects[0] != saSubject {
			t.Errorf("%s binds %s to %v, want %s to %v", key, ref.Name, subjects, role, saSubject)
		}
	}
	binds("ClusterRoleBinding", "ClusterRoleBinding//"+p+"manager-rolebinding", p+"manager-role")

	// Leader election: leases in the install's namespace.
	le := get[rbacv1.Role](t, objs, "Role/"+ns+"/"+p+"leader-election-role")
	if !grants(le.Rules, "coordination.k8s.io", "leases", "get", "create", "update") {
		t.Errorf("the leader election role does not grant leases: %v", le.Rules)
	}
	binds("RoleBinding", "RoleBinding/"+ns+"/"+p+"leader-election-rolebinding", p+"leader-election-role")

	// Metrics behind authn/authz, as kubebuilder does it: the manager may
	// review tokens and access, and scrapers need metrics-reader.
	auth := get[rbacv1.ClusterRole](t, objs, "ClusterRole//"+p+"metrics-auth-role")
	if !grants(auth.Rules, "authentication.k8s.io", "tokenreviews", "create") ||
		!grants(auth.Rules, "authorization.k8s.io", "subjectaccessreviews", "create") {
		t.Errorf("metrics-auth-role does not grant TokenReviews and SubjectAccessReviews: %v", auth.Rules)
	}
	binds("ClusterRoleBinding", "ClusterRoleBinding//"+p+"metrics-auth-rolebinding", p+"metrics-auth-role")
	reader := get[rbacv1.ClusterRole](t, objs, "ClusterRole//"+p+"metrics-reader")
	if len(reader.Rules) != 1 || cmp.Diff(reader.Rules[0].NonResourceURLs, []string{"/metrics"}) != "" {
		t.Errorf("metrics-reader: %v, want GET /metrics", reader.Rules)
	}

	// The manager.
	dep := get[appsv1.Deployment](t, objs, "Deployment/"+ns+"/"+p+"controller-manager")
	pod := dep.Spec.Template.Spec
	if pod.ServiceAccountName != sa.Name {
		t.Errorf("the manager runs as %q, want %q", pod.ServiceAccountName, sa.Name)
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and the RuntimeDefault seccomp profile", psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("the manager pod has %d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || cmp.Diff(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) != "" {
		t.Errorf("container securityContext %+v: want a read-only root filesystem, no privilege escalation, all capabilities dropped", sc)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("the manager requests no %s", res)
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			t.Errorf("the manager has no %s limit", res)
		}
	}
	probe := func(name string, pr *corev1.Probe, path string) {
		if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Path != path || pr.HTTPGet.Port.IntValue() != 8081 {
			t.Errorf("%s probe %+v, want GET %s on 8081", name, pr, path)
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("readiness", c.ReadinessProbe, "/readyz")
	for _, arg := range []string{"--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081"} {
		if !slicesContain(c.Args, arg) {
			t.Errorf("the manager's args %v lack %s", c.Args, arg)
		}
	}
	if c.Image != "resize-operator:latest" {
		// make deploy replaces exactly this string with $(IMG).
		t.Errorf("the manager's image is %q; make deploy rewrites resize-operator:latest", c.Image)
	}

	// The metrics Service reaches the manager's HTTPS metrics port.
	svc := get[corev1.Service](t, objs, "Service/"+ns+"/"+p+"controller-manager-metrics-service")
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8443 || svc.Spec.Ports[0].TargetPort.IntValue() != 8443 {
		t.Errorf("metrics service ports %+v, want 8443 → 8443", svc.Spec.Ports)
	}
	for k, v := range svc.Spec.Selector {
		if dep.Spec.Template.Labels[k] != v {
			t.Errorf("the metrics service selects %s=%s, which the manager's pods do not carry", k, v)
		}
	}

	// IRSA is opt-in: the service account carries no role until the patch
	// point is used (EKS Pod Identity needs none).
	if len(sa.Annotations) != 0 {
		t.Errorf("the default service account has annotations %v", sa.Annotations)
	}
}

// TestIRSAPatchPoint follows README's instructions for IRSA on a copy of
// config/: uncomment the patch in config/default and set the role ARN.
func TestIRSAPatchPoint(t *testing.T) {
	kubectlOrSkip(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "config"))); err != nil {
		t.Fatal(err)
	}
	kust := filepath.Join(dir, "default", "kustomization.yaml")
	b, err := os.ReadFile(kust)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	uncommented := 0
	inPatch := false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "#- path: irsa_patch.yaml") {
			inPatch = true
		} else if inPatch && !strings.HasPrefix(l, "#  ") {
			inPatch = false
		}
		if inPatch {
			l = strings.TrimPrefix(l, "#")
			uncommented++
		}
		lines = append(lines, l)
	}
	if uncommented == 0 {
		t.Fatal("config/default/kustomization.yaml has no commented `#- path: irsa_patch.yaml` patch to enable")
	}
	if err := os.WriteFile(kust, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	const roleARN = "arn:aws:iam::123456789012:role/resize-operator-controller"
	patch := filepath.Join(dir, "default", "irsa_patch.yaml")
	pb, err := os.ReadFile(patch)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(patch, []byte(strings.ReplaceAll(string(pb), "arn:aws:iam::111122223333:role/resize-operator-controller", roleARN)), 0o644); err != nil {
		t.Fatal(err)
	}
	objs := render(t, filepath.Join(dir, "default"))
	sa := get[corev1.ServiceAccount](t, objs, "ServiceAccount/"+installNamespace+"/"+installPrefix+"controller-manager")
	if got := sa.Annotations["eks.amazonaws.com/role-arn"]; got != roleARN {
		t.Errorf("service account annotations %v, want eks.amazonaws.com/role-arn=%s", sa.Annotations, roleARN)
	}
}

// TestMakeInstallDeployUndeploy runs README's install commands against a
// fresh API server (envtest): make install, kubectl wait for the CRD, make
// deploy IMG=…, and make undeploy. The API server validates every object of
// the install; envtest runs no pods, so the Deployment is only stored.
func TestMakeInstallDeployUndeploy(t *testing.T) {
	kubectl := kubectlOrSkip(t)
	if testing.Short() {
		t.Skip("starts an API server")
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("KUBEBUILDER_ASSETS is not set")
		}
		t.Skip("KUBEBUILDER_ASSETS is not set (make envtest)")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not on PATH")
	}
	env := &envtest.Environment{}
	if _, err := env.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "installer", Groups: []string{"system:masters"}}, nil)
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
	// make -o manifests: the test runs the recipes, not controller-gen
	// (make test already regenerated the manifests before building).
	run := func(timeout time.Duration, name string, args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		// Its own process group, so a timeout stops kubectl under make too.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(name string, args ...string) string {
		t.Helper()
		out, err := run(2*time.Minute, name, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return out
	}

	must("make", "-o", "manifests", "install")
	must(kubectl, "wait", "--for=condition=Established", "crd/resizepipelines.pipelines.resize.dev", "--timeout=60s")

	const img = "registry.example.com/resize-operator:v0.1.0"
	must("make", "-o", "manifests", "deploy", "IMG="+img)
	got := must(kubectl, "get", "deployment", "-n", installNamespace, installPrefix+"controller-manager",
		"-o", "jsonpath={.spec.template.spec.containers[0].image}")
	if got != img {
		t.Errorf("make deploy IMG=%s deployed image %q", img, got)
	}
	must(kubectl, "-n", installNamespace, "get", "deployment", installPrefix+"controller-manager")
	must(kubectl, "get", "serviceaccount,role,rolebinding,service", "-n", installNamespace)
	// README: let Prometheus's service account read the metrics.
	must(kubectl, "create", "clusterrolebinding", "resize-operator-metrics-reader",
		"--clusterrole=resize-operator-metrics-reader", "--serviceaccount=monitoring:prometheus")
	must(kubectl, "get", "clusterrole", installPrefix+"manager-role", installPrefix+"metrics-auth-role", installPrefix+"metrics-reader")

	// make undeploy deletes everything; the namespace then waits for
	// kube-controller-manager, which envtest does not run, so kubectl's wait
	// is cut short and the objects inside are checked instead.
	// README: delete the pipelines while the controller still runs, then
	// undeploy.
	must(kubectl, "delete", "resizepipelines", "--all", "--all-namespaces")
	_, _ = run(10*time.Second, "make", "undeploy")
	out, err := run(30*time.Second, kubectl, "get", "crd/resizepipelines.pipelines.resize.dev", "--ignore-not-found")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("after make undeploy the CRD remains: %v %s", err, out)
	}
	out, err = run(30*time.Second, kubectl, "get", "clusterrole", installPrefix+"manager-role", "--ignore-not-found")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("after make undeploy the manager role remains: %v %s", err, out)
	}
}

// grants reports whether rules allow verbs on group/resource.
func grants(rules []rbacv1.PolicyRule, group, resource string, verbs ...string) bool {
	for _, r := range rules {
		if !slicesContain(r.APIGroups, group) || !slicesContain(r.Resources, resource) {
			continue
		}
		ok := true
		for _, v := range verbs {
			if !slicesContain(r.Verbs, v) && !slicesContain(r.Verbs, "*") {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func readYAML[T any](t *testing.T, path string) *T {
	t.Helper()
	b, err := fs.ReadFile(os.DirFS(filepath.Dir(path)), filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := yaml.Unmarshal(bytes.TrimPrefix(b, []byte("---\n")), &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &v
}

func sortedStrings(s []string) []string {
	m := make(map[string]struct{}, len(s))
	for _, e := range s {
		m[e] = struct{}{}
	}
	return sortedKeys(m)
}
