package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
)

// fakeSFN holds at most one state machine, described by sm with tags.
type fakeSFN struct {
	sm    *sfn.DescribeStateMachineOutput
	tags  map[string]string
	calls []string
}

func (f *fakeSFN) DescribeStateMachine(_ context.Context, in *sfn.DescribeStateMachineInput, _ ...func(*sfn.Options)) (*sfn.DescribeStateMachineOutput, error) {
	f.calls = append(f.calls, "DescribeStateMachine")
	if f.sm == nil || aws.ToString(in.StateMachineArn) != aws.ToString(f.sm.StateMachineArn) {
		return nil, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist")
	}
	return f.sm, nil
}

func (f *fakeSFN) ListStateMachines(_ context.Context, _ *sfn.ListStateMachinesInput, _ ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error) {
	f.calls = append(f.calls, "ListStateMachines")
	out := &sfn.ListStateMachinesOutput{}
	if f.sm != nil {
		out.StateMachines = []sfntypes.StateMachineListItem{{Name: f.sm.Name, StateMachineArn: f.sm.StateMachineArn}}
	}
	return out, nil
}

func (f *fakeSFN) ListTagsForResource(_ context.Context, _ *sfn.ListTagsForResourceInput, _ ...func(*sfn.Options)) (*sfn.ListTagsForResourceOutput, error) {
	f.calls = append(f.calls, "ListTagsForResource")
	return &sfn.ListTagsForResourceOutput{Tags: sfnTags(f.tags)}, nil
}

func (f *fakeSFN) CreateStateMachine(_ context.Context, in *sfn.CreateStateMachineInput, _ ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error) {
	f.calls = append(f.calls, "CreateStateMachine")
	return &sfn.CreateStateMachineOutput{StateMachineArn: aws.String("arn:aws:states:us-east-1:1:stateMachine:" + aws.ToString(in.Name))}, nil
}

func (f *fakeSFN) UpdateStateMachine(_ context.Context, _ *sfn.UpdateStateMachineInput, _ ...func(*sfn.Options)) (*sfn.UpdateStateMachineOutput, error) {
	f.calls = append(f.calls, "UpdateStateMachine")
	return &sfn.UpdateStateMachineOutput{}, nil
}

func (f *fakeSFN) TagResource(_ context.Context, _ *sfn.TagResourceInput, _ ...func(*sfn.Options)) (*sfn.TagResourceOutput, error) {
	f.calls = append(f.calls, "TagResource")
	return &sfn.TagResourceOutput{}, nil
}

func (f *fakeSFN) DeleteStateMachine(_ context.Context, _ *sfn.DeleteStateMachineInput, _ ...func(*sfn.Options)) (*sfn.DeleteStateMachineOutput, error) {
	f.calls = append(f.calls, "DeleteStateMachine")
	return &sfn.DeleteStateMachineOutput{}, nil
}

const (
	fakeSMARN     = "arn:aws:states:us-east-1:1:stateMachine:ImageResizeWorkflow"
	fakeSMRoleARN = "arn:aws:iam::1:role/resize-media-demo-statemachine"
)

func describedSM(mutate ...func(*sfn.DescribeStateMachineOutput)) *sfn.DescribeStateMachineOutput {
	out := &sfn.DescribeStateMachineOutput{
		Name:            aws.String("ImageResizeWorkflow"),
		StateMachineArn: aws.String(fakeSMARN),
		Definition:      aws.String(Definition(fakeFunctionARN)),
		RoleArn:         aws.String(fakeSMRoleARN),
		Type:            sfntypes.StateMachineTypeStandard,
		Status:          sfntypes.StateMachineStatusActive,
	}
	for _, m := range mutate {
		m(out)
	}
	return out
}

