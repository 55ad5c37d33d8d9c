package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

// The tests talk to a stack on the fixed address kumo's Step Functions calls
// back on. One already running there (make run-local, another package's
// tests) is used as is; otherwise TestMain builds and starts one.
const stackAddr = "127.0.0.1:4566"

var (
	endpoint = "http://" + stackAddr
	region   string
	// binary is the localaws build the tests started, or "" when they use
	// a stack that was already running.
	binary string
	// echoZip is the deployment package of testdata/echofn.
	echoZip []byte
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "localaws-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := os.RemoveAll(tmp); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()

	binary = filepath.Join(tmp, "localaws")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build localaws: %v\n%s", err, out)
		return 1
	}

	echoZip, err = buildEchoFunction(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// A stack already running from this very build (make test starts one
	// for every package) is used as is; one from another build is waited
	// for, since only one stack can hold the port kumo calls back on.
	want, err := fileSHA256(binary)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	for waited := time.Duration(0); ; waited += time.Second {
		h, err := health(endpoint)
		if err != nil {
			break
		}

		// LOCALAWS_TEST_ANY_STACK=1 accepts any build, e.g. one built
		// with -race to run these tests against it.
		if h.Build == want || os.Getenv("LOCALAWS_TEST_ANY_STACK") != "" {
			region = h.Region
			fmt.Fprintf(os.Stderr, "using the localaws already on %s (pid %d, same build)\n", endpoint, h.PID)

			return m.Run()
		}

		if waited > 3*time.Minute {
			fmt.Fprintf(os.Stderr, "a localaws from another build (pid %d) holds %s; stop it, or rebuild bin/localaws from this tree\n", h.PID, stackAddr)
			return 1
		}

		if waited == 0 {
			fmt.Fprintf(os.Stderr, "waiting for the localaws from another build (pid %d) on %s to stop\n", h.PID, stackAddr)
		}

		time.Sleep(time.Second)
	}

	stack, took, err := startStack(binary, stackAddr, filepath.Join(tmp, "state"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	fmt.Fprintf(os.Stderr, "localaws started in %s\n", took.Round(time.Millisecond))

	h, err := health(endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	region = h.Region

	code := m.Run()

	if err := stopStack(stack); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}

	return code
}

type healthDoc struct {
	Status string `json:"status"`
	Region string `json:"region"`
	PID    int    `json:"pid"`
	Build  string `json:"build"`
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}

	sum := sha256.Sum256(b)

	return hex.EncodeToString(sum[:]), nil
}

func health(base string) (healthDoc, error) {
	var h healthDoc

	c := &http.Client{Timeout: time.Second}

	resp, err := c.Get(base + "/_localaws/health")
	if err != nil {
		return h, err
	}
	defer func() { _ = resp.Body.Close() }() // decoded below; the decoder reports failures

	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("health: %s", resp.Status)
	}

	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// startStack runs the binary and waits for its health endpoint.
func startStack(bin, addr, stateDir string) (*exec.Cmd, time.Duration, error) {
	began := time.Now()
	cmd := exec.Command(bin, "--listen", addr, "--state-dir", stateDir)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr

	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}

	for time.Since(began) < 30*time.Second {
		if _, err := health("http://" + addr); err == nil {
			return cmd, time.Since(began), nil
		}

		time.Sleep(5 * time.Millisecond)
	}

	_ = cmd.Process.Kill()

	return nil, 0, errors.New("localaws did not become healthy within 30s")
}

func stopStack(cmd *exec.Cmd) error {
	_ = cmd.Process.Signal(syscall.SIGTERM)

	done := make(chan error, 1)

	go func() { done <- cmd.Wait() }()

	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		return errors.New("localaws did not stop within 15s of SIGTERM")
	}
}

// buildEchoFunction builds testdata/echofn for this machine and zips it as
// Lambda expects: an executable bootstrap at the root.
func buildEchoFunction(dir string) ([]byte, error) {
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, ".")
	cmd.Dir = filepath.Join("testdata", "echofn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)

	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build echofn: %v\n%s", err, b)
	}

	bin, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}

	return zipOf(map[string]zipEntry{"bootstrap": {data: bin, mode: 0o755}}), nil
}

type zipEntry struct {
	data []byte
	mode os.FileMode
}

func zipOf(files map[string]zipEntry) []byte {
	var buf bytes.Buffer

	zw := zip.NewWriter(&buf)

	for name, e := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(e.mode)

		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}

		if _, err := w.Write(e.data); err != nil {
			panic(err)
		}
	}

	if err := zw.Close(); err != nil {
		panic(err)
	}

	return buf.Bytes()
}

func awsConfig() aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

func clients() (*s3.Client, *iam.Client, *lambda.Client, *sfn.Client) {
	cfg := awsConfig()

	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		iam.NewFromConfig(cfg),
		lambda.NewFromConfig(cfg),
		sfn.NewFromConfig(cfg)
}

// uniq makes names unique across runs against a long-lived stack.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1_000_000_000)
}

const lambdaRole = "arn:aws:iam::000000000000:role/localaws-test"

// createEcho creates a function from the echo package and removes it when
// the test ends.
func createEcho(t *testing.T, lc *lambda.Client, name string, env map[string]string) *lambda.CreateFunctionOutput {
	t.Helper()

	out, err := lc.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Role:          aws.String(lambdaRole),
		Architectures: []lambdatypes.Architecture{hostArch()},
		Code:          &lambdatypes.FunctionCode{ZipFile: echoZip},
		Environment:   &lambdatypes.Environment{Variables: env},
		Timeout:       aws.Int32(10),
	})
	if err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}

	t.Cleanup(func() {
		_, _ = lc.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	})

	return out
}

func hostArch() lambdatypes.Architecture {
	if runtime.GOARCH == "arm64" {
		return lambdatypes.ArchitectureArm64
	}

	return lambdatypes.ArchitectureX8664
}

type echoResult struct {
	Action   string `json:"action"`
	Function string `json:"function"`
	Greeting string `json:"greeting"`
	Region   string `json:"region"`
	PID      int    `json:"pid"`
	Key      string `json:"key"`
	ARN      string `json:"arn"`
}

