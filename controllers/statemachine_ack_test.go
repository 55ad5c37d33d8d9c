package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// The ACK tests run the reconciler with the ACK provisioner in an API server
// of their own, since whether the StateMachine CRD is served is a property of
// the API server: it starts without the CRD, and the tests install it midway.
// They run once with our fixture of the CRD and, where ACK's own CRD is kept
// next to the repository, once more with it, which proves the objects the
// controller writes are valid for a real ACK install.

// realACKCRD is ACK's own CRD, kept outside the repository as reference data.
var realACKCRD = filepath.Join("..", "..", "shared", "ack", "sfn.services.k8s.aws_statemachines.yaml")

func TestDesiredACKStateMachine(t *testing.T) {
	rp := newPipeline("demo", names{source: "src", destination: "dst", function: "Fn", stateMachine: "Wf", api: "Api"})
	rp.UID = "uid-1"
	rp.Spec.DeletionPolicy = pipelinesv1alpha1.DeletionPolicyRetain
	d := ComputeDesired(rp, "ca-central-1")
	u := DesiredACKStateMachine(rp, d, "arn:aws:lambda:ca-central-1:123456789012:function:Fn", "arn:aws:iam::123456789012:role/r")

	g := NewWithT(t)
	g.Expect(u.GroupVersionKind()).To(Equal(ACKStateMachineGVK))
	g.Expect(u.GetNamespace() + "/" + u.GetName()).To(Equal("default/demo"))
	g.Expect(u.GetLabels()).To(Equal(map[string]string{ManagedByLabel: ManagedByValue, PipelineLabel: "demo"}))
	g.Expect(u.GetAnnotations()).To(Equal(map[string]string{
		"services.k8s.aws/deletion-policy": "retain",
		"services.k8s.aws/region":          "ca-central-1",
	}))
	ref := metav1.GetControllerOf(u)
	g.Expect(ref).NotTo(BeNil())
	g.Expect(ref.UID).To(Equal(types.UID("uid-1")))
	g.Expect(ref.Kind).To(Equal("ResizePipeline"))
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	g.Expect(cmp.Diff(map[string]any{
		"name":       "Wf",
		"definition": Definition("arn:aws:lambda:ca-central-1:123456789012:function:Fn"),
		"roleARN":    "arn:aws:iam::123456789012:role/r",
		"type_":      "STANDARD",
		"tags": []any{
			map[string]any{"key": OwnerTagKey, "value": "default/demo"},
			map[string]any{"key": "team", "value": "media"},
		},
	}, spec)).To(BeEmpty())

	rp.Spec.DeletionPolicy = ""
	g.Expect(DesiredACKStateMachine(rp, d, "f", "r").GetAnnotations()).To(HaveKeyWithValue("services.k8s.aws/deletion-policy", "delete"))
}

func TestLabelValue(t *testing.T) {
	g := NewWithT(t)
	g.Expect(labelValue("demo")).To(Equal("demo"))
	long := strings.Repeat("a", 60) + ".b-" + strings.Repeat("c", 100)
	v := labelValue(long)
	g.Expect(len(v)).To(Equal(63))
	g.Expect(validation.IsValidLabelValue(v)).To(BeEmpty())
	g.Expect(labelValue(long + "x")).NotTo(Equal(v))
}