func TestSDKStateMachineEnsure(t *testing.T) {
	ours := map[string]string{OwnerTagKey: "media/demo"}
	cases := map[string]struct {
		sfn         *fakeSFN
		statusARN   string
		wantCalls   []string
		wantRequeue bool
		wantReason  string // of a terminal error
	}{
		"missing: created": {
			sfn:       &fakeSFN{},
			wantCalls: []string{"ListStateMachines", "CreateStateMachine"},
		},
		"in sync, ARN in status: reads only": {
			sfn: &fakeSFN{sm: describedSM(), tags: ours}, statusARN: fakeSMARN,
			wantCalls: []string{"DescribeStateMachine", "ListTagsForResource"},
		},
		"status lost: found by name, not created again": {
			sfn:       &fakeSFN{sm: describedSM(), tags: ours},
			wantCalls: []string{"ListStateMachines", "DescribeStateMachine", "ListTagsForResource"},
		},
		"definition differs only in layout: no update": {
			sfn: &fakeSFN{sm: describedSM(func(o *sfn.DescribeStateMachineOutput) {
				var b bytes.Buffer
				_ = json.Compact(&b, []byte(Definition(fakeFunctionARN)))
				o.Definition = aws.String(b.String())
			}), tags: ours}, statusARN: fakeSMARN,
			wantCalls: []string{"DescribeStateMachine", "ListTagsForResource"},
		},
		"definition changed: updated": {
			sfn: &fakeSFN{sm: describedSM(func(o *sfn.DescribeStateMachineOutput) {
				o.Definition = aws.String(Definition("arn:aws:lambda:us-east-1:1:function:Other"))
			}), tags: ours}, statusARN: fakeSMARN,
			wantCalls: []string{"DescribeStateMachine", "ListTagsForResource", "UpdateStateMachine"},
		},
		"name still being deleted: waits": {
			sfn: &fakeSFN{sm: describedSM(func(o *sfn.DescribeStateMachineOutput) {
				o.Status = sfntypes.StateMachineStatusDeleting
			}), tags: ours},
			wantCalls:   []string{"ListStateMachines", "DescribeStateMachine"},
			wantRequeue: true,
		},
		"another pipeline's state machine is not touched": {
			sfn: &fakeSFN{sm: describedSM(func(o *sfn.DescribeStateMachineOutput) {
				o.Definition = aws.String("{}")
			}), tags: map[string]string{OwnerTagKey: "media/other"}},
			wantCalls:  []string{"ListStateMachines", "DescribeStateMachine", "ListTagsForResource"},
			wantReason: ReasonOwnedByAnotherPipeline,
		},
		"type cannot change": {
			sfn: &fakeSFN{sm: describedSM(func(o *sfn.DescribeStateMachineOutput) {
				o.Type = sfntypes.StateMachineTypeExpress
			}), tags: ours}, statusARN: fakeSMARN,
			wantCalls:  []string{"DescribeStateMachine", "ListTagsForResource"},
			wantReason: ReasonImmutableField,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rp := pipeline()
			rp.Status.Resources.StateMachineARN = tc.statusARN
			s := &scope{rp: rp, d: ComputeDesired(rp, "us-east-1"), aws: &AWSClients{SFN: tc.sfn}}
			out, err := sdkStateMachines{}.Ensure(context.Background(), s, fakeFunctionARN, fakeSMRoleARN)
			if diff := cmp.Diff(tc.wantCalls, tc.sfn.calls); diff != "" {
				t.Errorf("Step Functions calls (-want +got):\n%s", diff)
			}
			if tc.wantReason != "" {
				if err == nil || Classify(err) != Terminal || reasonFor(err) != tc.wantReason {
					t.Fatalf("error = %v; want a terminal one with reason %s", err, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := out.requeueAfter > 0; got != tc.wantRequeue {
				t.Errorf("requeue = %v (%+v), want %v", got, out, tc.wantRequeue)
			}
			if !tc.wantRequeue && rp.Status.Resources.StateMachineARN == "" {
				t.Errorf("the state machine ARN is not recorded in status")
			}
		})
	}
}
