package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

func TestSummarizeReady(t *testing.T) {
	type cond struct {
		typ    string
		ok     bool
		reason string
		msg    string
	}
	allTrue := func() []cond {
		var out []cond
		for _, c := range resourceConditions {
			out = append(out, cond{c, true, "Provisioned", c + " fine"})
		}
		return out
	}
	cases := map[string]struct {
		conds []cond
		want  cond
	}{
		"nothing reported yet": {
			nil,
			cond{"Ready", false, ReasonReconciling, "BucketsReady has not been reported yet"},
		},
		"all ready": {
			allTrue(),
			cond{"Ready", true, ReasonReady, "The pipeline is ready: POST resize requests to https://x/prod/resize"},
		},
		"first failing condition wins": {
			append(allTrue(),
				cond{pipelinesv1alpha1.ConditionFunctionReady, false, ReasonOwnedByAnotherPipeline, "Lambda function F belongs to ResizePipeline a/b"},
				cond{pipelinesv1alpha1.ConditionStateMachineReady, false, ReasonWaiting, "Waiting for FunctionReady"}),
			cond{"Ready", false, ReasonOwnedByAnotherPipeline, "FunctionReady: Lambda function F belongs to ResizePipeline a/b"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rp := &pipelinesv1alpha1.ResizePipeline{}
			rp.Generation = 4
			rp.Status.Endpoint = "https://x/prod/resize"
			for _, c := range tc.conds {
				setCondition(rp, c.typ, c.ok, c.reason, c.msg)
			}
			summarizeReady(rp)
			got := meta.FindStatusCondition(rp.Status.Conditions, pipelinesv1alpha1.ConditionReady)
			want := metav1.ConditionFalse
			if tc.want.ok {
				want = metav1.ConditionTrue
			}
			if diff := cmp.Diff([]string{string(want), tc.want.reason, tc.want.msg},
				[]string{string(got.Status), got.Reason, got.Message}); diff != "" {
				t.Errorf("Ready (-want +got):\n%s", diff)
			}
			if got.ObservedGeneration != 4 {
				t.Errorf("Ready.observedGeneration = %d, want 4", got.ObservedGeneration)
			}
		})
	}
}

func TestEqualStatusIgnoresTransitionTimes(t *testing.T) {
	a := pipelinesv1alpha1.ResizePipelineStatus{Conditions: []metav1.Condition{{Type: "Ready", Status: "True", Reason: "Ready", Message: "m"}}}
	b := *a.DeepCopy()
	b.Conditions[0].LastTransitionTime = metav1.Now()
	if !equalStatus(a, b) {
		t.Errorf("statuses that differ only in transition time must compare equal, or every reconcile writes status")
	}
	b.Conditions[0].Message = "other"
	if equalStatus(a, b) {
		t.Errorf("a changed message must be written")
	}
}