func TestReadACKStatus(t *testing.T) {
	cases := map[string]struct {
		status map[string]any
		want   ackStatus
	}{
		"none": {nil, ackStatus{}},
		"synced": {map[string]any{
			"ackResourceMetadata": map[string]any{"arn": "arn:x", "ownerAccountID": "1", "region": "r"},
			"conditions":          []any{map[string]any{"type": "ACK.ResourceSynced", "status": "True", "message": "ok"}},
		}, ackStatus{arn: "arn:x", synced: true, syncedMessage: "ok", hasSyncCondition: true}},
		"terminal": {map[string]any{
			"conditions": []any{
				map[string]any{"type": "ACK.ResourceSynced", "status": "False"},
				map[string]any{"type": "ACK.Terminal", "status": "True", "reason": "R", "message": "bad role"},
			},
		}, ackStatus{hasSyncCondition: true, terminal: true, terminalReason: "R", terminalMessage: "bad role"}},
		"terminal false": {map[string]any{
			"conditions": []any{map[string]any{"type": "ACK.Terminal", "status": "False", "message": "old"}},
		}, ackStatus{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{}}
			if tc.status != nil {
				u.Object["status"] = tc.status
			}
			if diff := cmp.Diff(tc.want, readACKStatus(u), cmp.AllowUnexported(ackStatus{})); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// fakeMapper answers RESTMapping for the StateMachine kind from a list of
// answers, one per call, and counts the calls.
type fakeMapper struct {
	meta.RESTMapper
	answers []error
	calls   int
}

func (m *fakeMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	err := m.answers[min(m.calls, len(m.answers)-1)]
	m.calls++
	if err != nil {
		return nil, err
	}
	return &meta.RESTMapping{GroupVersionKind: ACKStateMachineGVK}, nil
}

var noMatch = &meta.NoKindMatchError{GroupKind: ACKStateMachineGVK.GroupKind(), SearchedVersions: []string{"v1alpha1"}}

func TestResolveProvisioner(t *testing.T) {
	discoveryDown := errors.New("the server is currently unable to handle the request")
	cases := map[string]struct {
		want      pipelinesv1alpha1.Provisioner
		discovery error
		kind      pipelinesv1alpha1.Provisioner
		reason    string // of the error, "" for none
		retryable bool
	}{
		"Auto, served":             {pipelinesv1alpha1.ProvisionerAuto, nil, pipelinesv1alpha1.ProvisionerACK, "", false},
		"unset, served":            {"", nil, pipelinesv1alpha1.ProvisionerACK, "", false},
		"Auto, not served":         {pipelinesv1alpha1.ProvisionerAuto, noMatch, pipelinesv1alpha1.ProvisionerSDK, "", false},
		"Auto, discovery fails":    {pipelinesv1alpha1.ProvisionerAuto, discoveryDown, "", "", true},
		"ACK, served":              {pipelinesv1alpha1.ProvisionerACK, nil, pipelinesv1alpha1.ProvisionerACK, "", false},
		"ACK, not served":          {pipelinesv1alpha1.ProvisionerACK, noMatch, "", ReasonACKNotInstalled, false},
		"SDK, served":              {pipelinesv1alpha1.ProvisionerSDK, nil, pipelinesv1alpha1.ProvisionerSDK, "", false},
		"SDK, discovery not asked": {pipelinesv1alpha1.ProvisionerSDK, discoveryDown, pipelinesv1alpha1.ProvisionerSDK, "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			a := &ACKStateMachines{Mapper: &fakeMapper{answers: []error{tc.discovery}}}
			p, err := a.resolve(context.Background(), tc.want)
			switch {
			case tc.retryable:
				g.Expect(err).To(HaveOccurred())
				g.Expect(Classify(err)).To(Equal(Retryable), "a failed discovery must not flip Auto to SDK")
			case tc.reason != "":
				g.Expect(err).To(HaveOccurred())
				g.Expect(Classify(err)).To(Equal(Terminal))
				g.Expect(reasonFor(err)).To(Equal(tc.reason))
				g.Expect(err.Error()).To(ContainSubstring("install the ACK sfn-controller"))
			default:
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(p.Kind()).To(Equal(tc.kind))
			}
		})
	}
}

func TestWaitingForACKIsRetryable(t *testing.T) {
	g := NewWithT(t)
	err := fmt.Errorf("deleting the stateMachine: %w", &waitingForACK{"waiting"})
	g.Expect(Classify(err)).To(Equal(Retryable))
	g.Expect(reasonFor(err)).To(Equal(ReasonACKSyncing))
}

// TestNotServedIsRechecked: a "not served" answer stands for RecheckAfter,
// then discovery is asked again and a CRD installed meanwhile is found.
func TestNotServedIsRechecked(t *testing.T) {
	g := NewWithT(t)
	now := time.Unix(1000, 0)
	m := &fakeMapper{answers: []error{noMatch, nil}}
	a := &ACKStateMachines{Mapper: m, RecheckAfter: time.Minute, now: func() time.Time { return now }}
	ctx := context.Background()
	for range 3 {
		served, err := a.served(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(served).To(BeFalse())
	}
	g.Expect(m.calls).To(Equal(1), "asked once within RecheckAfter")
	now = now.Add(time.Minute)
	served, err := a.served(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(served).To(BeTrue())
	g.Expect(m.calls).To(Equal(2))
}

// TestACKStateMachines covers the ACK provisioner end to end, for each CRD.
func TestACKStateMachines(t *testing.T) {
	s := requireSuite(t)
	crds := map[string]string{"fixture": filepath.Join("testdata", "ack", "statemachines.yaml")}
	if _, err := os.Stat(realACKCRD); err == nil {
		crds["ackcrd"] = realACKCRD
	} else {
		t.Logf("ACK's own CRD is not at %s: testing against the fixture only", realACKCRD)
	}
	for variant, crd := range crds {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			e := startACKEnv(t, s, variant, crd)
			e.run(t)
		})
	}
}

// ackEnv is an API server with the reconciler (and, once the CRD is
// installed, the ACK stand-in) running against it.
type ackEnv struct {
	// t is the variant's test, which owns the env's cleanups.
	t       *testing.T
	s       *testSuite
	variant string
	crdPath string
	cfg     *rest.Config
	scheme  *runtime.Scheme
	k8s     client.Client
	rec     *countingRecorder
	standIn *ackStandIn
}

func startACKEnv(t *testing.T, s *testSuite, variant, crdPath string) *ackEnv {
	t.Helper()
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(pipelinesv1alpha1.AddToScheme(scheme))
	rec := &countingRecorder{}
	factory, err := NewClientFactory(context.Background(), AWSOptions{Region: testRegion, EndpointURL: localAWSEndpoint, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ack := NewACKStateMachines(mgr)
	ack.PollInterval = 500 * time.Millisecond
	ack.RecheckAfter = 500 * time.Millisecond
	if err := (&ResizePipelineReconciler{
		Client:        mgr.GetClient(),
		Events:        mgr.GetEventRecorder("resize-operator"),
		AWS:           factory,
		Bundle:        s.bundle,
		DefaultRegion: testRegion,
		EndpointURL:   localAWSEndpoint,
		ResyncPeriod:  testResync,
		Provisioners:  map[pipelinesv1alpha1.Provisioner]StateMachineProvisioner{pipelinesv1alpha1.ProvisionerACK: ack},
	}).SetupWithManager(mgr, 2); err != nil {
		t.Fatal(err)
	}
	startManager(t, mgr)
	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &ackEnv{t: t, s: s, variant: variant, crdPath: crdPath, cfg: cfg, scheme: scheme, k8s: k8s, rec: rec}
}

func startManager(t *testing.T, mgr ctrl.Manager) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// installCRD installs the StateMachine CRD (as installing ACK would) and
// starts the ACK stand-in.
func (e *ackEnv) installCRD(t *testing.T) {
	t.Helper()
	owner := e.t
	if _, err := envtest.InstallCRDs(e.cfg, envtest.CRDInstallOptions{Paths: []string{e.crdPath}, ErrorIfPathMissing: true}); err != nil {
		t.Fatalf("installing %s: %v", e.crdPath, err)
	}
	mgr, err := ctrl.NewManager(e.cfg, ctrl.Options{
		Scheme:                 e.scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.standIn = &ackStandIn{client: mgr.GetClient(), sfn: e.s.sfn, terminal: map[types.NamespacedName]string{}}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(ACKStateMachineGVK)
	if err := ctrl.NewControllerManagedBy(mgr).For(obj).Named("ack-standin").Complete(e.standIn); err != nil {
		t.Fatal(err)
	}
	startManager(owner, mgr)
}

func (e *ackEnv) get(g Gomega, rp *pipelinesv1alpha1.ResizePipeline) *pipelinesv1alpha1.ResizePipeline {
	out := &pipelinesv1alpha1.ResizePipeline{}
	g.Expect(e.k8s.Get(context.Background(), client.ObjectKeyFromObject(rp), out)).To(Succeed())
	return out
}

func (e *ackEnv) stateMachineObject(rp *pipelinesv1alpha1.ResizePipeline) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ACKStateMachineGVK)
	err := e.k8s.Get(context.Background(), ackObjectKey(rp), u)
	return u, err
}

// waitReady waits for Ready=True on the current generation with the given
// provisioner in use.
func (e *ackEnv) waitReady(t *testing.T, rp *pipelinesv1alpha1.ResizePipeline, p pipelinesv1alpha1.Provisioner) *pipelinesv1alpha1.ResizePipeline {
	t.Helper()
	var got *pipelinesv1alpha1.ResizePipeline
	NewWithT(t).Eventually(func(g Gomega) {
		got = e.get(g, rp)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(got.Status.StateMachineProvisioner).To(Equal(p))
		c := meta.FindStatusCondition(got.Status.Conditions, pipelinesv1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "Ready: %s: %s", c.Reason, c.Message)
	}).WithTimeout(readyTimeout).WithPolling(poll).Should(Succeed())
	return got
}

func (e *ackEnv) update(t *testing.T, rp *pipelinesv1alpha1.ResizePipeline, mutate func(*pipelinesv1alpha1.ResizePipeline)) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		cur := e.get(g, rp)
		mutate(cur)
		g.Expect(e.k8s.Update(context.Background(), cur)).To(Succeed())
	}).WithTimeout(10 * time.Second).Should(Succeed())
}

func (e *ackEnv) deleteAndWait(t *testing.T, rp *pipelinesv1alpha1.ResizePipeline) {
	t.Helper()
	ctx := context.Background()
	g := NewWithT(t)
	g.Expect(client.IgnoreNotFound(e.k8s.Delete(ctx, rp))).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(e.k8s.Get(ctx, client.ObjectKeyFromObject(rp), &pipelinesv1alpha1.ResizePipeline{}))
	}).WithTimeout(readyTimeout).WithPolling(poll).Should(BeTrue(), "pipeline %s still exists", rp.Name)
}

