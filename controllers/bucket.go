package controllers

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	corev1 "k8s.io/api/core/v1"
)

// BucketAPI is what the controller uses of S3.
type BucketAPI interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, opts ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, opts ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	DeleteBucket(ctx context.Context, in *s3.DeleteBucketInput, opts ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
	GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, opts ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	PutBucketTagging(ctx context.Context, in *s3.PutBucketTaggingInput, opts ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, opts ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, opts ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, opts ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput, opts ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
}

// bucketOwnership is what the owner tag says about a bucket.
type bucketOwnership int

const (
	bucketMissing bucketOwnership = iota
	// bucketOurs: tagged with this pipeline; managed and deletable.
	bucketOurs
	// bucketExternal: exists without an owner tag; used as it is.
	bucketExternal
	// bucketOtherPipeline: tagged by another pipeline.
	bucketOtherPipeline
)

// observeBucket finds out whether a bucket exists and who owns it.
func observeBucket(ctx context.Context, c BucketAPI, name, owner, region string) (bucketOwnership, map[string]string, string, error) {
	head, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	switch {
	case err == nil:
		if r := aws.ToString(head.BucketRegion); r != "" && r != region {
			return bucketMissing, nil, "", terminalf(ReasonBucketInOtherRegion,
				"bucket %q is in %s but the pipeline is in %s; set spec.region to %s or use a bucket in %s", name, r, region, r, region)
		}
	case httpStatus(err) == http.StatusMovedPermanently || isCode(err, "PermanentRedirect"):
		return bucketMissing, nil, "", terminalf(ReasonBucketInOtherRegion,
			"bucket %q is in another region than the pipeline's (%s); set spec.region to the bucket's region or use a bucket in %s", name, region, region)
	case httpStatus(err) == http.StatusNotFound || isCode(err, "NotFound", "NoSuchBucket"):
		return bucketMissing, nil, "", nil
	case httpStatus(err) == http.StatusForbidden || isCode(err, "Forbidden", "AccessDenied"):
		return bucketMissing, nil, "", terminalf(ReasonBucketNameTaken,
			"bucket %q exists but this AWS account may not use it (it belongs to another account, or the controller's credentials lack s3 permissions); "+
				"create a new ResizePipeline with another bucket name", name)
	default:
		return bucketMissing, nil, "", err
	}
	tags := map[string]string{}
	out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	switch {
	case err == nil:
		for _, t := range out.TagSet {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	case isCode(err, "NoSuchTagSet"):
	default:
		return bucketMissing, nil, "", err
	}
	switch tags[OwnerTagKey] {
	case owner:
		return bucketOurs, tags, "", nil
	case "":
		return bucketExternal, tags, "", nil
	default:
		return bucketOtherPipeline, tags, tags[OwnerTagKey], nil
	}
}

// reconcileBuckets is the first phase: both buckets exist, and those the
// pipeline created are private, encrypted and tagged.
func (r *ResizePipelineReconciler) reconcileBuckets(ctx context.Context, s *scope) (phaseOutcome, error) {
	var notes []string
	for _, b := range []struct{ name, field string }{
		{s.d.SourceBucket, "spec.sourceBucket.name"},
		{s.d.DestinationBucket, "spec.destinationBucket.name"},
	} {
		note, err := r.ensureBucket(ctx, s, b.name, b.field)
		if err != nil {
			return phaseOutcome{}, err
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	s.rp.Status.Resources.SourceBucketARN = s.d.BucketARN(s.d.SourceBucket)
	s.rp.Status.Resources.DestinationBucketARN = s.d.BucketARN(s.d.DestinationBucket)
	msg := "Buckets " + s.d.SourceBucket + " and " + s.d.DestinationBucket + " are ready"
	for _, n := range notes {
		msg += "; " + n
	}
	return phaseOutcome{message: msg}, nil
}

func (r *ResizePipelineReconciler) ensureBucket(ctx context.Context, s *scope, name, field string) (string, error) {
	c := s.aws.S3
	own, tags, other, err := observeBucket(ctx, c, name, s.d.Owner, s.d.Region)
	if err != nil {
		return "", err
	}
	switch own {
	case bucketExternal:
		// Not ours: never reconfigured, never deleted.
		return fmt.Sprintf("bucket %s existed before this pipeline and is used as it is", name), nil
	case bucketOtherPipeline:
		return "", terminalf(ReasonOwnedByAnotherPipeline,
			"bucket %q belongs to ResizePipeline %s; it is left untouched. Use another bucket in %s (a new ResizePipeline, since bucket names are fixed)",
			name, other, field)
	case bucketMissing:
		in := &s3.CreateBucketInput{Bucket: aws.String(name)}
		// us-east-1 is the one region that refuses its own name as a location.
		if s.d.Region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
				LocationConstraint: s3types.BucketLocationConstraint(s.d.Region),
			}
		}
		if _, err := c.CreateBucket(ctx, in); err != nil {
			if isCode(err, "BucketAlreadyExists") {
				return "", terminalf(ReasonBucketNameTaken,
					"bucket name %q is taken by another AWS account; create a new ResizePipeline with another name in %s", name, field)
			}
			return "", err
		}
		// Tag first: the tag is the record that this pipeline created the
		// bucket, which deletion relies on.
		if err := putBucketTags(ctx, c, name, s.d.Tags); err != nil {
			return "", err
		}
		tags = s.d.Tags
		s.event(corev1.EventTypeNormal, ReasonCreated, "CreateBucket", "Created S3 bucket %s", name)
	}

	// Ours: converge the settings.
	changed := false
	if missing := missingTags(s.d.Tags, tags); len(missing) > 0 {
		merged := map[string]string{}
		for k, v := range tags {
			merged[k] = v
		}
		for k, v := range missing {
			merged[k] = v
		}
		if err := putBucketTags(ctx, c, name, merged); err != nil {
			return "", err
		}
		changed = true
	}
	pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(name)})
	if err != nil && !isCode(err, "NoSuchPublicAccessBlockConfiguration") {
		return "", err
	}
	if err != nil || !allPublicAccessBlocked(pab.PublicAccessBlockConfiguration) {
		if _, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
			Bucket: aws.String(name),
			PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls:       aws.Bool(true),
				IgnorePublicAcls:      aws.Bool(true),
				BlockPublicPolicy:     aws.Bool(true),
				RestrictPublicBuckets: aws.Bool(true),
			},
		}); err != nil {
			return "", err
		}
		changed = true
	}
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(name)})
	if err != nil && !isCode(err, "ServerSideEncryptionConfigurationNotFoundError") {
		return "", err
	}
	if err != nil || !hasDefaultEncryption(enc.ServerSideEncryptionConfiguration) {
		if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket: aws.String(name),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{
					ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
						SSEAlgorithm: s3types.ServerSideEncryptionAes256,
					},
				}},
			},
		}); err != nil {
			return "", err
		}
		changed = true
	}
	if changed && own == bucketOurs {
		s.event(corev1.EventTypeNormal, ReasonUpdated, "UpdateBucket", "Restored the tags, public access block or encryption of S3 bucket %s", name)
	}
	return "", nil
}

