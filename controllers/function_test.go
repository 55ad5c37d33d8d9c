package controllers

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-cmp/cmp"
)

// fakeLambda records the operations called; GetFunction answers with get,
// CreateFunction fails with createErr when set. Lambda's asynchronous
// behaviour is modelled as on AWS: a created function is Pending and an
// update leaves LastUpdateStatus InProgress.
type fakeLambda struct {
	get       *lambda.GetFunctionOutput
	createErr error
	calls     []string
}

func (f *fakeLambda) GetFunction(_ context.Context, _ *lambda.GetFunctionInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	f.calls = append(f.calls, "GetFunction")
	if f.get == nil {
		return nil, apiErr("ResourceNotFoundException", "Function not found")
	}
	return f.get, nil
}

func (f *fakeLambda) CreateFunction(_ context.Context, in *lambda.CreateFunctionInput, _ ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error) {
	f.calls = append(f.calls, "CreateFunction")
	if f.createErr != nil {
		return nil, f.createErr
	}
	return &lambda.CreateFunctionOutput{FunctionArn: aws.String("arn:aws:lambda:us-east-1:1:function:" + aws.ToString(in.FunctionName)),
		CodeSha256: aws.String("sha-bundle"), State: lambdatypes.StatePending}, nil
}

func (f *fakeLambda) UpdateFunctionCode(_ context.Context, _ *lambda.UpdateFunctionCodeInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error) {
	f.calls = append(f.calls, "UpdateFunctionCode")
	return &lambda.UpdateFunctionCodeOutput{CodeSha256: aws.String("sha-bundle"), State: lambdatypes.StateActive,
		LastUpdateStatus: lambdatypes.LastUpdateStatusInProgress}, nil
}

func (f *fakeLambda) UpdateFunctionConfiguration(_ context.Context, _ *lambda.UpdateFunctionConfigurationInput, _ ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	f.calls = append(f.calls, "UpdateFunctionConfiguration")
	return &lambda.UpdateFunctionConfigurationOutput{State: lambdatypes.StateActive, LastUpdateStatus: lambdatypes.LastUpdateStatusInProgress}, nil
}

func (f *fakeLambda) TagResource(_ context.Context, _ *lambda.TagResourceInput, _ ...func(*lambda.Options)) (*lambda.TagResourceOutput, error) {
	f.calls = append(f.calls, "TagResource")
	return &lambda.TagResourceOutput{}, nil
}

func (f *fakeLambda) DeleteFunction(_ context.Context, _ *lambda.DeleteFunctionInput, _ ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error) {
	f.calls = append(f.calls, "DeleteFunction")
	return &lambda.DeleteFunctionOutput{}, nil
}

type fakeBundle struct{ sha string }

func (b fakeBundle) Zip(string) ([]byte, error)    { return []byte("zip"), nil }
func (b fakeBundle) SHA256(string) (string, error) { return b.sha, nil }

const (
	fakeRoleARN     = "arn:aws:iam::1:role/resize-media-demo-function"
	fakeFunctionARN = "arn:aws:lambda:us-east-1:1:function:ResizeImage"
)

// deployed is a function as AWS reports it, in sync with the default spec.
func deployed(mutate ...func(*lambda.GetFunctionOutput)) *lambda.GetFunctionOutput {
	out := &lambda.GetFunctionOutput{
		Configuration: &lambdatypes.FunctionConfiguration{
			FunctionArn:      aws.String(fakeFunctionARN),
			Runtime:          lambdatypes.RuntimeProvidedal2023,
			Handler:          aws.String(FunctionHandler),
			MemorySize:       aws.Int32(1024),
			Timeout:          aws.Int32(30),
			Architectures:    []lambdatypes.Architecture{lambdatypes.ArchitectureX8664},
			Role:             aws.String(fakeRoleARN),
			Environment:      &lambdatypes.EnvironmentResponse{Variables: FunctionEnvironment(pipeline().Spec.Thumbnail)},
			CodeSha256:       aws.String("sha-bundle"),
			State:            lambdatypes.StateActive,
			LastUpdateStatus: lambdatypes.LastUpdateStatusSuccessful,
		},
		Tags: map[string]string{OwnerTagKey: "media/demo"},
	}
	for _, m := range mutate {
		m(out)
	}
	return out
}