// run is one scenario: each step builds on the previous ones, so the first
// that fails ends it.
func (e *ackEnv) run(t *testing.T) {
	ctx := context.Background()
	s := e.s
	suffix := e.variant + "-" + s.runID

	// Two pipelines before ACK is installed: Auto, and one that asks for
	// ACK (kept on deletion, to test ACK's retain policy).
	na := s.names("aa" + e.variant)
	auto := newPipeline("ack-auto-"+suffix, na)
	nb := s.names("ab" + e.variant)
	only := newPipeline("ack-only-"+suffix, nb)
	only.Spec.StateMachine.Provisioner = pipelinesv1alpha1.ProvisionerACK
	only.Spec.DeletionPolicy = pipelinesv1alpha1.DeletionPolicyRetain
	if err := e.k8s.Create(ctx, auto); err != nil {
		t.Fatal(err)
	}
	if err := e.k8s.Create(ctx, only); err != nil {
		t.Fatal(err)
	}

	var sdkARN string
	if !t.Run("Auto without the CRD uses the SDK", func(t *testing.T) {
		got := e.waitReady(t, auto, pipelinesv1alpha1.ProvisionerSDK)
		sdkARN = got.Status.Resources.StateMachineARN
		NewWithT(t).Expect(sdkARN).To(ContainSubstring(":stateMachine:" + na.stateMachine))
	}) {
		return
	}

	if !t.Run("ACK without the CRD asks to install the sfn-controller, without a hot loop", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func(g Gomega) {
			got := e.get(g, only)
			c := meta.FindStatusCondition(got.Status.Conditions, pipelinesv1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(ReasonACKNotInstalled))
			g.Expect(c.Message).To(ContainSubstring("install the ACK sfn-controller"))
			sm := meta.FindStatusCondition(got.Status.Conditions, pipelinesv1alpha1.ConditionStateMachineReady)
			g.Expect(sm.Reason).To(Equal(ReasonACKNotInstalled))
		}).WithTimeout(readyTimeout).WithPolling(poll).Should(Succeed())
		// A terminal condition requeues at the resync period: about one look
		// at the function per period.
		mark := e.rec.mark()
		time.Sleep(2 * testResync)
		looks := countByOperation(e.rec.since(mark, "default/"+only.Name), nil)["Lambda.GetFunction"]
		g.Expect(looks).To(BeNumerically("<=", 6), "GetFunction calls in %v", 2*testResync)
	}) {
		return
	}

	// From here on the API's integration must always name a state machine
	// that exists.
	watch := e.watchIntegration(t, auto)

	if !t.Run("Auto picks ACK once the CRD is installed and adopts the SDK state machine", func(t *testing.T) {
		e.installCRD(t)
		g := NewWithT(t)
		got := e.waitReady(t, auto, pipelinesv1alpha1.ProvisionerACK)
		g.Expect(got.Status.Resources.StateMachineARN).To(Equal(sdkARN), "the API keeps its state machine")
		u, err := e.stateMachineObject(auto)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(u.GetAnnotations()).To(HaveKeyWithValue("services.k8s.aws/adoption-policy", "adopt-or-create"))
		g.Expect(u.GetAnnotations()).To(HaveKeyWithValue("services.k8s.aws/adoption-fields", fmt.Sprintf(`{"arn":%q}`, sdkARN)))
		g.Expect(u.GetAnnotations()).To(HaveKeyWithValue("services.k8s.aws/deletion-policy", "delete"))
		g.Expect(u.GetAnnotations()).To(HaveKeyWithValue("services.k8s.aws/region", testRegion))
		g.Expect(u.GetLabels()).To(HaveKeyWithValue(PipelineLabel, auto.Name))
		g.Expect(metav1.IsControlledBy(u, got)).To(BeTrue())
		g.Expect(e.standIn.adopted(client.ObjectKeyFromObject(u))).To(BeTrue())
		e.expectOneStateMachine(g, na.stateMachine, sdkARN)
	}) {
		return
	}

	if !t.Run("ACK requested is picked up once the CRD is installed", func(t *testing.T) {
		got := e.waitReady(t, only, pipelinesv1alpha1.ProvisionerACK)
		g := NewWithT(t)
		u, err := e.stateMachineObject(only)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(u.GetAnnotations()).To(HaveKeyWithValue("services.k8s.aws/deletion-policy", "retain"))
		g.Expect(u.GetAnnotations()).NotTo(HaveKey("services.k8s.aws/adoption-policy"), "nothing to adopt")
		arn, _, _ := unstructured.NestedString(u.Object, "status", "ackResourceMetadata", "arn")
		g.Expect(got.Status.Resources.StateMachineARN).To(Equal(arn))
		e.expectOneStateMachine(g, nb.stateMachine, arn)
	}) {
		return
	}

	if !t.Run("changes reach the object and, through ACK, AWS", func(t *testing.T) {
		g := NewWithT(t)
		got := e.get(g, auto)
		key := ackObjectKey(auto)
		want := Definition(got.Status.Resources.FunctionARN)
		old := `{"StartAt":"Old","States":{"Old":{"Type":"Pass","End":true}}}`
		// The state an older controller version would leave behind: another
		// definition in the object and in AWS, which the stand-in leaves
		// alone while paused.
		e.standIn.pause(key, true)
		u, err := e.stateMachineObject(auto)
		g.Expect(err).NotTo(HaveOccurred())
		base := u.DeepCopy()
		g.Expect(unstructured.SetNestedField(u.Object, old, "spec", "definition")).To(Succeed())
		g.Expect(e.k8s.Patch(ctx, u, client.MergeFrom(base))).To(Succeed())
		_, err = s.sfn.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(sdkARN), Definition: aws.String(old)})
		g.Expect(err).NotTo(HaveOccurred())
		mark := e.rec.mark()
		e.update(t, auto, func(rp *pipelinesv1alpha1.ResizePipeline) {
			rp.Spec.Tags = map[string]string{"team": "media", "cost-center": "42"}
		})
		g.Eventually(func(g Gomega) {
			u, err := e.stateMachineObject(auto)
			g.Expect(err).NotTo(HaveOccurred())
			def, _, _ := unstructured.NestedString(u.Object, "spec", "definition")
			g.Expect(def).To(Equal(want))
			tags, _, _ := unstructured.NestedSlice(u.Object, "spec", "tags")
			g.Expect(tags).To(ContainElement(map[string]any{"key": "cost-center", "value": "42"}))
		}).WithTimeout(30 * time.Second).WithPolling(poll).Should(Succeed())
		e.standIn.pause(key, false)
		g.Eventually(func(g Gomega) {
			sm, err := s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(sdkARN)})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(SameJSON(aws.ToString(sm.Definition), want)).To(BeTrue(), aws.ToString(sm.Definition))
			tags, err := s.sfn.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(sdkARN)})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(tags.Tags).To(ContainElement(sfntypes.Tag{Key: aws.String("cost-center"), Value: aws.String("42")}))
		}).WithTimeout(30 * time.Second).WithPolling(poll).Should(Succeed())
		e.waitReady(t, auto, pipelinesv1alpha1.ProvisionerACK)
		writes := countByOperation(e.rec.since(mark, "default/"+auto.Name), func(c AWSCall) bool {
			return c.Service == "SFN" && isMutating(c.Operation)
		})
		g.Expect(writes).To(BeEmpty(), "in ACK mode the controller leaves Step Functions to ACK")
	}) {
		return
	}

	if !t.Run("ACK.Terminal surfaces in StateMachineReady", func(t *testing.T) {
		g := NewWithT(t)
		key := ackObjectKey(auto)
		e.standIn.setTerminal(key, "StateMachineLimitExceeded: too many state machines")
		g.Eventually(func(g Gomega) {
			got := e.get(g, auto)
			c := meta.FindStatusCondition(got.Status.Conditions, pipelinesv1alpha1.ConditionStateMachineReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(ReasonACKTerminal))
			g.Expect(c.Message).To(ContainSubstring("StateMachineLimitExceeded: too many state machines"))
			r := meta.FindStatusCondition(got.Status.Conditions, pipelinesv1alpha1.ConditionReady)
			g.Expect(r.Status).To(Equal(metav1.ConditionFalse))
		}).WithTimeout(30 * time.Second).WithPolling(poll).Should(Succeed())
		e.standIn.setTerminal(key, "")
		e.waitReady(t, auto, pipelinesv1alpha1.ProvisionerACK)
	}) {
		return
	}

	if !t.Run("switching to SDK releases the object and keeps the state machine", func(t *testing.T) {
		g := NewWithT(t)
		// While ACK has not let go, the SDK provisioner waits and says so.
		key := ackObjectKey(auto)
		e.standIn.pause(key, true)
		e.update(t, auto, func(rp *pipelinesv1alpha1.ResizePipeline) {
			rp.Spec.StateMachine.Provisioner = pipelinesv1alpha1.ProvisionerSDK
		})
		g.Eventually(func(g Gomega) {
			got := e.get(g, auto)
			c := meta.FindStatusCondition(got.Status.Conditions, pipelinesv1alpha1.ConditionStateMachineReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(ReasonHandingOver))
			g.Expect(c.Message).To(ContainSubstring("the API keeps using " + sdkARN))
			u, err := e.stateMachineObject(auto)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(u.GetDeletionTimestamp()).NotTo(BeNil())
			g.Expect(u.GetAnnotations()).To(HaveKeyWithValue("services.k8s.aws/deletion-policy", "retain"))
		}).WithTimeout(30 * time.Second).WithPolling(poll).Should(Succeed())
		e.standIn.pause(key, false)
		got := e.waitReady(t, auto, pipelinesv1alpha1.ProvisionerSDK)
		g.Expect(got.Status.Resources.StateMachineARN).To(Equal(sdkARN))
		_, err := e.stateMachineObject(auto)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the StateMachine object is gone: %v", err)
		g.Expect(e.standIn.deletions(ackObjectKey(auto))).To(Equal([]string{"retain"}))
		e.expectOneStateMachine(g, na.stateMachine, sdkARN)
	}) {
		return
	}

	if !t.Run("switching back to ACK adopts it again", func(t *testing.T) {
		g := NewWithT(t)
		e.update(t, auto, func(rp *pipelinesv1alpha1.ResizePipeline) {
			rp.Spec.StateMachine.Provisioner = pipelinesv1alpha1.ProvisionerACK
		})
		got := e.waitReady(t, auto, pipelinesv1alpha1.ProvisionerACK)
		g.Expect(got.Status.Resources.StateMachineARN).To(Equal(sdkARN))
		e.expectOneStateMachine(g, na.stateMachine, sdkARN)
	}) {
		return
	}

	watch.stop(t)

	if !t.Run("deletion deletes the object after the API, waits for it, and the state machine goes", func(t *testing.T) {
		g := NewWithT(t)
		got := e.get(g, auto)
		apiID := got.Status.Resources.RestAPIID
		key := ackObjectKey(auto)
		var sawAPI, sawPipeline error
		e.standIn.onDelete(key, func() {
			_, sawAPI = s.apigw.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(apiID)})
			sawPipeline = e.k8s.Get(ctx, client.ObjectKeyFromObject(auto), &pipelinesv1alpha1.ResizePipeline{})
		})
		// While ACK holds the object, the pipeline waits and says why.
		e.standIn.pause(key, true)
		g.Expect(e.k8s.Delete(ctx, got)).To(Succeed())
		g.Eventually(func(g Gomega) {
			c := meta.FindStatusCondition(e.get(g, auto).Status.Conditions, pipelinesv1alpha1.ConditionReady)
			g.Expect(c.Reason).To(Equal(ReasonACKSyncing))
			g.Expect(c.Message).To(ContainSubstring("waiting for the ACK sfn-controller to delete StateMachine"))
		}).WithTimeout(30 * time.Second).WithPolling(poll).Should(Succeed())
		e.standIn.pause(key, false)
		e.deleteAndWait(t, got)
		g.Expect(e.standIn.deletions(key)).To(Equal([]string{"retain", "delete"}))
		g.Expect(isCode(sawAPI, "NotFoundException")).To(BeTrue(), "the REST API is gone before the StateMachine: %v", sawAPI)
		g.Expect(sawPipeline).NotTo(HaveOccurred(), "the pipeline waits for its StateMachine")
		_, err := e.stateMachineObject(auto)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		expectStateMachineGone(ctx, g, s, sdkARN)
	}) {
		return
	}

	t.Run("deletion with Retain releases the object and keeps the state machine", func(t *testing.T) {
		g := NewWithT(t)
		got := e.get(g, only)
		arn := got.Status.Resources.StateMachineARN
		e.deleteAndWait(t, got)
		g.Expect(e.standIn.deletions(ackObjectKey(only))).To(Equal([]string{"retain"}))
		_, err := s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		g.Expect(err).NotTo(HaveOccurred())
		_, _ = s.sfn.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)})
	})
}