func putBucketTags(ctx context.Context, c BucketAPI, name string, tags map[string]string) error {
	set := make([]s3types.Tag, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
		Bucket:  aws.String(name),
		Tagging: &s3types.Tagging{TagSet: set},
	})
	return err
}

func allPublicAccessBlocked(c *s3types.PublicAccessBlockConfiguration) bool {
	return c != nil && aws.ToBool(c.BlockPublicAcls) && aws.ToBool(c.IgnorePublicAcls) &&
		aws.ToBool(c.BlockPublicPolicy) && aws.ToBool(c.RestrictPublicBuckets)
}

// hasDefaultEncryption accepts SSE-S3 and also a KMS key someone chose:
// either keeps objects encrypted at rest, and replacing a customer's key
// with SSE-S3 would be a downgrade.
func hasDefaultEncryption(c *s3types.ServerSideEncryptionConfiguration) bool {
	if c == nil {
		return false
	}
	for _, r := range c.Rules {
		if r.ApplyServerSideEncryptionByDefault != nil && r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != "" {
			return true
		}
	}
	return false
}

// deleteBuckets removes the buckets this pipeline created, if empty. A bucket
// with objects is kept (never emptied) and an Event says so.
func (r *ResizePipelineReconciler) deleteBuckets(ctx context.Context, s *scope) error {
	for _, name := range []string{s.d.DestinationBucket, s.d.SourceBucket} {
		own, _, _, err := observeBucket(ctx, s.aws.S3, name, s.d.Owner, s.d.Region)
		if err != nil {
			if Classify(err) == Terminal {
				// Not ours to delete anyway.
				continue
			}
			return err
		}
		if own != bucketOurs {
			continue
		}
		_, err = s.aws.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
		switch {
		case err == nil:
			s.event(corev1.EventTypeNormal, ReasonDeleted, "DeleteBucket", "Deleted S3 bucket %s", name)
		case isCode(err, "BucketNotEmpty"):
			s.event(corev1.EventTypeWarning, ReasonBucketKept, "DeleteBucket",
				"Kept S3 bucket %s: it still holds objects, which are never deleted; empty and delete it yourself if it is no longer needed", name)
		case isCode(err, "NoSuchBucket"):
		default:
			return err
		}
	}
	return nil
}