func invokeEcho(t *testing.T, lc *lambda.Client, name string, event string) (*lambda.InvokeOutput, echoResult) {
	t.Helper()

	out, err := lc.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(event)})
	if err != nil {
		t.Fatalf("Invoke %s: %v", name, err)
	}

	var res echoResult
	if out.FunctionError == nil {
		if err := json.Unmarshal(out.Payload, &res); err != nil {
			t.Fatalf("decode payload %s: %v", out.Payload, err)
		}
	}

	return out, res
}

func createBucket(t *testing.T, sc *s3.Client) string {
	t.Helper()

	name := uniq("localaws-test")
	if _, err := sc.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}

	return name
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}

	return ""
}

func TestFunctionRunsWithItsEnvironment(t *testing.T) {
	_, _, lc, _ := clients()
	name := uniq("echo")

	created := createEcho(t, lc, name, map[string]string{"GREETING": "hello"})
	if created.State != lambdatypes.StateActive || created.LastUpdateStatus != lambdatypes.LastUpdateStatusSuccessful {
		t.Fatalf("CreateFunction state = %s/%s, want Active/Successful", created.State, created.LastUpdateStatus)
	}

	// No wait: CreateFunction returns once the bootstrap polls for work.
	_, res := invokeEcho(t, lc, name, `{"action":"hello"}`)
	if res.Function != name || res.Greeting != "hello" || res.Region != region || res.ARN != aws.ToString(created.FunctionArn) {
		t.Errorf("function saw name=%q greeting=%q region=%q arn=%q, want %q, hello, %q, %q",
			res.Function, res.Greeting, res.Region, res.ARN, name, region, aws.ToString(created.FunctionArn))
	}

	// A client keeps Lambda's shape for a function error: 200 with
	// FunctionError, the error document as payload.
	out, _ := invokeEcho(t, lc, name, `{"action":"fail"}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "asked to fail") {
		t.Errorf("function error: FunctionError=%q payload=%s", aws.ToString(out.FunctionError), out.Payload)
	}
}

func TestConfigurationChangeRestartsFunction(t *testing.T) {
	_, _, lc, _ := clients()
	name := uniq("echo")
	createEcho(t, lc, name, map[string]string{"GREETING": "hello"})

	_, before := invokeEcho(t, lc, name, `{}`)

	upd, err := lc.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name),
		Environment:  &lambdatypes.Environment{Variables: map[string]string{"GREETING": "bonjour"}},
	})
	if err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}

	if upd.LastUpdateStatus != lambdatypes.LastUpdateStatusSuccessful {
		t.Errorf("LastUpdateStatus = %s", upd.LastUpdateStatus)
	}

	_, after := invokeEcho(t, lc, name, `{}`)
	if after.Greeting != "bonjour" || after.PID == before.PID {
		t.Errorf("after the update: greeting %q pid %d (was %d), want bonjour from a new process", after.Greeting, after.PID, before.PID)
	}

	if _, err := lc.UpdateFunctionCode(t.Context(), &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: echoZip}); err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}

	_, third := invokeEcho(t, lc, name, `{}`)
	if third.PID == after.PID || third.Greeting != "bonjour" {
		t.Errorf("after a code update: pid %d (was %d) greeting %q, want a new process keeping the environment", third.PID, after.PID, third.Greeting)
	}
}

func TestCodeUpdateFailsTheRunningInvocation(t *testing.T) {
	_, _, lc, _ := clients()
	name := uniq("echo")
	createEcho(t, lc, name, nil)

	type result struct {
		out  *lambda.InvokeOutput
		err  error
		took time.Duration
	}

	done := make(chan result, 1)

	go func() {
		began := time.Now()
		out, err := lc.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"action":"hang"}`)})
		done <- result{out, err, time.Since(began)}
	}()

	time.Sleep(500 * time.Millisecond)

	if _, err := lc.UpdateFunctionCode(t.Context(), &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: echoZip}); err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}

	select {
	case r := <-done:
		if r.err != nil || aws.ToString(r.out.FunctionError) == "" || !strings.Contains(string(r.out.Payload), "Runtime.ExitError") {
			t.Errorf("the invocation running during the update: %v %s, want Runtime.ExitError", r.err, r.out.Payload)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the invocation running during the update was not answered within 5s (function timeout 10s)")
	}

	if _, res := invokeEcho(t, lc, name, `{"action":"after"}`); res.Action != "after" {
		t.Errorf("after the update: %+v", res)
	}
}