// expectOneStateMachine checks that the pipeline has exactly one state
// machine in AWS, arn: a handover left nothing behind.
func (e *ackEnv) expectOneStateMachine(g Gomega, name, arn string) {
	var arns []string
	p := sfn.NewListStateMachinesPaginator(e.s.sfn, &sfn.ListStateMachinesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
		for _, sm := range page.StateMachines {
			if aws.ToString(sm.Name) == name {
				arns = append(arns, aws.ToString(sm.StateMachineArn))
			}
		}
	}
	g.Expect(arns).To(Equal([]string{arn}))
}

func expectStateMachineGone(ctx context.Context, g Gomega, s *testSuite, arn string) {
	g.Eventually(func() bool {
		out, err := s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		return isCode(err, "StateMachineDoesNotExist") || (err == nil && out.Status == sfntypes.StateMachineStatusDeleting)
	}).WithTimeout(10*time.Second).WithPolling(poll).Should(BeTrue(), "state machine %s", arn)
}

var integrationARN = regexp.MustCompile(`"stateMachineArn": "([^"]+)"`)

// integrationWatch polls the API's integration while pipelines switch
// provisioner, and records every time it named a state machine that did not
// exist.
type integrationWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	seen   map[string]int
	broken []string
}

func (e *ackEnv) watchIntegration(t *testing.T, rp *pipelinesv1alpha1.ResizePipeline) *integrationWatch {
	g := NewWithT(t)
	got := e.get(g, rp)
	apiID := aws.String(got.Status.Resources.RestAPIID)
	resources, err := e.s.apigw.GetResources(context.Background(), &apigateway.GetResourcesInput{RestApiId: apiID})
	g.Expect(err).NotTo(HaveOccurred())
	var resourceID *string
	for _, r := range resources.Items {
		if aws.ToString(r.Path) == "/resize" {
			resourceID = r.Id
		}
	}
	g.Expect(resourceID).NotTo(BeNil())
	ctx, cancel := context.WithCancel(context.Background())
	w := &integrationWatch{cancel: cancel, done: make(chan struct{}), seen: map[string]int{}}
	t.Cleanup(cancel)
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			in, err := e.s.apigw.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: apiID, ResourceId: resourceID, HttpMethod: aws.String("POST")})
			if err == nil {
				m := integrationARN.FindStringSubmatch(in.RequestTemplates["application/json"])
				w.mu.Lock()
				if m == nil {
					w.broken = append(w.broken, "no state machine in the request template")
				} else {
					w.seen[m[1]]++
					out, err := e.s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(m[1])})
					if ctx.Err() == nil && (err != nil || out.Status != sfntypes.StateMachineStatusActive) {
						w.broken = append(w.broken, fmt.Sprintf("%s: %v", m[1], err))
					}
				}
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *integrationWatch) stop(t *testing.T) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.broken) > 0 {
		t.Errorf("the API named a missing state machine: %v", w.broken)
	}
	if len(w.seen) != 1 {
		t.Errorf("the API's state machine changed during the handovers: %v", w.seen)
	}
}

