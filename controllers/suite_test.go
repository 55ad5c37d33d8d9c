package controllers

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
	"github.com/resize-operator/resize-operator/lambda/bundle"
)

// The integration suite runs the real reconciler in a manager against a real
// kube-apiserver and etcd (envtest, from $KUBEBUILDER_ASSETS) and the local
// AWS stack (started from $LOCALAWS_BIN unless one already answers on
// 127.0.0.1:4566). It starts once for the whole package; unit tests run
// without it.

const (
	localAWSEndpoint = "http://127.0.0.1:4566"
	testRegion       = "us-east-1"
	// testResync is short so the drift test sees a resync within seconds.
	testResync = 2 * time.Second
)

type testSuite struct {
	k8s    client.Client
	rec    *countingRecorder
	faults *createFunctionFaults
	bundle CodeBundle
	// runID keeps AWS names unique when the stack is shared with earlier runs.
	runID string

	s3     *s3.Client
	iam    *iam.Client
	lambda *lambda.Client
	sfn    *sfn.Client
	apigw  *apigateway.Client
}

var (
	suite *testSuite
	// suiteSkip says why the integration suite is not available.
	suiteSkip string
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	stop, err := startSuite()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "integration suite:", err)
			return 1
		}
		suiteSkip = err.Error()
	}
	defer stop()
	code := m.Run()
	// After every test: the AWS operations they saw against the IAM policy.
	if failures := checkObservedOperations(); code == 0 && len(failures) > 0 {
		fmt.Fprintln(os.Stderr, "FAIL: IAM policy check:\n  "+strings.Join(failures, "\n  "))
		code = 1
	}
	return code
}

// requireSuite skips (or, in CI, fails) a test that needs the suite.
func requireSuite(t *testing.T) *testSuite {
	t.Helper()
	if suite == nil {
		t.Skip("integration suite unavailable: " + suiteSkip)
	}
	return suite
}

func startSuite() (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
			stop = func() {}
		}
	}()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return stop, errors.New("KUBEBUILDER_ASSETS is not set (make envtest; KUBEBUILDER_ASSETS=bin/k8s)")
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": testRegion,
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		_ = os.Setenv(k, v)
	}
	_ = os.Unsetenv("AWS_PROFILE")

	stopAWS, err := ensureLocalAWS()
	if err != nil {
		return stop, err
	}
	stops = append(stops, stopAWS)

	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(suiteLog())))
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return stop, fmt.Errorf("starting envtest: %w", err)
	}
	stops = append(stops, func() { _ = env.Stop() })

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(pipelinesv1alpha1.AddToScheme(scheme))

	rec := &countingRecorder{}
	factory, err := NewClientFactory(context.Background(), AWSOptions{Region: testRegion, EndpointURL: localAWSEndpoint, Recorder: rec})
	if err != nil {
		return stop, err
	}
	faults := &createFunctionFaults{remaining: map[string]int{}}
	codeBundle := testBundle()

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return stop, err
	}
	if err := (&ResizePipelineReconciler{
		Client:        mgr.GetClient(),
		Events:        mgr.GetEventRecorder("resize-operator"),
		AWS:           faultySource{inner: factory, faults: faults},
		Bundle:        codeBundle,
		DefaultRegion: testRegion,
		EndpointURL:   localAWSEndpoint,
		ResyncPeriod:  testResync,
	}).SetupWithManager(mgr, 4); err != nil {
		return stop, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stops = append(stops, func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintf(os.Stderr, "manager stopped with an error: %v\n", err)
		}
	})

	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return stop, err
	}
	awsCfg := aws.Config{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(localAWSEndpoint),
	}
	id := make([]byte, 3)
	_, _ = rand.Read(id)
	suite = &testSuite{
		k8s: k8s, rec: rec, faults: faults, bundle: codeBundle, runID: hex.EncodeToString(id),
		s3:     s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true }),
		iam:    iam.NewFromConfig(awsCfg),
		lambda: lambda.NewFromConfig(awsCfg),
		sfn:    sfn.NewFromConfig(awsCfg),
		apigw:  apigateway.NewFromConfig(awsCfg),
	}
	return stop, nil
}

// suiteLog is where the manager logs: a file, so test output stays readable
// (its path is printed), or stderr with RESIZE_TEST_LOG=stderr.
func suiteLog() *os.File {
	if os.Getenv("RESIZE_TEST_LOG") == "stderr" {
		return os.Stderr
	}
	f, err := os.CreateTemp("", "resize-controller-test-*.log")
	if err != nil {
		return os.Stderr
	}
	fmt.Fprintln(os.Stderr, "controller log:", f.Name())
	return f
}