func TestConcurrentInvocationsRunSideBySide(t *testing.T) {
	_, _, lc, _ := clients()
	name := uniq("echo")
	createEcho(t, lc, name, nil)

	const n = 3

	type result struct {
		pid int
		err error
	}

	results := make(chan result, n)
	began := time.Now()

	for range n {
		go func() {
			out, err := lc.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"action":"sleep"}`)})
			if err != nil {
				results <- result{err: err}

				return
			}

			var res echoResult

			err = json.Unmarshal(out.Payload, &res)
			results <- result{pid: res.PID, err: err}
		}()
	}

	pids := map[int]bool{}

	for range n {
		r := <-results
		if r.err != nil {
			t.Fatalf("invoke: %v", r.err)
		}

		pids[r.pid] = true
	}

	// Each invocation sleeps 1 s: one process alone would take 3 s.
	if took := time.Since(began); took > 2500*time.Millisecond || len(pids) < 2 {
		t.Errorf("%d concurrent 1 s invocations took %s in %d processes, want them side by side", n, took, len(pids))
	}
}

func TestCrashedFunctionIsRestarted(t *testing.T) {
	_, _, lc, _ := clients()
	name := uniq("echo")
	createEcho(t, lc, name, nil)

	began := time.Now()

	out, _ := invokeEcho(t, lc, name, `{"action":"crash"}`)
	if aws.ToString(out.FunctionError) == "" || !strings.Contains(string(out.Payload), "Runtime.ExitError") {
		t.Errorf("crash: FunctionError=%q payload=%s, want Runtime.ExitError", aws.ToString(out.FunctionError), out.Payload)
	}

	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("crash was reported after %s; the function timeout is 10s, it should not be waited for", took)
	}

	_, res := invokeEcho(t, lc, name, `{"action":"again"}`)
	if res.Action != "again" {
		t.Errorf("after the crash the function answered %+v", res)
	}
}

func TestFunctionFailingAtInitFailsInvocationsAtOnce(t *testing.T) {
	_, _, lc, sc := clients()
	name := uniq("echo")

	began := time.Now()
	fn := createEcho(t, lc, name, map[string]string{"FAIL_INIT": "missing configuration"})

	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("CreateFunction of a function failing at init took %s", took)
	}

	began = time.Now()

	out, _ := invokeEcho(t, lc, name, `{}`)
	if aws.ToString(out.FunctionError) == "" || !strings.Contains(string(out.Payload), "Runtime.ExitError") {
		t.Errorf("invoke: FunctionError=%q payload=%s, want Runtime.ExitError", aws.ToString(out.FunctionError), out.Payload)
	}

	sm := createMachine(t, sc, uniq("wf"), workflow(aws.ToString(fn.FunctionArn)), sfntypes.StateMachineTypeStandard)

	start, err := sc.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: sm, Input: aws.String(`{}`)})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}

	if done := waitExecution(t, sc, start.ExecutionArn); done.Status != sfntypes.ExecutionStatusFailed || aws.ToString(done.Error) != "ResizeFailed" {
		t.Errorf("execution %s %q, want FAILED through ResizeFailed", done.Status, aws.ToString(done.Error))
	}

	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("failing an invoke and an execution took %s; they should not wait for a handler", took)
	}

	if _, err := lc.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name), Environment: &lambdatypes.Environment{Variables: map[string]string{}},
	}); err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}

	if _, res := invokeEcho(t, lc, name, `{"action":"fixed"}`); res.Action != "fixed" {
		t.Errorf("after fixing the configuration: %+v", res)
	}
}

func TestTimedOutFunctionIsRestarted(t *testing.T) {
	_, _, lc, _ := clients()
	name := uniq("echo")
	createEcho(t, lc, name, nil)

	if _, err := lc.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name), Timeout: aws.Int32(1),
	}); err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}

	_, before := invokeEcho(t, lc, name, `{}`)

	out, _ := invokeEcho(t, lc, name, `{"action":"hang"}`)
	if aws.ToString(out.FunctionError) == "" || !strings.Contains(string(out.Payload), "Sandbox.Timedout") {
		t.Errorf("hung invocation: FunctionError=%q payload=%s, want Sandbox.Timedout", aws.ToString(out.FunctionError), out.Payload)
	}

	began := time.Now()

	_, after := invokeEcho(t, lc, name, `{"action":"next"}`)
	if after.Action != "next" || after.PID == before.PID {
		t.Errorf("after the timeout: %+v (pid before %d), want an answer from a new process", after, before.PID)
	}

	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the invocation after a timeout took %s", took)
	}
}

func TestDeleteFunctionStopsItsProcess(t *testing.T) {
	_, _, lc, _ := clients()
	name := uniq("echo")
	createEcho(t, lc, name, nil)

	_, res := invokeEcho(t, lc, name, `{}`)

	if _, err := lc.DeleteFunction(t.Context(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}

	if err := syscall.Kill(res.PID, 0); err == nil {
		t.Errorf("bootstrap pid %d still runs after DeleteFunction", res.PID)
	}
}

func TestGetFunctionServesThePackage(t *testing.T) {
	_, _, lc, _ := clients()
	name := uniq("echo")
	createEcho(t, lc, name, nil)

	got, err := lc.GetFunction(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetFunction: %v", err)
	}

	resp, err := http.Get(aws.ToString(got.Code.Location))
	if err != nil {
		t.Fatalf("GET Code.Location: %v", err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full below

	b, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(b, echoZip) {
		t.Errorf("Code.Location served %d bytes, want the %d-byte package", len(b), len(echoZip))
	}
}

func TestFunctionFromS3Code(t *testing.T) {
	s3c, _, lc, _ := clients()
	bucket := createBucket(t, s3c)

	if _, err := s3c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("code/echo.zip"), Body: bytes.NewReader(echoZip),
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	name := uniq("echo")

	out, err := lc.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String(lambdaRole), Architectures: []lambdatypes.Architecture{hostArch()},
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(bucket), S3Key: aws.String("code/echo.zip")},
	})
	if err != nil {
		t.Fatalf("CreateFunction from S3: %v", err)
	}

	t.Cleanup(func() {
		_, _ = lc.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	})

	if out.State != lambdatypes.StateActive {
		t.Fatalf("State %s: %s", out.State, aws.ToString(out.StateReason))
	}

	if _, res := invokeEcho(t, lc, name, `{"action":"from-s3"}`); res.Action != "from-s3" {
		t.Errorf("function from S3 answered %+v", res)
	}

	_, err = lc.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(uniq("echo")), Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String(lambdaRole),
		Code: &lambdatypes.FunctionCode{S3Bucket: aws.String(bucket), S3Key: aws.String("code/missing.zip")},
	})
	if errorCode(err) != "InvalidParameterValueException" {
		t.Errorf("CreateFunction from a missing S3 object: %v, want InvalidParameterValueException", err)
	}

}

func TestPackagesThatCannotRunMakeTheFunctionFailed(t *testing.T) {
	_, _, lc, _ := clients()

	otherArch, otherMachine := lambdatypes.ArchitectureArm64, uint16(183) // EM_AARCH64
	if runtime.GOARCH == "arm64" {
		otherArch, otherMachine = lambdatypes.ArchitectureX8664, 62 // EM_X86_64
	}

	elfFor := func(machine uint16) []byte {
		h := make([]byte, 64)
		copy(h, "\x7fELF\x02\x01\x01")
		h[18], h[19] = byte(machine), byte(machine>>8)

		return h
	}

	corrupt := bytes.Clone(echoZip)
	for i := 200; i < 800 && i < len(corrupt); i++ {
		corrupt[i] ^= 0x5a
	}

	cases := map[string]struct {
		zip  []byte
		arch lambdatypes.Architecture
		code lambdatypes.StateReasonCode
	}{
		"malformed zip": {zip: corrupt, arch: hostArch(), code: lambdatypes.StateReasonCodeInvalidZipFileException},
		"not a zip":     {zip: []byte("this is not a zip"), arch: hostArch(), code: lambdatypes.StateReasonCodeInvalidZipFileException},
		"no bootstrap": {
			zip:  zipOf(map[string]zipEntry{"main": {data: []byte("x"), mode: 0o755}}),
			arch: hostArch(), code: lambdatypes.StateReasonCodeInvalidRuntime,
		},
		"bootstrap for another architecture": {
			zip:  zipOf(map[string]zipEntry{"bootstrap": {data: elfFor(otherMachine), mode: 0o755}}),
			arch: otherArch, code: lambdatypes.StateReasonCodeInvalidRuntime,
		},
		"bootstrap not matching the function's architecture": {
			zip:  echoZip,
			arch: otherArch, code: lambdatypes.StateReasonCodeInvalidRuntime,
		},
		"bootstrap not executable": {
			zip:  zipOf(map[string]zipEntry{"bootstrap": {data: []byte("#!/bin/sh\n"), mode: 0o644}}),
			arch: hostArch(), code: lambdatypes.StateReasonCodeInvalidRuntime,
		},
	}

	for desc, tc := range cases {
		t.Run(desc, func(t *testing.T) {
			name := uniq("bad")

			out, err := lc.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
				FunctionName:  aws.String(name),
				Runtime:       lambdatypes.RuntimeProvidedal2023,
				Handler:       aws.String("bootstrap"),
				Role:          aws.String(lambdaRole),
				Architectures: []lambdatypes.Architecture{tc.arch},
				Code:          &lambdatypes.FunctionCode{ZipFile: tc.zip},
			})
			if err != nil {
				t.Fatalf("CreateFunction: %v", err)
			}

			t.Cleanup(func() {
				_, _ = lc.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
			})

			if out.State != lambdatypes.StateFailed || out.StateReasonCode != tc.code || aws.ToString(out.StateReason) == "" {
				t.Errorf("CreateFunction: State=%s code=%s reason=%q, want Failed %s with a reason", out.State, out.StateReasonCode, aws.ToString(out.StateReason), tc.code)
			}

			cfg, err := lc.GetFunctionConfiguration(t.Context(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
			if err != nil || cfg.State != lambdatypes.StateFailed || cfg.StateReasonCode != tc.code {
				t.Errorf("GetFunctionConfiguration: %v State=%s code=%s", err, cfg.State, cfg.StateReasonCode)
			}

			fn, err := lc.GetFunction(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String(name)})
			if err != nil || fn.Configuration.State != lambdatypes.StateFailed {
				t.Errorf("GetFunction: %v", err)
			}

			listed := false

			pages := lambda.NewListFunctionsPaginator(lc, &lambda.ListFunctionsInput{})
			for pages.HasMorePages() {
				page, err := pages.NextPage(t.Context())
				if err != nil {
					t.Fatalf("ListFunctions: %v", err)
				}

				for _, f := range page.Functions {
					if aws.ToString(f.FunctionName) == name {
						listed = f.State == lambdatypes.StateFailed
					}
				}
			}

			if !listed {
				t.Errorf("ListFunctions does not show %s as Failed", name)
			}

			_, err = lc.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(name)})
			if errorCode(err) != "ResourceConflictException" {
				t.Errorf("Invoke of a Failed function: %v, want ResourceConflictException", err)
			}
		})
	}
}

func TestBadCodeUpdateKeepsThePreviousCode(t *testing.T) {
	_, _, lc, _ := clients()
	name := uniq("echo")
	createEcho(t, lc, name, nil)

	upd, err := lc.UpdateFunctionCode(t.Context(), &lambda.UpdateFunctionCodeInput{
		FunctionName: aws.String(name),
		ZipFile:      zipOf(map[string]zipEntry{"handler": {data: []byte("x"), mode: 0o755}}),
	})
	if err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}

	if upd.State != lambdatypes.StateActive || upd.LastUpdateStatus != lambdatypes.LastUpdateStatusFailed || upd.LastUpdateStatusReasonCode == "" {
		t.Errorf("after a bad update: State=%s LastUpdateStatus=%s code=%s, want Active/Failed with a code", upd.State, upd.LastUpdateStatus, upd.LastUpdateStatusReasonCode)
	}

	if _, res := invokeEcho(t, lc, name, `{"action":"still"}`); res.Action != "still" {
		t.Errorf("the previous code no longer answers: %+v", res)
	}
}

// waitExecution polls DescribeExecution until the execution ends.
func waitExecution(t *testing.T, sc *sfn.Client, arn *string) *sfn.DescribeExecutionOutput {
	t.Helper()

	deadline := time.Now().Add(60 * time.Second)

	for time.Now().Before(deadline) {
		out, err := sc.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: arn})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}

		if out.Status != sfntypes.ExecutionStatusRunning {
			return out
		}

		time.Sleep(2 * time.Millisecond)
	}

	t.Fatalf("execution %s still running after 60s", aws.ToString(arn))

	return nil
}

// workflow is shaped like the project's: a Task naming the function ARN as
// its resource, here with a catch-all that ends in a Fail state.
func workflow(functionArn string) string {
	return fmt.Sprintf(`{
  "Comment": "resize",
  "StartAt": "Resize",
  "States": {
    "Resize": {
      "Type": "Task",
      "Resource": %q,
      "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "ResizeFailed"}],
      "End": true
    },
    "ResizeFailed": {"Type": "Fail", "Error": "ResizeFailed", "Cause": "the resize function failed"}
  }
}`, functionArn)
}

// retryingWorkflow retries a failed Task once through the
// arn:aws:states:::lambda:invoke integration.
func retryingWorkflow(functionArn string) string {
	return fmt.Sprintf(`{
  "StartAt": "Resize",
  "States": {
    "Resize": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": %q, "Payload.$": "$"},
      "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
      "End": true
    }
  }
}`, functionArn)
}

const sfnRole = "arn:aws:iam::000000000000:role/localaws-test-sfn"

func createMachine(t *testing.T, sc *sfn.Client, name, definition string, typ sfntypes.StateMachineType) *string {
	t.Helper()

	out, err := sc.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{
		Name:       aws.String(name),
		Definition: aws.String(definition),
		RoleArn:    aws.String(sfnRole),
		Type:       typ,
		Tags:       []sfntypes.Tag{{Key: aws.String("team"), Value: aws.String("media")}},
	})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}

	t.Cleanup(func() {
		_, _ = sc.DeleteStateMachine(context.Background(), &sfn.DeleteStateMachineInput{StateMachineArn: out.StateMachineArn})
	})

	return out.StateMachineArn
}

func TestStateMachineRunsLambdaThatWritesS3(t *testing.T) {
	s3c, _, lc, sc := clients()
	bucket := createBucket(t, s3c)
	fn := createEcho(t, lc, uniq("echo"), nil)
	sm := createMachine(t, sc, uniq("wf"), workflow(aws.ToString(fn.FunctionArn)), sfntypes.StateMachineTypeStandard)

	input := fmt.Sprintf(`{"action":"put","bucket":%q,"key":"photo.txt","body":"thumbnail"}`, bucket)

	began := time.Now()

	start, err := sc.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: sm, Input: aws.String(input)})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}

	done := waitExecution(t, sc, start.ExecutionArn)
	t.Logf("StartExecution to SUCCEEDED (one Lambda task writing to S3): %s", time.Since(began).Round(time.Millisecond))

	if done.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s", done.Status, aws.ToString(done.Error), aws.ToString(done.Cause))
	}

	obj, err := s3c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("out/photo.txt")})
	if err != nil {
		t.Fatalf("the function's object is not in S3: %v", err)
	}
	defer func() { _ = obj.Body.Close() }() // read in full below

	if b, _ := io.ReadAll(obj.Body); string(b) != "thumbnail" {
		t.Errorf("object body %q", b)
	}
}

func TestFunctionErrorEndsExecutionInFailState(t *testing.T) {
	_, _, lc, sc := clients()
	fn := createEcho(t, lc, uniq("echo"), nil)
	sm := createMachine(t, sc, uniq("wf"), workflow(aws.ToString(fn.FunctionArn)), sfntypes.StateMachineTypeStandard)

	start, err := sc.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: sm, Input: aws.String(`{"action":"fail"}`)})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}

	done := waitExecution(t, sc, start.ExecutionArn)
	if done.Status != sfntypes.ExecutionStatusFailed || aws.ToString(done.Error) != "ResizeFailed" {
		t.Errorf("execution %s error %q cause %q, want FAILED through the ResizeFailed state", done.Status, aws.ToString(done.Error), aws.ToString(done.Cause))
	}
}

func TestFunctionErrorIsRetried(t *testing.T) {
	_, _, lc, sc := clients()
	fn := createEcho(t, lc, uniq("echo"), nil)
	sm := createMachine(t, sc, uniq("wf"), retryingWorkflow(aws.ToString(fn.FunctionArn)), sfntypes.StateMachineTypeStandard)

	start, err := sc.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: sm, Input: aws.String(`{"action":"flaky"}`)})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}

	done := waitExecution(t, sc, start.ExecutionArn)
	if done.Status != sfntypes.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(done.Output), `"action":"flaky"`) {
		t.Errorf("execution %s output %q error %q, want SUCCEEDED on the retry", done.Status, aws.ToString(done.Output), aws.ToString(done.Cause))
	}
}

func TestUpdateStateMachine(t *testing.T) {
	_, _, lc, sc := clients()
	fn := createEcho(t, lc, uniq("echo"), nil)
	sm := createMachine(t, sc, uniq("wf"), workflow(aws.ToString(fn.FunctionArn)), sfntypes.StateMachineTypeStandard)

	before, err := sc.DescribeStateMachine(t.Context(), &sfn.DescribeStateMachineInput{StateMachineArn: sm})
	if err != nil {
		t.Fatalf("DescribeStateMachine: %v", err)
	}

	if before.LoggingConfiguration == nil || before.LoggingConfiguration.Level != sfntypes.LogLevelOff ||
		before.TracingConfiguration == nil || before.TracingConfiguration.Enabled {
		t.Errorf("DescribeStateMachine logging %+v tracing %+v, want the defaults: OFF, disabled", before.LoggingConfiguration, before.TracingConfiguration)
	}

	pass := `{"StartAt":"Done","States":{"Done":{"Type":"Pass","Result":{"updated":true},"End":true}}}`
	newRole := sfnRole + "-2"

	upd, err := sc.UpdateStateMachine(t.Context(), &sfn.UpdateStateMachineInput{
		StateMachineArn: sm, Definition: aws.String(pass), RoleArn: aws.String(newRole),
	})
	if err != nil {
		t.Fatalf("UpdateStateMachine: %v", err)
	}

	if upd.UpdateDate == nil || aws.ToString(upd.RevisionId) == "" {
		t.Errorf("UpdateStateMachine answered updateDate=%v revisionId=%q", upd.UpdateDate, aws.ToString(upd.RevisionId))
	}

	after, err := sc.DescribeStateMachine(t.Context(), &sfn.DescribeStateMachineInput{StateMachineArn: sm})
	if err != nil {
		t.Fatalf("DescribeStateMachine: %v", err)
	}

	if aws.ToString(after.Definition) != pass || aws.ToString(after.RoleArn) != newRole || after.Type != before.Type ||
		!after.CreationDate.Equal(*before.CreationDate) || aws.ToString(after.RevisionId) != aws.ToString(upd.RevisionId) {
		t.Errorf("after update: definition %q role %q type %s created %v (was %v) revision %q",
			aws.ToString(after.Definition), aws.ToString(after.RoleArn), after.Type, after.CreationDate, before.CreationDate, aws.ToString(after.RevisionId))
	}

	tags, err := sc.ListTagsForResource(t.Context(), &sfn.ListTagsForResourceInput{ResourceArn: sm})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "media" {
		t.Errorf("tags after update: %v %+v", err, tags)
	}

	start, err := sc.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: sm})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}

	if done := waitExecution(t, sc, start.ExecutionArn); aws.ToString(done.Output) != `{"updated":true}` {
		t.Errorf("execution after update: %s output %q", done.Status, aws.ToString(done.Output))
	}

	// An invalid definition is refused and the machine is left as it was.
	_, err = sc.UpdateStateMachine(t.Context(), &sfn.UpdateStateMachineInput{
		StateMachineArn: sm, Definition: aws.String(`{"StartAt":"Nowhere","States":{"Done":{"Type":"Pass","End":true}}}`),
	})
	if errorCode(err) != "InvalidDefinition" {
		t.Errorf("invalid definition: %v, want InvalidDefinition", err)
	}

	kept, _ := sc.DescribeStateMachine(t.Context(), &sfn.DescribeStateMachineInput{StateMachineArn: sm})
	if aws.ToString(kept.Definition) != pass {
		t.Errorf("a refused update changed the definition to %q", aws.ToString(kept.Definition))
	}

	_, err = sc.UpdateStateMachine(t.Context(), &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(aws.ToString(sm) + "-missing"), Definition: aws.String(pass)})
	if errorCode(err) != "StateMachineDoesNotExist" {
		t.Errorf("update of a missing machine: %v, want StateMachineDoesNotExist", err)
	}
}

func TestCreateStateMachineIsIdempotent(t *testing.T) {
	_, _, _, sc := clients()
	name := uniq("wf")
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	arn := createMachine(t, sc, name, def, sfntypes.StateMachineTypeStandard)

	again, err := sc.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(sfnRole), Type: sfntypes.StateMachineTypeStandard,
	})
	if err != nil || aws.ToString(again.StateMachineArn) != aws.ToString(arn) {
		t.Errorf("the same CreateStateMachine again: %v %v, want the existing machine", err, again)
	}

	_, err = sc.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(`{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}}`), RoleArn: aws.String(sfnRole),
	})
	if errorCode(err) != "StateMachineAlreadyExists" {
		t.Errorf("CreateStateMachine with another definition: %v, want StateMachineAlreadyExists", err)
	}
}

func TestBucketsHaveDefaultEncryption(t *testing.T) {
	s3c, _, _, _ := clients()
	bucket := createBucket(t, s3c)

	enc, err := s3c.GetBucketEncryption(t.Context(), &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil || len(enc.ServerSideEncryptionConfiguration.Rules) != 1 ||
		enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Errorf("GetBucketEncryption of a new bucket: %v %+v, want the SSE-S3 default", err, enc)
	}

	_, err = s3c.GetBucketEncryption(t.Context(), &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket + "-missing")})
	if errorCode(err) != "NoSuchBucket" {
		t.Errorf("GetBucketEncryption of a missing bucket: %v, want NoSuchBucket", err)
	}
}

func TestCreateStateMachineRejectsInvalidDefinition(t *testing.T) {
	_, _, _, sc := clients()

	_, err := sc.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{
		Name:       aws.String(uniq("bad")),
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`),
		RoleArn:    aws.String(sfnRole),
	})
	if errorCode(err) != "InvalidDefinition" {
		t.Errorf("CreateStateMachine with a missing Next target: %v, want InvalidDefinition", err)
	}
}