// ackStandIn stands in for the ACK sfn-controller in tests. Like the real
// one it watches StateMachine objects, holds them with its finalizer, creates,
// adopts (services.k8s.aws/adoption-policy adopt-or-create with the ARN in
// services.k8s.aws/adoption-fields), updates and deletes (unless the
// deletion policy is retain) the state machine through the SDK, and reports
// status.ackResourceMetadata and the ACK.ResourceSynced / ACK.Terminal
// conditions. It can be told to report ACK.Terminal for an object, to leave
// an object alone for a while, and to run a hook when it deletes one.
type ackStandIn struct {
	client client.Client
	sfn    *sfn.Client

	mu         sync.Mutex
	terminal   map[types.NamespacedName]string
	paused     map[types.NamespacedName]bool
	adoptedARN map[types.NamespacedName]string
	deleted    map[types.NamespacedName][]string
	hooks      map[types.NamespacedName]func()
}

const ackFinalizer = "finalizers.sfn.services.k8s.aws/StateMachine"

func (a *ackStandIn) setTerminal(key types.NamespacedName, msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.terminal[key] = msg
}

func (a *ackStandIn) pause(key types.NamespacedName, on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.paused == nil {
		a.paused = map[types.NamespacedName]bool{}
	}
	a.paused[key] = on
}