func localAWSHealthy() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(localAWSEndpoint + "/_localaws/health")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// ensureLocalAWS uses the stack that answers on 127.0.0.1:4566, or starts
// $LOCALAWS_BIN and stops it at the end.
func ensureLocalAWS() (func(), error) {
	if localAWSHealthy() {
		return func() {}, nil
	}
	bin := os.Getenv("LOCALAWS_BIN")
	if bin == "" {
		return nil, errors.New("LOCALAWS_BIN is not set and nothing answers on " + localAWSEndpoint + " (make localaws)")
	}
	dir, err := os.MkdirTemp("", "resize-localaws-")
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "localaws.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--state-dir", filepath.Join(dir, "state"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: the Lambda bootstraps it starts go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		_ = logFile.Close()
		_ = os.RemoveAll(dir)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !localAWSHealthy() {
		select {
		case <-exited:
			out, _ := os.ReadFile(logFile.Name())
			stop()
			return nil, fmt.Errorf("%s exited before it was healthy:\n%s", bin, out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("%s did not become healthy within 60s", bin)
		}
	}
	return stop, nil
}

// testBundle is the real embedded bundle when `make lambda` has built it,
// else a tiny stand-in, so the controller tests do not depend on the
// function's build.
func testBundle() CodeBundle {
	if _, err := bundle.SHA256("x86_64"); err == nil {
		return &FuncBundle{ZipFunc: bundle.Zip, SHA256Func: bundle.SHA256}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Store, Modified: time.Unix(0, 0).UTC()})
	_, _ = w.Write([]byte("#!/bin/sh\nexit 1\n"))
	_ = zw.Close()
	data := buf.Bytes()
	return &FuncBundle{
		ZipFunc: func(string) ([]byte, error) { return data, nil },
		SHA256Func: func(string) (string, error) {
			return codeSHA256(data), nil
		},
	}
}

// countingRecorder keeps every AWS call the controller made.
type countingRecorder struct {
	mu    sync.Mutex
	calls []AWSCall
}

func (r *countingRecorder) RecordAWSCall(_ context.Context, c AWSCall) {
	observedOps.add(c)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

// mark is a position in the call log.
func (r *countingRecorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// since returns the calls made for pipeline after mark.
func (r *countingRecorder) since(mark int, pipeline string) []AWSCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []AWSCall
	for _, c := range r.calls[mark:] {
		if c.Pipeline == pipeline {
			out = append(out, c)
		}
	}
	return out
}

// isMutating tells writes from reads by the operation's verb.
func isMutating(op string) bool {
	for _, p := range []string{"Get", "Head", "List", "Describe"} {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return true
}

// countByOperation is "Service.Operation" → count.
func countByOperation(calls []AWSCall, filter func(AWSCall) bool) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		if filter == nil || filter(c) {
			out[c.Service+"."+c.Operation]++
		}
	}
	return out
}

func formatCounts(m map[string]int) string {
	keys := sortedKeys(m)
	sort.Strings(keys)
	var b strings.Builder
	total := 0
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-45s %d\n", k, m[k])
		total += m[k]
	}
	fmt.Fprintf(&b, "  %-45s %d\n", "total", total)
	return b.String()
}

// createFunctionFaults makes CreateFunction fail with Lambda's
// IAM-propagation error a number of times per function name: the local
// stack does not validate roles, so it cannot produce that error itself.
type createFunctionFaults struct {
	mu        sync.Mutex
	remaining map[string]int
	injected  map[string]int
}

func (f *createFunctionFaults) set(function string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.remaining[function] = n
}

func (f *createFunctionFaults) take(function string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.remaining[function] <= 0 {
		return false
	}
	f.remaining[function]--
	if f.injected == nil {
		f.injected = map[string]int{}
	}
	f.injected[function]++
	return true
}

func (f *createFunctionFaults) count(function string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected[function]
}

type faultySource struct {
	inner  ClientSource
	faults *createFunctionFaults
}

func (s faultySource) ClientsFor(region string) *AWSClients {
	c := *s.inner.ClientsFor(region)
	c.Lambda = faultyLambda{FunctionAPI: c.Lambda, faults: s.faults}
	return &c
}

type faultyLambda struct {
	FunctionAPI
	faults *createFunctionFaults
}

func (l faultyLambda) CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, opts ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error) {
	if l.faults.take(aws.ToString(in.FunctionName)) {
		return nil, &smithy.GenericAPIError{
			Code:    "InvalidParameterValueException",
			Message: "The role defined for the function cannot be assumed by Lambda.",
			Fault:   smithy.FaultClient,
		}
	}
	return l.FunctionAPI.CreateFunction(ctx, in, opts...)
}
