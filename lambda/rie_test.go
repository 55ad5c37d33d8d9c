package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const rieHint = "install the Lambda runtime interface emulator: " +
	"go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d " +
	"(or set AWS_LAMBDA_RIE to its path)"

// TestBootstrapUnderRIE runs the real bootstrap, built as for Lambda, under
// the runtime interface emulator, against an in-process S3, and reads the
// thumbnail back. It also measures the cold start: from starting the
// emulator process to the first response.
//
// BOOTSTRAP may name an already built bootstrap (e.g. unzipped from
// lambda/bundle/dist) to test that exact binary.
func TestBootstrapUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the bootstrap is a linux binary")
	}
	rie := findRIE(t)
	bootstrap := os.Getenv("BOOTSTRAP")
	if bootstrap == "" {
		bootstrap = buildBootstrap(t)
	}

	// S3: gofakes3 in process, reached over HTTP like any endpoint.
	backend := s3mem.New()
	s3srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3srv.Close)
	for _, b := range []string{"src", "dst"} {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s3srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	ctx := context.Background()
	src := testJPEG(t, 1600, 1200)
	for _, key := range []string{"test.jpg", "photos/2024/été.jpg"} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String(key), Body: bytes.NewReader(src)}); err != nil {
			t.Fatal(err)
		}
	}

	// The emulator, configured only through the environment, as Lambda does.
	url, start, logs := startFunction(t, rie, bootstrap, s3srv.URL)

	// Cold start: retry while the emulator is not listening yet.
	body := invokeRetry(t, url, `{"image_key":"test.jpg","source_bucket":"src","destination_bucket":"dst"}`)
	t.Logf("cold start (emulator process start to first response): %v", time.Since(start).Round(time.Millisecond))
	if m := regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`).FindStringSubmatch(logs.String()); m != nil {
		t.Logf("init phase as the emulator reports it: %s ms", m[1])
	}
	if string(body) != `{"status":"success","thumb_key":"thumb-test.jpg"}` {
		t.Fatalf("response %s", body)
	}
	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("thumb-test.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(got.Body)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 200 || cfg.Height != 150 {
		t.Errorf("thumbnail %dx%d, %v; want a 200x150 JPEG", cfg.Width, cfg.Height, err)
	}
	if aws.ToString(got.ContentType) != "image/jpeg" || got.Metadata["source-key"] != "test.jpg" || got.Metadata["thumbnail-dimensions"] != "200x150" {
		t.Errorf("Content-Type %q, metadata %v", aws.ToString(got.ContentType), got.Metadata)
	}

	// Warm invokes: a unicode key, then a missing object.
	warm := time.Now()
	body, err = invoke(url, `{"image_key":"photos/2024/été.jpg","source_bucket":"src","destination_bucket":"dst"}`)
	if err != nil || string(body) != `{"status":"success","thumb_key":"thumb-photos/2024/été.jpg"}` {
		t.Fatalf("unicode key: %s, %v", body, err)
	}
	t.Logf("warm invoke: %v", time.Since(warm).Round(time.Millisecond))
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("thumb-photos/2024/été.jpg")}); err != nil {
		t.Errorf("unicode thumbnail not found: %v", err)
	}

	body, err = invoke(url, `{"image_key":"missing.jpg","source_bucket":"src","destination_bucket":"dst"}`)
	if err != nil {
		t.Fatal(err)
	}
	var fail struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(body, &fail); err != nil || fail.ErrorType != "SourceNotFound" || !strings.Contains(fail.ErrorMessage, `"missing.jpg"`) {
		t.Errorf("missing object: %s", body)
	}
	if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("thumb-missing.jpg")}); err == nil {
		t.Error("a thumbnail was written for a missing source")
	}
}

// TestBootstrapBadConfigUnderRIE: an invalid environment stops the function
// at init, and the invoke's caller sees which variable is wrong.
func TestBootstrapBadConfigUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the bootstrap is a linux binary")
	}
	rie := findRIE(t)
	bootstrap := os.Getenv("BOOTSTRAP")
	if bootstrap == "" {
		bootstrap = buildBootstrap(t)
	}
	url, _, _ := startFunction(t, rie, bootstrap, "http://127.0.0.1:1", "THUMB_FIT=inside", "THUMB_QUALITY=0")
	body := invokeRetry(t, url, `{"image_key":"test.jpg","source_bucket":"src","destination_bucket":"dst"}`)
	var fail struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(body, &fail); err != nil || fail.ErrorType != "InvalidConfiguration" ||
		!strings.Contains(fail.ErrorMessage, `THUMB_FIT="inside"`) || !strings.Contains(fail.ErrorMessage, "THUMB_QUALITY=0") {
		t.Errorf("invoke with a bad configuration returned %s", body)
	}
}

// startFunction starts the emulator running bootstrap with the given S3
// endpoint and extra environment, and returns the invoke URL and the time the
// process was started, and its output.
func startFunction(t *testing.T, rie, bootstrap, s3URL string, env ...string) (string, time.Time, *syncBuffer) {
	t.Helper()
	apiAddr, rieAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", rieAddr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_ENDPOINT_URL=" + s3URL,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
	}, env...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the emulator starts bootstrap as its child
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("emulator and function output:\n%s", logs.String())
		}
	})
	return "http://" + rieAddr + "/2015-03-31/functions/function/invocations", start, logs
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// invokeRetry invokes until the emulator answers (it is not listening at
// once after start), and returns the body whatever the status.
func invokeRetry(t *testing.T, url, payload string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		body, err := invoke(url, payload)
		var se *statusError
		if err == nil || errors.As(err, &se) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("no response within 20 s: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// invoke returns the response body; a non-200 status is an error that
// carries the body.
func invoke(url, payload string) ([]byte, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(payload))
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, &statusError{resp.StatusCode, body}
	}
	return body, nil
}

type statusError struct {
	code int
	body []byte
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

func findRIE(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		return p
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "aws-lambda-rie")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip(rieHint)
	return ""
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// buildBootstrap builds the function with the Lambda flags of
// hack/build-lambda.sh, for this machine's architecture, once per test run.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bootstrap-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", built, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, b)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built != "" {
		_ = os.RemoveAll(filepath.Dir(built))
	}
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	// The caller hands the port to another process, so it must be free again.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
