package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/resize-operator/resize-operator/lambda/resize"
)

// fakeS3 is an in-memory object store with fault injection for the failures
// a real emulator cannot produce on demand.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string]object // "bucket/key"
	buckets map[string]bool
	calls   []string

	getErr        error  // returned by GetObject
	putErr        error  // returned by PutObject
	bodyErr       error  // returned by the body after half the bytes
	contentLength *int64 // reported instead of the real length
	bodyRead      bool   // whether any GetObject body was read
}

type object struct {
	data        []byte
	contentType string
	metadata    map[string]string
}

func newFake(buckets ...string) *fakeS3 {
	f := &fakeS3{objects: map[string]object{}, buckets: map[string]bool{}}
	for _, b := range buckets {
		f.buckets[b] = true
	}
	return f
}

func (f *fakeS3) put(bucket, key string, data []byte) {
	f.objects[bucket+"/"+key] = object{data: data}
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "GetObject "+*in.Bucket+"/"+*in.Key)
	if f.getErr != nil {
		return nil, f.getErr
	}
	if !f.buckets[*in.Bucket] {
		return nil, &types.NoSuchBucket{Message: aws.String("The specified bucket does not exist")}
	}
	o, ok := f.objects[*in.Bucket+"/"+*in.Key]
	if !ok {
		return nil, &types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	}
	n := int64(len(o.data))
	if f.contentLength != nil {
		n = *f.contentLength
	}
	var body io.Reader = bytes.NewReader(o.data)
	if f.bodyErr != nil {
		body = io.MultiReader(bytes.NewReader(o.data[:len(o.data)/2]), errReader{f.bodyErr})
	}
	return &s3.GetObjectOutput{Body: &trackingBody{r: body, f: f}, ContentLength: aws.Int64(n)}, nil
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "PutObject "+*in.Bucket+"/"+*in.Key)
	if f.putErr != nil {
		return nil, f.putErr
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.objects[*in.Bucket+"/"+*in.Key] = object{data: data, contentType: aws.ToString(in.ContentType), metadata: in.Metadata}
	return &s3.PutObjectOutput{}, nil
}

type trackingBody struct {
	r io.Reader
	f *fakeS3
}