// anyHostClient sends every request to the stack whatever its host, as a
// DNS entry for sync-<host> would; the SDK prefixes StartSyncExecution's
// host with "sync-".
func anyHostClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, stackAddr)
	}

	return &http.Client{Transport: tr}
}

func TestStartSyncExecution(t *testing.T) {
	_, _, lc, _ := clients()
	cfg := awsConfig()
	cfg.HTTPClient = anyHostClient()
	sc := sfn.NewFromConfig(cfg)

	fn := createEcho(t, lc, uniq("echo"), nil)
	express := createMachine(t, sc, uniq("wfx"), workflow(aws.ToString(fn.FunctionArn)), sfntypes.StateMachineTypeExpress)

	began := time.Now()

	ok, err := sc.StartSyncExecution(t.Context(), &sfn.StartSyncExecutionInput{StateMachineArn: express, Input: aws.String(`{"action":"sync"}`)})
	if err != nil {
		t.Fatalf("StartSyncExecution: %v", err)
	}

	t.Logf("StartSyncExecution through one Lambda task: %s", time.Since(began).Round(time.Millisecond))

	if ok.Status != sfntypes.SyncExecutionStatusSucceeded || !strings.Contains(aws.ToString(ok.Output), `"action":"sync"`) || ok.BillingDetails == nil {
		t.Errorf("sync execution: %s output %q billing %v", ok.Status, aws.ToString(ok.Output), ok.BillingDetails)
	}

	// A failed execution is still a 200 answer, with status FAILED.
	failed, err := sc.StartSyncExecution(t.Context(), &sfn.StartSyncExecutionInput{StateMachineArn: express, Input: aws.String(`{"action":"fail"}`)})
	if err != nil {
		t.Fatalf("StartSyncExecution (failing): %v", err)
	}

	if failed.Status != sfntypes.SyncExecutionStatusFailed || aws.ToString(failed.Error) != "ResizeFailed" {
		t.Errorf("failing sync execution: %s %q", failed.Status, aws.ToString(failed.Error))
	}

	standard := createMachine(t, sc, uniq("wf"), workflow(aws.ToString(fn.FunctionArn)), sfntypes.StateMachineTypeStandard)

	_, err = sc.StartSyncExecution(t.Context(), &sfn.StartSyncExecutionInput{StateMachineArn: standard})
	if errorCode(err) != "StateMachineTypeNotSupported" {
		t.Errorf("StartSyncExecution on STANDARD: %v, want StateMachineTypeNotSupported", err)
	}
}