func (a *ackStandIn) onDelete(key types.NamespacedName, f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hooks == nil {
		a.hooks = map[types.NamespacedName]func(){}
	}
	a.hooks[key] = f
}

func (a *ackStandIn) adopted(key types.NamespacedName) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.adoptedARN[key] != ""
}

// deletions lists the deletion policies of the deletions of key, in order.
func (a *ackStandIn) deletions(key types.NamespacedName) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.deleted[key]...)
}

// resync is how often the stand-in looks at an object again, as ACK's
// periodic resync does (much more often here, so told faults show at once).
const standInResync = 500 * time.Millisecond

func (a *ackStandIn) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ACKStateMachineGVK)
	if err := a.client.Get(ctx, req.NamespacedName, u); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	a.mu.Lock()
	paused, terminal, hook := a.paused[req.NamespacedName], a.terminal[req.NamespacedName], a.hooks[req.NamespacedName]
	a.mu.Unlock()
	if paused {
		return ctrl.Result{RequeueAfter: standInResync}, nil
	}
	arn, _, _ := unstructured.NestedString(u.Object, "status", "ackResourceMetadata", "arn")

	if !u.GetDeletionTimestamp().IsZero() {
		if !controllerutil.ContainsFinalizer(u, ackFinalizer) {
			return ctrl.Result{}, nil
		}
		policy := u.GetAnnotations()[ackDeletionPolicyAnnotation]
		if hook != nil {
			hook()
		}
		if policy != "retain" && arn != "" {
			if _, err := a.sfn.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil &&
				!isCode(err, "StateMachineDoesNotExist") {
				return ctrl.Result{}, err
			}
		}
		a.mu.Lock()
		if a.deleted == nil {
			a.deleted = map[types.NamespacedName][]string{}
		}
		a.deleted[req.NamespacedName] = append(a.deleted[req.NamespacedName], policy)
		a.mu.Unlock()
		controllerutil.RemoveFinalizer(u, ackFinalizer)
		return ctrl.Result{}, a.client.Update(ctx, u)
	}
	if controllerutil.AddFinalizer(u, ackFinalizer) {
		if err := a.client.Update(ctx, u); err != nil {
			return ctrl.Result{}, err
		}
	}
	if terminal != "" {
		return ctrl.Result{RequeueAfter: standInResync}, a.writeStatus(ctx, u, arn, terminal)
	}
	if region := u.GetAnnotations()[ackRegionAnnotation]; region != testRegion {
		return ctrl.Result{}, a.writeStatus(ctx, u, arn, "the stand-in serves "+testRegion+", not "+region)
	}

	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	name, _ := spec["name"].(string)
	def, _ := spec["definition"].(string)
	role, _ := spec["roleARN"].(string)
	typ, _ := spec["type_"].(string)
	tags := map[string]string{}
	list, _ := spec["tags"].([]any)
	for _, t := range list {
		m, _ := t.(map[string]any)
		k, _ := m["key"].(string)
		v, _ := m["value"].(string)
		tags[k] = v
	}

	if arn == "" && u.GetAnnotations()[ackAdoptionPolicyAnnotation] == ackAdoptOrCreate {
		var fields struct {
			ARN string `json:"arn"`
		}
		if err := json.Unmarshal([]byte(u.GetAnnotations()[ackAdoptionFieldsAnnotation]), &fields); err != nil {
			return ctrl.Result{}, a.writeStatus(ctx, u, "", "services.k8s.aws/adoption-fields: "+err.Error())
		}
		if _, err := a.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(fields.ARN)}); err == nil {
			arn = fields.ARN
			a.mu.Lock()
			if a.adoptedARN == nil {
				a.adoptedARN = map[types.NamespacedName]string{}
			}
			a.adoptedARN[req.NamespacedName] = arn
			a.mu.Unlock()
		} else if !isCode(err, "StateMachineDoesNotExist") {
			return ctrl.Result{}, err
		}
	}
	if arn == "" {
		out, err := a.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role),
			Type: sfntypes.StateMachineType(typ), Tags: sfnTags(tags),
		})
		if err != nil {
			if Classify(err) == Terminal {
				return ctrl.Result{}, a.writeStatus(ctx, u, "", err.Error())
			}
			return ctrl.Result{}, err
		}
		arn = aws.ToString(out.StateMachineArn)
		// Written at once, as ACK does, so a failure below cannot lose it.
		if err := a.writeStatus(ctx, u, arn, ""); err != nil {
			return ctrl.Result{}, err
		}
	}

	cur, err := a.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		return ctrl.Result{}, err
	}
	if aws.ToString(cur.Definition) != def || aws.ToString(cur.RoleArn) != role {
		if _, err := a.sfn.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
			StateMachineArn: aws.String(arn), Definition: aws.String(def), RoleArn: aws.String(role),
		}); err != nil {
			return ctrl.Result{}, err
		}
	}
	have, err := a.sfn.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return ctrl.Result{}, err
	}
	haveMap := map[string]string{}
	var extra []string
	for _, t := range have.Tags {
		haveMap[aws.ToString(t.Key)] = aws.ToString(t.Value)
		if _, ok := tags[aws.ToString(t.Key)]; !ok {
			extra = append(extra, aws.ToString(t.Key))
		}
	}
	if missing := missingTags(tags, haveMap); len(missing) > 0 {
		if _, err := a.sfn.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: sfnTags(missing)}); err != nil {
			return ctrl.Result{}, err
		}
	}
	if len(extra) > 0 {
		if _, err := a.sfn.UntagResource(ctx, &sfn.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: extra}); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{RequeueAfter: standInResync}, a.writeStatus(ctx, u, arn, "")
}