func (b *trackingBody) Read(p []byte) (int, error) {
	b.f.bodyRead = true
	return b.r.Read(p)
}
func (b *trackingBody) Close() error { return nil }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newHandler(f *fakeS3) *Handler {
	return &Handler{S3: f, Options: resize.DefaultOptions(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func req(key string) Request {
	return Request{ImageKey: key, SourceBucket: "src", DestinationBucket: "dst"}
}

// TestContract checks the exact JSON in and out that the workflow relies on.
func TestContract(t *testing.T) {
	f := newFake("src", "dst")
	f.put("src", "test.jpg", testJPEG(t, 800, 600))
	var r Request
	if err := json.Unmarshal([]byte(`{"image_key":"test.jpg","source_bucket":"src","destination_bucket":"dst"}`), &r); err != nil {
		t.Fatal(err)
	}
	resp, err := newHandler(f).Handle(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(resp)
	if string(out) != `{"status":"success","thumb_key":"thumb-test.jpg"}` {
		t.Errorf("response %s", out)
	}
	o, ok := f.objects["dst/thumb-test.jpg"]
	if !ok {
		t.Fatalf("no thumbnail written; calls %v", f.calls)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(o.data))
	if err != nil || cfg.Width != 200 || cfg.Height != 150 {
		t.Errorf("thumbnail %+v, %v; want a 200x150 JPEG", cfg, err)
	}
	if o.contentType != "image/jpeg" {
		t.Errorf("Content-Type %q", o.contentType)
	}
	wantMeta := map[string]string{
		"source-key":           "test.jpg",
		"source-size":          itoa(len(f.objects["src/test.jpg"].data)),
		"source-dimensions":    "800x600",
		"thumbnail-dimensions": "200x150",
	}
	for k, v := range wantMeta {
		if o.metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, o.metadata[k], v)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestUnicodeKeyAndOverrides(t *testing.T) {
	f := newFake("src", "dst")
	key := "photos/2024/été.jpg"
	f.put("src", key, testJPEG(t, 800, 600))
	r := req(key)
	r.Width, r.Height = aws.Int(64), aws.Int(64)
	resp, err := newHandler(f).Handle(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ThumbKey != "thumb-photos/2024/été.jpg" {
		t.Errorf("thumb key %q", resp.ThumbKey)
	}
	o := f.objects["dst/thumb-photos/2024/été.jpg"]
	if o.metadata["source-key"] != "photos/2024/%C3%A9t%C3%A9.jpg" || o.metadata["thumbnail-dimensions"] != "64x48" {
		t.Errorf("metadata %v", o.metadata)
	}
}

func TestPNGKeepsContentType(t *testing.T) {
	f := newFake("src", "dst")
	img := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	img.Set(1, 1, color.NRGBA{255, 0, 0, 128})
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	f.put("src", "a.png", b.Bytes())
	if _, err := newHandler(f).Handle(context.Background(), req("a.png")); err != nil {
		t.Fatal(err)
	}
	if ct := f.objects["dst/thumb-a.png"].contentType; ct != "image/png" {
		t.Errorf("Content-Type %q", ct)
	}
}

// TestFailures: each bad input gives an error naming the key and the reason,
// and nothing is written.
func TestFailures(t *testing.T) {
	jpg := testJPEG(t, 400, 300)
	for name, c := range map[string]struct {
		req     Request
		setup   func(*fakeS3, *Handler)
		reason  resize.Reason
		text    string
		noCalls bool // refused before any S3 call
	}{
		"missing key":         {Request{SourceBucket: "src", DestinationBucket: "dst"}, nil, resize.ReasonInvalidRequest, "image_key is empty", true},
		"missing source":      {Request{ImageKey: "a.jpg", DestinationBucket: "dst"}, nil, resize.ReasonInvalidRequest, "source_bucket is empty", true},
		"missing destination": {Request{ImageKey: "a.jpg", SourceBucket: "src"}, nil, resize.ReasonInvalidRequest, "destination_bucket is empty", true},
		"width zero":          {withSize(req("a.jpg"), 0, 100), nil, resize.ReasonInvalidRequest, "width 0 is outside 1..10000", true},
		"height too big":      {withSize(req("a.jpg"), 100, 10001), nil, resize.ReasonInvalidRequest, "height 10001 is outside 1..10000", true},
		"not utf-8":           {req("a\xff.jpg"), nil, resize.ReasonInvalidRequest, "not valid UTF-8", true},
		"object not found":    {req("missing.jpg"), nil, resize.ReasonNotFound, "cannot read s3://src/missing.jpg", false},
		"bucket not found":    {Request{ImageKey: "a.jpg", SourceBucket: "nope", DestinationBucket: "dst"}, nil, resize.ReasonNotFound, "NoSuchBucket", false},
		"access denied": {req("a.jpg"), func(f *fakeS3, _ *Handler) { f.getErr = errors.New("AccessDenied") },
			resize.ReasonStorage, "AccessDenied", false},
		"body fails": {req("a.jpg"), func(f *fakeS3, _ *Handler) { f.bodyErr = errors.New("connection reset") },
			resize.ReasonStorage, "connection reset", false},
		"not an image": {req("a.jpg"), func(f *fakeS3, _ *Handler) { f.put("src", "a.jpg", []byte("<html>")) },
			resize.ReasonNotImage, "not a JPEG, PNG or GIF", false},
		"truncated": {req("a.jpg"), func(f *fakeS3, _ *Handler) { f.put("src", "a.jpg", jpg[:len(jpg)/2]) },
			resize.ReasonCorrupt, "cannot decode", false},
		"too large": {req("a.jpg"), func(_ *fakeS3, h *Handler) { h.Options.MaxSourceBytes = 100 },
			resize.ReasonTooLarge, "more than the limit of 100 (MAX_SOURCE_BYTES)", false},
		"too large, length not reported": {req("a.jpg"), func(f *fakeS3, h *Handler) {
			h.Options.MaxSourceBytes = 100
			f.contentLength = aws.Int64(-1)
		}, resize.ReasonTooLarge, "is 101 bytes", false},
		"too many pixels": {req("a.jpg"), func(_ *fakeS3, h *Handler) { h.Options.MaxSourcePixels = 1000 },
			resize.ReasonTooManyPixels, "400x300", false},
		"thumb would overwrite source": {Request{ImageKey: "a.jpg", SourceBucket: "src", DestinationBucket: "src"},
			func(_ *fakeS3, h *Handler) { h.Options.KeyPrefix = "" }, resize.ReasonKeyCollision, "would overwrite the source", true},
		"put fails": {req("a.jpg"), func(f *fakeS3, _ *Handler) { f.putErr = errors.New("SlowDown") },
			resize.ReasonStorage, "cannot write thumbnail s3://dst/thumb-a.jpg", false},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake("src", "dst")
			f.put("src", "a.jpg", jpg)
			h := newHandler(f)
			if c.setup != nil {
				c.setup(f, h)
			}
			resp, err := h.Handle(context.Background(), c.req)
			if err == nil {
				t.Fatalf("no error; response %+v", resp)
			}
			if resp != (Response{}) {
				t.Errorf("a failure returned a response %+v", resp)
			}
			if got := resize.ReasonOf(err); got != c.reason {
				t.Errorf("reason %q, want %q: %v", got, c.reason, err)
			}
			if !strings.Contains(err.Error(), "image "+quote(c.req.ImageKey)) || !strings.Contains(err.Error(), c.text) {
				t.Errorf("message %q should name the key and contain %q", err, c.text)
			}
			if len(f.objects) != 1 {
				t.Errorf("objects after failure: %d, want only the source", len(f.objects))
			}
			if c.noCalls && len(f.calls) != 0 {
				t.Errorf("S3 was called for an invalid request: %v", f.calls)
			}
		})
	}
}

func quote(s string) string { return strconv.Quote(s) }

func withSize(r Request, w, h int) Request {
	r.Width, r.Height = &w, &h
	return r
}

// TestTooLargeNotDownloaded: the byte limit is enforced from Content-Length,
// before the body is read.
func TestTooLargeNotDownloaded(t *testing.T) {
	f := newFake("src", "dst")
	f.put("src", "a.jpg", testJPEG(t, 400, 300))
	h := newHandler(f)
	h.Options.MaxSourceBytes = 10
	if _, err := h.Handle(context.Background(), req("a.jpg")); resize.ReasonOf(err) != resize.ReasonTooLarge {
		t.Fatalf("got %v", err)
	}
	if f.bodyRead {
		t.Error("the body of an object over the limit was read")
	}
}

// TestLambdaError: the reason becomes the errorType a workflow can match.
func TestLambdaError(t *testing.T) {
	err := lambdaError(&resize.Error{Key: "a.jpg", Reason: resize.ReasonTooManyPixels, Detail: "big"})
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) || ie.Type != "TooManyPixels" || !strings.Contains(ie.Message, `"a.jpg"`) {
		t.Errorf("got %#v", err)
	}
	if lambdaError(nil) != nil {
		t.Error("nil error became non-nil")
	}
	if err := lambdaError(errors.New("boom")); !errors.As(err, &ie) || ie.Type != "ResizeError" {
		t.Errorf("plain error: %#v", err)
	}
}

func TestDecodeRequest(t *testing.T) {
	r, err := decodeRequest([]byte(`{"image_key":"a.jpg","source_bucket":"s","destination_bucket":"d","width":64,"extra":true}`))
	if err != nil || r.ImageKey != "a.jpg" || r.Width == nil || *r.Width != 64 || r.Height != nil {
		t.Errorf("got %+v, %v", r, err)
	}
	for _, event := range []string{`{"image_key":"a.jpg","width":"64"}`, `{"image_key":"a.jpg","width":6.5}`, `[]`, `"a.jpg"`} {
		_, err := decodeRequest([]byte(event))
		if resize.ReasonOf(err) != resize.ReasonInvalidRequest {
			t.Errorf("%s: got %v, want InvalidRequest", event, err)
		}
		if strings.HasPrefix(event, "{") && !strings.Contains(err.Error(), `"a.jpg"`) {
			t.Errorf("%s: message %q does not name the key", event, err)
		}
	}
}
