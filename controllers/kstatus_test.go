package controllers

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

func TestKstatusConditionsFollowReady(t *testing.T) {
	cases := map[string]struct {
		ready           *metav1.Condition
		wantReconciling bool
		wantStalled     bool
	}{
		"ready":             {ready: &metav1.Condition{Status: metav1.ConditionTrue, Reason: ReasonReady}},
		"first reconcile":   {ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonReconciling}, wantReconciling: true},
		"iam propagation":   {ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonWaitingForIAM}, wantReconciling: true},
		"function updating": {ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonUpdating}, wantReconciling: true},
		"aws error":         {ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonAWSError}, wantStalled: true},
		"foreign owner":     {ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonOwnedByAnotherPipeline}, wantStalled: true},
		"no ready yet":      {wantReconciling: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rp := &pipelinesv1alpha1.ResizePipeline{}
			rp.Generation = 4
			// Start from the opposite state, so stale conditions must go.
			setCondition(rp, ConditionReconciling, true, "Old", "old")
			setCondition(rp, ConditionStalled, true, "Old", "old")
			if tc.ready != nil {
				setCondition(rp, pipelinesv1alpha1.ConditionReady, tc.ready.Status == metav1.ConditionTrue, tc.ready.Reason, "msg")
			} else {
				meta.RemoveStatusCondition(&rp.Status.Conditions, pipelinesv1alpha1.ConditionReady)
			}
			setKstatusConditions(rp)
			check := func(typ string, want bool) {
				c := meta.FindStatusCondition(rp.Status.Conditions, typ)
				if !want {
					if c != nil {
						t.Errorf("%s is present: %+v", typ, *c)
					}
					return
				}
				if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != 4 {
					t.Fatalf("%s = %+v, want True at generation 4", typ, c)
				}
				if tc.ready != nil && (c.Reason != tc.ready.Reason || c.Message != "msg") {
					t.Errorf("%s has reason %q message %q, want Ready's", typ, c.Reason, c.Message)
				}
			}
			check(ConditionReconciling, tc.wantReconciling)
			check(ConditionStalled, tc.wantStalled)
		})
	}
}

// TestEveryTerminalReasonIsClassified keeps stalledReasons in step with the
// code: each reason a terminal error is raised with must be either Stalled
// or known to clear by itself.
func TestEveryTerminalReasonIsClassified(t *testing.T) {
	clearsByItself := map[string]bool{"ReasonDeleting": true}
	files, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`terminalf\((Reason[A-Za-z]+)`)
	constants := map[string]string{
		"ReasonACKNotInstalled": ReasonACKNotInstalled, "ReasonACKTerminal": ReasonACKTerminal,
		"ReasonBucketInOtherRegion": ReasonBucketInOtherRegion, "ReasonBucketNameTaken": ReasonBucketNameTaken,
		"ReasonBundleMissing": ReasonBundleMissing, "ReasonFunctionFailed": ReasonFunctionFailed,
		"ReasonImmutableField": ReasonImmutableField, "ReasonNotCreatedByPipeline": ReasonNotCreatedByPipeline,
		"ReasonOwnedByAnotherPipeline": ReasonOwnedByAnotherPipeline, "ReasonProvisionerUnavailable": ReasonProvisionerUnavailable,
	}
	found := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		src, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			found++
			name := m[1]
			if clearsByItself[name] {
				continue
			}
			value, ok := constants[name]
			if !ok {
				t.Errorf("%s raises terminal errors with %s: add it to stalledReasons in kstatus.go (or to clearsByItself here), and to this test's constants", f.Name(), name)
				continue
			}
			if !stalledReasons[value] {
				t.Errorf("%s (%s) is a terminal reason missing from stalledReasons", name, value)
			}
		}
	}
	if found == 0 {
		t.Fatal("found no terminalf calls; has the helper been renamed?")
	}
}