// writeStatus reports the ARN and either ACK.ResourceSynced=True or, with a
// terminal message, ACK.Terminal=True; unchanged status is not written.
func (a *ackStandIn) writeStatus(ctx context.Context, u *unstructured.Unstructured, arn, terminal string) error {
	now := metav1.Now().UTC().Format(time.RFC3339)
	synced := map[string]any{"type": ackConditionSynced, "status": "True", "message": "Resource synced successfully", "lastTransitionTime": now}
	conds := []any{synced}
	if terminal != "" {
		synced["status"], synced["message"] = "False", "Resource not synced"
		conds = append(conds, map[string]any{"type": ackConditionTerminal, "status": "True", "message": terminal, "lastTransitionTime": now})
	}
	status := map[string]any{
		"ackResourceMetadata": map[string]any{"ownerAccountID": "000000000000", "region": testRegion},
		"conditions":          conds,
	}
	if arn != "" {
		status["ackResourceMetadata"].(map[string]any)["arn"] = arn
	}
	old, _, _ := unstructured.NestedMap(u.Object, "status")
	if sameStatusIgnoringTime(old, status) {
		return nil
	}
	next := u.DeepCopy()
	if err := unstructured.SetNestedMap(next.Object, status, "status"); err != nil {
		return err
	}
	err := a.client.Status().Update(ctx, next)
	if err == nil {
		u.Object = next.Object
	}
	return err
}

func sameStatusIgnoringTime(a, b map[string]any) bool {
	strip := func(m map[string]any) string {
		c := runtime.DeepCopyJSON(m)
		conds, _, _ := unstructured.NestedSlice(c, "conditions")
		for _, x := range conds {
			delete(x.(map[string]any), "lastTransitionTime")
		}
		_ = unstructured.SetNestedSlice(c, conds, "conditions")
		b, _ := json.Marshal(c)
		return string(b)
	}
	if a == nil {
		return false
	}
	return strip(a) == strip(b)
}
