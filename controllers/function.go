package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	corev1 "k8s.io/api/core/v1"
)

// FunctionAPI is what the controller uses of Lambda.
type FunctionAPI interface {
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, opts ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	UpdateFunctionCode(ctx context.Context, in *lambda.UpdateFunctionCodeInput, opts ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, opts ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	TagResource(ctx context.Context, in *lambda.TagResourceInput, opts ...func(*lambda.Options)) (*lambda.TagResourceOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, opts ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
}

// CodeBundle is the function's deployment package: the reproducible zip of
// lambda/ for an architecture, and its SHA-256 as Lambda reports CodeSha256
// (base64), so an unchanged bundle never triggers UpdateFunctionCode.
type CodeBundle interface {
	Zip(arch string) ([]byte, error)
	SHA256(arch string) (string, error)
}

// functionBusyRequeue is how soon a function that is still being created or
// updated is looked at again.
const functionBusyRequeue = 3 * time.Second

// reconcileFunction is the third phase: the ResizeImage function with the
// bundled code and the spec's configuration.
func (r *ResizePipelineReconciler) reconcileFunction(ctx context.Context, s *scope) (phaseOutcome, error) {
	c := s.aws.Lambda
	name := s.d.FunctionName
	want := s.d.FunctionConfiguration(s.rp.Status.Resources.FunctionRoleARN)
	sha, err := r.Bundle.SHA256(want.Architecture)
	if err != nil {
		return phaseOutcome{}, terminalf(ReasonBundleMissing, "the controller has no function bundle for %s: %v; rebuild the manager with make lambda", want.Architecture, err)
	}

	out, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	if isCode(err, "ResourceNotFoundException") {
		zip, err := r.Bundle.Zip(want.Architecture)
		if err != nil {
			return phaseOutcome{}, terminalf(ReasonBundleMissing, "the controller has no function bundle for %s: %v; rebuild the manager with make lambda", want.Architecture, err)
		}
		created, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName:  aws.String(name),
			Description:   aws.String("Resizes images for ResizePipeline " + s.d.Owner),
			Role:          aws.String(want.RoleARN),
			Runtime:       lambdatypes.Runtime(want.Runtime),
			Handler:       aws.String(want.Handler),
			MemorySize:    aws.Int32(want.MemoryMB),
			Timeout:       aws.Int32(want.Timeout),
			Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(want.Architecture)},
			Environment:   &lambdatypes.Environment{Variables: want.Environment},
			Code:          &lambdatypes.FunctionCode{ZipFile: zip},
			Tags:          s.d.Tags,
		})
		if err != nil {
			// IAM propagation lands here for the first seconds of a new
			// role; it is classified retryable and requeued with backoff.
			return phaseOutcome{}, err
		}
		s.event(corev1.EventTypeNormal, ReasonCreated, "CreateFunction", "Created Lambda function %s", name)
		s.rp.Status.Resources.FunctionARN = aws.ToString(created.FunctionArn)
		s.rp.Status.Resources.FunctionCodeSHA256 = aws.ToString(created.CodeSha256)
		return functionReadiness(name, created.State, created.LastUpdateStatus, aws.ToString(created.StateReason))
	}
	if err != nil {
		return phaseOutcome{}, err
	}
	if err := checkOwner("Lambda function", name, out.Tags, s.d.Owner,
		"delete that function or choose another spec.function.name in a new ResizePipeline"); err != nil {
		return phaseOutcome{}, err
	}
	cfg := out.Configuration
	arn := aws.ToString(cfg.FunctionArn)
	s.rp.Status.Resources.FunctionARN = arn

	// A function busy with an earlier update refuses another one; wait.
	if cfg.LastUpdateStatus == lambdatypes.LastUpdateStatusInProgress || cfg.State == lambdatypes.StatePending {
		return functionReadiness(name, cfg.State, cfg.LastUpdateStatus, aws.ToString(cfg.StateReason))
	}

	state, updateStatus, reason := cfg.State, cfg.LastUpdateStatus, aws.ToString(cfg.StateReason)
	codeSHA := aws.ToString(cfg.CodeSha256)
	have := observedFunctionConfig(cfg)
	if codeSHA != sha || have.Architecture != want.Architecture {
		zip, err := r.Bundle.Zip(want.Architecture)
		if err != nil {
			return phaseOutcome{}, terminalf(ReasonBundleMissing, "the controller has no function bundle for %s: %v; rebuild the manager with make lambda", want.Architecture, err)
		}
		upd, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
			FunctionName:  aws.String(name),
			ZipFile:       zip,
			Architectures: []lambdatypes.Architecture{lambdatypes.Architecture(want.Architecture)},
		})
		if err != nil {
			return phaseOutcome{}, err
		}
		s.event(corev1.EventTypeNormal, ReasonUpdated, "UpdateFunctionCode", "Updated the code of Lambda function %s (CodeSha256 %s)", name, aws.ToString(upd.CodeSha256))
		codeSHA = aws.ToString(upd.CodeSha256)
		state, updateStatus, reason = upd.State, upd.LastUpdateStatus, aws.ToString(upd.StateReason)
		have.Architecture = want.Architecture
		if updateStatus == lambdatypes.LastUpdateStatusInProgress && !have.Equal(want) {
			// The configuration follows once the code update settled.
			s.rp.Status.Resources.FunctionCodeSHA256 = codeSHA
			return phaseOutcome{requeueAfter: functionBusyRequeue, reason: ReasonUpdating,
				message: fmt.Sprintf("Lambda function %s is updating its code", name)}, nil
		}
	}
	s.rp.Status.Resources.FunctionCodeSHA256 = codeSHA
	if !have.Equal(want) {
		upd, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(name),
			Role:         aws.String(want.RoleARN),
			Runtime:      lambdatypes.Runtime(want.Runtime),
			Handler:      aws.String(want.Handler),
			MemorySize:   aws.Int32(want.MemoryMB),
			Timeout:      aws.Int32(want.Timeout),
			Environment:  &lambdatypes.Environment{Variables: want.Environment},
		})
		if err != nil {
			return phaseOutcome{}, err
		}
		s.event(corev1.EventTypeNormal, ReasonUpdated, "UpdateFunctionConfiguration", "Updated the configuration of Lambda function %s", name)
		state, updateStatus, reason = upd.State, upd.LastUpdateStatus, aws.ToString(upd.StateReason)
	}
	if missing := missingTags(s.d.Tags, out.Tags); len(missing) > 0 {
		if _, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: missing}); err != nil {
			return phaseOutcome{}, err
		}
		s.event(corev1.EventTypeNormal, ReasonUpdated, "TagResource", "Updated the tags of Lambda function %s", name)
	}
	return functionReadiness(name, state, updateStatus, reason)
}