func TestReconcileFunction(t *testing.T) {
	cases := map[string]struct {
		lambda      *fakeLambda
		wantCalls   []string
		wantRequeue bool
		wantClass   *ErrorClass
		wantReason  string
	}{
		"missing: created, then waits while Pending": {
			lambda:      &fakeLambda{},
			wantCalls:   []string{"GetFunction", "CreateFunction"},
			wantRequeue: true,
		},
		"IAM propagation on create is retryable": {
			lambda:     &fakeLambda{createErr: apiErr("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")},
			wantCalls:  []string{"GetFunction", "CreateFunction"},
			wantClass:  ptrTo(Retryable),
			wantReason: ReasonWaitingForIAM,
		},
		"in sync: reads only": {
			lambda:    &fakeLambda{get: deployed()},
			wantCalls: []string{"GetFunction"},
		},
		"an unset architecture is x86_64, not drift": {
			lambda:    &fakeLambda{get: deployed(func(o *lambda.GetFunctionOutput) { o.Configuration.Architectures = nil })},
			wantCalls: []string{"GetFunction"},
		},
		"memory drift: configuration only": {
			lambda:      &fakeLambda{get: deployed(func(o *lambda.GetFunctionOutput) { o.Configuration.MemorySize = aws.Int32(256) })},
			wantCalls:   []string{"GetFunction", "UpdateFunctionConfiguration"},
			wantRequeue: true,
		},
		"new bundle: code only": {
			lambda:      &fakeLambda{get: deployed(func(o *lambda.GetFunctionOutput) { o.Configuration.CodeSha256 = aws.String("sha-old") })},
			wantCalls:   []string{"GetFunction", "UpdateFunctionCode"},
			wantRequeue: true,
		},
		"new bundle and drift: code first, configuration once it settled": {
			lambda: &fakeLambda{get: deployed(func(o *lambda.GetFunctionOutput) {
				o.Configuration.CodeSha256 = aws.String("sha-old")
				o.Configuration.Timeout = aws.Int32(3)
			})},
			wantCalls:   []string{"GetFunction", "UpdateFunctionCode"},
			wantRequeue: true,
		},
		"busy updating: waits, changes nothing": {
			lambda: &fakeLambda{get: deployed(func(o *lambda.GetFunctionOutput) {
				o.Configuration.LastUpdateStatus = lambdatypes.LastUpdateStatusInProgress
				o.Configuration.MemorySize = aws.Int32(256)
			})},
			wantCalls:   []string{"GetFunction"},
			wantRequeue: true,
		},
		"tags added by others are left alone": {
			lambda:    &fakeLambda{get: deployed(func(o *lambda.GetFunctionOutput) { o.Tags = map[string]string{OwnerTagKey: "media/demo", "x": "y"} })},
			wantCalls: []string{"GetFunction"},
		},
		"another pipeline's function is not touched": {
			lambda: &fakeLambda{get: deployed(func(o *lambda.GetFunctionOutput) {
				o.Tags = map[string]string{OwnerTagKey: "media/other"}
				o.Configuration.MemorySize = aws.Int32(256)
			})},
			wantCalls:  []string{"GetFunction"},
			wantClass:  ptrTo(Terminal),
			wantReason: ReasonOwnedByAnotherPipeline,
		},
		"an untagged function is not touched": {
			lambda:     &fakeLambda{get: deployed(func(o *lambda.GetFunctionOutput) { o.Tags = nil })},
			wantCalls:  []string{"GetFunction"},
			wantClass:  ptrTo(Terminal),
			wantReason: ReasonNotCreatedByPipeline,
		},
		"failed function is terminal": {
			lambda: &fakeLambda{get: deployed(func(o *lambda.GetFunctionOutput) {
				o.Configuration.State = lambdatypes.StateFailed
				o.Configuration.StateReason = aws.String("bad zip")
			})},
			wantCalls:  []string{"GetFunction"},
			wantClass:  ptrTo(Terminal),
			wantReason: ReasonFunctionFailed,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rp := pipeline()
			rp.Status.Resources.FunctionRoleARN = fakeRoleARN
			s := &scope{rp: rp, d: ComputeDesired(rp, "us-east-1"), aws: &AWSClients{Lambda: tc.lambda}}
			r := &ResizePipelineReconciler{Bundle: fakeBundle{sha: "sha-bundle"}}
			out, err := r.reconcileFunction(context.Background(), s)
			if diff := cmp.Diff(tc.wantCalls, tc.lambda.calls); diff != "" {
				t.Errorf("Lambda calls (-want +got):\n%s", diff)
			}
			if tc.wantClass != nil {
				if err == nil {
					t.Fatalf("no error; want a %v one", *tc.wantClass)
				}
				if got := Classify(err); got != *tc.wantClass {
					t.Errorf("error class = %v, want %v (%v)", got, *tc.wantClass, err)
				}
				if got := reasonFor(err); got != tc.wantReason {
					t.Errorf("reason = %q, want %q", got, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := out.requeueAfter > 0; got != tc.wantRequeue {
				t.Errorf("requeue = %v (%+v), want %v", got, out, tc.wantRequeue)
			}
			if rp.Status.Resources.FunctionARN == "" {
				t.Errorf("the function ARN is not recorded in status")
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
