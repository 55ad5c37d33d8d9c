package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/resize-operator/resize-operator/lambda/resize"
)

// Request is the event, as the workflow passes it.
type Request struct {
	ImageKey          string `json:"image_key"`
	SourceBucket      string `json:"source_bucket"`
	DestinationBucket string `json:"destination_bucket"`
	// Width and Height override the configured box for this request. They
	// are pointers so an explicit 0 is refused instead of meaning "unset".
	Width  *int `json:"width,omitempty"`
	Height *int `json:"height,omitempty"`
}

// Response is the result on success. On failure the function returns an
// error instead, so the workflow's failure path runs.
type Response struct {
	Status   string `json:"status"`
	ThumbKey string `json:"thumb_key"`
}

// objectStore is the part of the S3 client the handler uses; tests replace it
// to inject faults.
type objectStore interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Handler makes one thumbnail per event.
type Handler struct {
	S3      objectStore
	Options resize.Options
	Log     *slog.Logger
}

// Handle reads the source object, makes the thumbnail and writes it. The
// thumbnail is fully encoded in memory before the single PutObject, so a
// failure at any step leaves the destination bucket untouched. Every error
// is a *resize.Error naming the key and the reason.
func (h *Handler) Handle(ctx context.Context, req Request) (Response, error) {
	start := time.Now()
	opts, thumbKey, err := h.check(req)
	if err != nil {
		return Response{}, err
	}

	// The previous invocation's source bytes and decoded image are still on
	// the heap as garbage; without this the next decode grows the heap to
	// hold both (see resize.Collect).
	resize.Collect()

	src, err := h.get(ctx, req)
	if err != nil {
		return Response{}, err
	}

	res, err := resize.Thumbnail(req.ImageKey, src, opts)
	if err != nil {
		return Response{}, err
	}

	_, err = h.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(req.DestinationBucket),
		Key:           aws.String(thumbKey),
		Body:          bytes.NewReader(res.Data),
		ContentLength: aws.Int64(int64(len(res.Data))),
		ContentType:   aws.String(res.ContentType),
		Metadata: map[string]string{
			"source-key":           resize.MetadataKey(req.ImageKey),
			"source-size":          strconv.Itoa(len(src)),
			"source-dimensions":    fmt.Sprintf("%dx%d", res.SourceWidth, res.SourceHeight),
			"thumbnail-dimensions": fmt.Sprintf("%dx%d", res.Width, res.Height),
		},
	})
	if err != nil {
		return Response{}, storageError(req.ImageKey, err, "cannot write thumbnail s3://%s/%s", req.DestinationBucket, thumbKey)
	}

	h.logger().Info("thumbnail written",
		"source", "s3://"+req.SourceBucket+"/"+req.ImageKey,
		"thumb", "s3://"+req.DestinationBucket+"/"+thumbKey,
		"source_bytes", len(src), "thumb_bytes", len(res.Data),
		"source_size", fmt.Sprintf("%dx%d", res.SourceWidth, res.SourceHeight),
		"thumb_size", fmt.Sprintf("%dx%d", res.Width, res.Height),
		"orientation", res.Orientation, "decode_scale", res.DecodeScale,
		"ms", time.Since(start).Milliseconds())
	return Response{Status: "success", ThumbKey: thumbKey}, nil
}

// check validates the event before any S3 call and returns the options for
// this request and the thumbnail key.
func (h *Handler) check(req Request) (resize.Options, string, error) {
	invalid := func(format string, args ...any) error {
		return &resize.Error{Key: req.ImageKey, Reason: resize.ReasonInvalidRequest, Detail: fmt.Sprintf(format, args...)}
	}
	if err := resize.CheckKey(req.ImageKey); err != nil {
		return resize.Options{}, "", err
	}
	if req.SourceBucket == "" {
		return resize.Options{}, "", invalid("source_bucket is empty")
	}
	if req.DestinationBucket == "" {
		return resize.Options{}, "", invalid("destination_bucket is empty")
	}
	opts := h.Options
	for _, o := range []struct {
		name string
		v    *int
		dst  *int
	}{{"width", req.Width, &opts.MaxWidth}, {"height", req.Height, &opts.MaxHeight}} {
		if o.v == nil {
			continue
		}
		if *o.v < resize.MinDimension || *o.v > resize.MaxDimension {
			return resize.Options{}, "", invalid("%s %d is outside %d..%d", o.name, *o.v, resize.MinDimension, resize.MaxDimension)
		}
		*o.dst = *o.v
	}
	thumbKey, err := resize.ThumbKey(opts.KeyPrefix, req.ImageKey)
	if err != nil {
		return resize.Options{}, "", err
	}
	if req.SourceBucket == req.DestinationBucket && thumbKey == req.ImageKey {
		return resize.Options{}, "", &resize.Error{Key: req.ImageKey, Reason: resize.ReasonKeyCollision,
			Detail: fmt.Sprintf("thumbnail s3://%s/%s would overwrite the source; set %s or use another destination bucket",
				req.DestinationBucket, thumbKey, resize.EnvKeyPrefix)}
	}
	return opts, thumbKey, nil
}

// get downloads the source object. The byte limit is checked against the
// object's Content-Length before the body is read, and again while reading,
// in case the length was absent or wrong.
func (h *Handler) get(ctx context.Context, req Request) ([]byte, error) {
	limit := h.Options.MaxSourceBytes
	out, err := h.S3.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(req.SourceBucket),
		Key:    aws.String(req.ImageKey),
	})
	if err != nil {
		return nil, storageError(req.ImageKey, err, "cannot read s3://%s/%s", req.SourceBucket, req.ImageKey)
	}
	// Closing only releases the connection: the body is either read to the
	// end (io.Copy's error covers the download) or abandoned with an error.
	defer func() { _ = out.Body.Close() }()
	size := aws.ToInt64(out.ContentLength)
	if size > limit {
		return nil, tooLarge(req, size, limit)
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(size, 0)))
	n, err := io.Copy(buf, io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, storageError(req.ImageKey, err, "reading s3://%s/%s failed after %d bytes", req.SourceBucket, req.ImageKey, n)
	}
	if n > limit {
		return nil, tooLarge(req, n, limit)
	}
	return buf.Bytes(), nil
}

func tooLarge(req Request, size, limit int64) error {
	return &resize.Error{Key: req.ImageKey, Reason: resize.ReasonTooLarge,
		Detail: fmt.Sprintf("s3://%s/%s is %d bytes, more than the limit of %d (%s)",
			req.SourceBucket, req.ImageKey, size, limit, resize.EnvMaxSourceBytes)}
}

// storageError classifies an S3 failure: a missing bucket or object is the
// caller's mistake and is reported as such; anything else may be transient.
func storageError(key string, err error, format string, args ...any) error {
	reason := resize.ReasonStorage
	var (
		noKey  *types.NoSuchKey
		noBkt  *types.NoSuchBucket
		notFnd *types.NotFound
		apiErr smithy.APIError
	)
	switch {
	case errors.As(err, &noKey), errors.As(err, &noBkt), errors.As(err, &notFnd):
		reason = resize.ReasonNotFound
	case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NoSuchKey" || apiErr.ErrorCode() == "NoSuchBucket" || apiErr.ErrorCode() == "NotFound"):
		reason = resize.ReasonNotFound
	}
	return &resize.Error{Key: key, Reason: reason, Detail: fmt.Sprintf(format, args...), Err: err}
}

func (h *Handler) logger() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}