// functionReadiness turns Lambda's state into the phase outcome: Active and
// not updating is ready; Pending or InProgress is checked again shortly.
func functionReadiness(name string, state lambdatypes.State, update lambdatypes.LastUpdateStatus, reason string) (phaseOutcome, error) {
	switch {
	case state == lambdatypes.StateFailed || update == lambdatypes.LastUpdateStatusFailed:
		return phaseOutcome{}, terminalf(ReasonFunctionFailed,
			"Lambda function %s failed: %s; fix the cause (often the role or the bundle) and the controller will update it", name, reason)
	case state == lambdatypes.StatePending || update == lambdatypes.LastUpdateStatusInProgress:
		return phaseOutcome{requeueAfter: functionBusyRequeue, reason: ReasonUpdating,
			message: fmt.Sprintf("Lambda function %s is being created or updated", name)}, nil
	}
	return phaseOutcome{message: "Lambda function " + name + " is active"}, nil
}

// observedFunctionConfig reads the owned fields back from Lambda.
func observedFunctionConfig(cfg *lambdatypes.FunctionConfiguration) FunctionConfig {
	fc := FunctionConfig{
		Runtime:  string(cfg.Runtime),
		Handler:  aws.ToString(cfg.Handler),
		MemoryMB: aws.ToInt32(cfg.MemorySize),
		Timeout:  aws.ToInt32(cfg.Timeout),
		RoleARN:  aws.ToString(cfg.Role),
		// Lambda's default when a function was created without one.
		Architecture: string(lambdatypes.ArchitectureX8664),
	}
	if len(cfg.Architectures) > 0 {
		fc.Architecture = string(cfg.Architectures[0])
	}
	if cfg.Environment != nil {
		fc.Environment = cfg.Environment.Variables
	}
	return fc
}

// deleteFunction removes the function if this pipeline created it.
func (r *ResizePipelineReconciler) deleteFunction(ctx context.Context, s *scope) error {
	c := s.aws.Lambda
	out, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(s.d.FunctionName)})
	if isCode(err, "ResourceNotFoundException") {
		return nil
	}
	if err != nil {
		return err
	}
	if out.Tags[OwnerTagKey] != s.d.Owner {
		return nil
	}
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(s.d.FunctionName)}); err != nil && !isCode(err, "ResourceNotFoundException") {
		return err
	}
	s.event(corev1.EventTypeNormal, ReasonDeleted, "DeleteFunction", "Deleted Lambda function %s", s.d.FunctionName)
	return nil
}

// FuncBundle adapts a pair of functions (such as package lambda/bundle's) to
// CodeBundle, remembering each architecture's hash: it is asked for on every
// reconcile and hashing a 10 MB zip each time is waste.
type FuncBundle struct {
	ZipFunc    func(arch string) ([]byte, error)
	SHA256Func func(arch string) (string, error)

	mu  sync.Mutex
	sha map[string]string
}

// Zip returns the zip for arch.
func (b *FuncBundle) Zip(arch string) ([]byte, error) { return b.ZipFunc(arch) }

// SHA256 returns the zip's CodeSha256 for arch.
func (b *FuncBundle) SHA256(arch string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if h, ok := b.sha[arch]; ok {
		return h, nil
	}
	h, err := b.SHA256Func(arch)
	if err != nil {
		return "", err
	}
	if b.sha == nil {
		b.sha = map[string]string{}
	}
	b.sha[arch] = h
	return h, nil
}