func TestRoleTagsAndDeleteConflict(t *testing.T) {
	_, ic, _, _ := clients()
	name := uniq("role")

	_, err := ic.CreateRole(t.Context(), &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		Tags:                     []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("media")}},
	})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}

	tags, err := ic.ListRoleTags(t.Context(), &iam.ListRoleTagsInput{RoleName: aws.String(name)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "media" {
		t.Errorf("ListRoleTags: %v %+v", err, tags)
	}

	_, err = ic.PutRolePolicy(t.Context(), &iam.PutRolePolicyInput{
		RoleName: aws.String(name), PolicyName: aws.String("write"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`),
	})
	if err != nil {
		t.Fatalf("PutRolePolicy: %v", err)
	}

	// IAM returns policy documents URL-encoded.
	pol, err := ic.GetRolePolicy(t.Context(), &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("write")})
	if err != nil {
		t.Fatalf("GetRolePolicy: %v", err)
	}

	if doc, err := url.QueryUnescape(aws.ToString(pol.PolicyDocument)); err != nil || strings.HasPrefix(aws.ToString(pol.PolicyDocument), "{") || !strings.Contains(doc, `"s3:PutObject"`) {
		t.Errorf("GetRolePolicy document %q, want it URL-encoded", aws.ToString(pol.PolicyDocument))
	}

	role, err := ic.GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil || !strings.HasPrefix(aws.ToString(role.Role.AssumeRolePolicyDocument), "%7B") {
		t.Errorf("GetRole trust policy %v %q, want it URL-encoded", err, aws.ToString(role.Role.AssumeRolePolicyDocument))
	}

	_, err = ic.DeleteRole(t.Context(), &iam.DeleteRoleInput{RoleName: aws.String(name)})
	if errorCode(err) != "DeleteConflict" {
		t.Fatalf("DeleteRole with an inline policy: %v, want DeleteConflict", err)
	}

	if _, err := ic.GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String(name)}); err != nil {
		t.Errorf("the role is gone after a refused delete: %v", err)
	}

	if _, err := ic.DeleteRolePolicy(t.Context(), &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("write")}); err != nil {
		t.Fatalf("DeleteRolePolicy: %v", err)
	}

	if _, err := ic.DeleteRole(t.Context(), &iam.DeleteRoleInput{RoleName: aws.String(name)}); err != nil {
		t.Errorf("DeleteRole without policies: %v", err)
	}

	_, err = ic.ListRoleTags(t.Context(), &iam.ListRoleTagsInput{RoleName: aws.String(name)})
	if errorCode(err) != "NoSuchEntity" {
		t.Errorf("ListRoleTags of a deleted role: %v, want NoSuchEntity", err)
	}
}

func TestSecondStackRefusesTheTakenPort(t *testing.T) {
	// Bounded, so a second stack that wrongly starts cannot hang the test.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	out, err := exec.CommandContext(ctx, binary, "--listen", stackAddr, "--state-dir", t.TempDir()).CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("a second localaws on %s started: %v %s", stackAddr, err, out)
	}

	if !strings.Contains(string(out), "another localaws") {
		t.Errorf("second localaws said %q, want it to name the running localaws", out)
	}
}

func TestShutdownLeavesNoFunctionRunning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	addr := ln.Addr().String()
	_ = ln.Close()

	cmd, took, err := startStack(binary, addr, filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("second stack started in %s", took.Round(time.Millisecond))

	cfg := awsConfig()
	cfg.BaseEndpoint = aws.String("http://" + addr)
	lc := lambda.NewFromConfig(cfg)

	name := uniq("echo")
	if _, err := lc.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String(lambdaRole), Architectures: []lambdatypes.Architecture{hostArch()},
		Code: &lambdatypes.FunctionCode{ZipFile: echoZip},
	}); err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}

	_, res := invokeEcho(t, lc, name, `{}`)

	if err := stopStack(cmd); err != nil {
		t.Fatalf("stop: %v", err)
	}

	if err := syscall.Kill(res.PID, 0); err == nil {
		t.Errorf("bootstrap pid %d still runs after localaws stopped", res.PID)
	}
}

// TestInvokeURLRunsThePipeline builds the seed's shape through the SDK: a
// REST API whose POST /resize is an AWS integration to StartExecution with
// the seed's mapping template, deployed to a stage, then POSTs to the local
// invoke URL and finds the function's object in S3.
func TestInvokeURLRunsThePipeline(t *testing.T) {
	s3c, _, lc, sc := clients()
	ag := apigateway.NewFromConfig(awsConfig())
	ctx := t.Context()

	bucket := createBucket(t, s3c)
	fn := createEcho(t, lc, uniq("echo"), nil)
	sm := createMachine(t, sc, uniq("wf"), workflow(aws.ToString(fn.FunctionArn)), sfntypes.StateMachineTypeStandard)

	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String(uniq("api"))})
	if err != nil {
		t.Fatalf("CreateRestApi: %v", err)
	}

	t.Cleanup(func() {
		_, _ = ag.DeleteRestApi(context.Background(), &apigateway.DeleteRestApiInput{RestApiId: api.Id})
	})

	resources, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id})
	if err != nil || len(resources.Items) == 0 {
		t.Fatalf("GetResources: %v", err)
	}

	res, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: resources.Items[0].Id, PathPart: aws.String("resize")})
	if err != nil {
		t.Fatalf("CreateResource: %v", err)
	}

	post := aws.String("POST")

	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: post, AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatalf("PutMethod: %v", err)
	}

	template := fmt.Sprintf(`{"stateMachineArn": %q, "name": "$context.requestId", "input": "$util.escapeJavaScript($input.body)"}`, aws.ToString(sm))

	if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: api.Id, ResourceId: res.Id, HttpMethod: post,
		Type:                  apigwtypes.IntegrationTypeAws,
		IntegrationHttpMethod: post,
		Uri:                   aws.String("arn:aws:apigateway:" + region + ":states:action/StartExecution"),
		Credentials:           aws.String("arn:aws:iam::000000000000:role/localaws-test-api"),
		RequestTemplates:      map[string]string{"application/json": template},
	}); err != nil {
		t.Fatalf("PutIntegration: %v", err)
	}

	if _, err := ag.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: post, StatusCode: aws.String("200")}); err != nil {
		t.Fatalf("PutMethodResponse: %v", err)
	}

	if _, err := ag.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{
		RestApiId: api.Id, ResourceId: res.Id, HttpMethod: post, StatusCode: aws.String("200"), SelectionPattern: aws.String(""),
	}); err != nil {
		t.Fatalf("PutIntegrationResponse: %v", err)
	}

	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}

	body := fmt.Sprintf(`{"action":"put","bucket":%q,"key":"from-api.txt","body":"quote \" and \\ and\nnewline"}`, bucket)
	invokeURL := endpoint + "/restapis/" + aws.ToString(api.Id) + "/prod/_user_request_/resize"

	began := time.Now()

	resp, err := http.Post(invokeURL, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", invokeURL, err)
	}

	answer, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()

	var started struct {
		ExecutionArn string `json:"executionArn"`
	}

	if resp.StatusCode != http.StatusOK || json.Unmarshal(answer, &started) != nil || started.ExecutionArn == "" {
		t.Fatalf("POST %s: %d %s, want 200 with an executionArn", invokeURL, resp.StatusCode, answer)
	}

	done := waitExecution(t, sc, aws.String(started.ExecutionArn))
	if done.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %q %q", done.Status, aws.ToString(done.Error), aws.ToString(done.Cause))
	}

	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("out/from-api.txt")})
	if err != nil {
		t.Fatalf("the function's object is not in S3: %v", err)
	}
	defer func() { _ = obj.Body.Close() }() // read in full below

	t.Logf("POST to the invoke URL until the object is in S3: %s", time.Since(began).Round(time.Millisecond))

	if b, _ := io.ReadAll(obj.Body); string(b) != "quote \" and \\ and\nnewline" {
		t.Errorf("object body %q: the request body did not survive the mapping template", b)
	}

	// The invoke URL's own shape, https://{id}.execute-api.{region}.amazonaws.com/{stage}/{path},
	// reaches the same method when its host is sent to the stack.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/prod/resize", strings.NewReader(`{"action":"hosted"}`))
	if err != nil {
		t.Fatal(err)
	}

	req.Host = aws.ToString(api.Id) + ".execute-api." + region + ".amazonaws.com"
	req.Header.Set("Content-Type", "application/json")

	hosted, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST with the execute-api host: %v", err)
	}

	hostedBody, _ := io.ReadAll(hosted.Body)
	_ = hosted.Body.Close()

	if hosted.StatusCode != http.StatusOK || !strings.Contains(string(hostedBody), "executionArn") {
		t.Errorf("POST with the execute-api host: %d %s", hosted.StatusCode, hostedBody)
	}
}

// TestMalformedRequestsGetAWSErrors sends what a broken client might to each
// operation the front door handles itself: each gets a client error in the
// service's shape, and the stack keeps serving.
func TestMalformedRequestsGetAWSErrors(t *testing.T) {
	auth := func(service string) string {
		return "AWS4-HMAC-SHA256 Credential=test/20260101/" + region + "/" + service + "/aws4_request, SignedHeaders=host, Signature=x"
	}

	cases := map[string]struct {
		method, path, service, target, contentType, body string
		wantCode                                         string
	}{
		"CreateFunction, not JSON": {
			method: "POST", path: "/2015-03-31/functions", service: "lambda", contentType: "application/json", body: "{",
			wantCode: "InvalidRequestContentException",
		},
		"UpdateFunctionCode, unknown function": {
			method: "PUT", path: "/2015-03-31/functions/no-such-function/code", service: "lambda", contentType: "application/json",
			body: `{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}`, wantCode: "ResourceNotFoundException",
		},
		"UpdateStateMachine, not JSON": {
			method: "POST", path: "/", service: "states", target: "AWSStepFunctions.UpdateStateMachine",
			contentType: "application/x-amz-json-1.0", body: "[", wantCode: "SerializationException",
		},
		"UpdateStateMachine, nothing to update": {
			method: "POST", path: "/", service: "states", target: "AWSStepFunctions.UpdateStateMachine",
			contentType: "application/x-amz-json-1.0", body: `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:x"}`,
			wantCode: "MissingRequiredParameter",
		},
		"StartSyncExecution, unknown machine": {
			method: "POST", path: "/", service: "states", target: "AWSStepFunctions.StartSyncExecution",
			contentType: "application/x-amz-json-1.0", body: `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:nope"}`,
			wantCode: "StateMachineDoesNotExist",
		},
		"StartSyncExecution, not JSON": {
			method: "POST", path: "/", service: "states", target: "AWSStepFunctions.StartSyncExecution",
			contentType: "application/x-amz-json-1.0", body: "nope", wantCode: "SerializationException",
		},
		"CreateStateMachine, not JSON": {
			method: "POST", path: "/", service: "states", target: "AWSStepFunctions.CreateStateMachine",
			contentType: "application/x-amz-json-1.0", body: "{{", wantCode: "SerializationException",
		},
		"ListRoleTags, unknown role": {
			method: "POST", path: "/", service: "iam", contentType: "application/x-www-form-urlencoded",
			body: "Action=ListRoleTags&Version=2010-05-08&RoleName=no-such-role", wantCode: "NoSuchEntity",
		},
		"DeleteRole, unknown role": {
			method: "POST", path: "/", service: "iam", contentType: "application/x-www-form-urlencoded",
			body: "Action=DeleteRole&Version=2010-05-08&RoleName=no-such-role", wantCode: "NoSuchEntity",
		},
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, endpoint+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}

			req.Header.Set("Authorization", auth(tc.service))
			req.Header.Set("Content-Type", tc.contentType)

			if tc.target != "" {
				req.Header.Set("X-Amz-Target", tc.target)
			}

			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }() // read in full below

			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(string(b)+resp.Header.Get("X-Amzn-ErrorType"), tc.wantCode) {
				t.Errorf("%d %s (X-Amzn-ErrorType %q), want a 4xx %s", resp.StatusCode, b, resp.Header.Get("X-Amzn-ErrorType"), tc.wantCode)
			}
		})
	}

	if _, err := health(endpoint); err != nil {
		t.Errorf("stack unhealthy after malformed requests: %v", err)
	}
}
