package controllers

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// The kstatus condition types (sigs.k8s.io/cli-utils/pkg/kstatus), read by
// Flux's health checks, `kpt live status` and other kstatus users. Both are
// "abnormal-true": present and True only while they hold. Without them
// kstatus calls a resource Current as soon as its generation is observed,
// even with Ready=False.
const (
	// ConditionReconciling: the controller is still working toward the spec
	// (first creation, an update settling, a retryable AWS error).
	ConditionReconciling = "Reconciling"
	// ConditionStalled: the controller cannot make progress without a person
	// (a terminal error); kstatus reports the pipeline Failed.
	ConditionStalled = "Stalled"
)

// stalledReasons are the Ready reasons that need a person to change the spec
// or the AWS account. Every other reason of a False Ready is progress the
// controller makes by itself. Deleting is terminal for the error class (it
// waits for the resync, not a backoff) but clears by itself.
var stalledReasons = map[string]bool{
	ReasonAWSError:               true,
	ReasonBucketNameTaken:        true,
	ReasonBucketInOtherRegion:    true,
	ReasonOwnedByAnotherPipeline: true,
	ReasonNotCreatedByPipeline:   true,
	ReasonBundleMissing:          true,
	ReasonFunctionFailed:         true,
	ReasonImmutableField:         true,
	ReasonProvisionerUnavailable: true,
	ReasonRegionUnknown:          true,
	ReasonRegionChanged:          true,
	ReasonACKNotInstalled:        true,
	ReasonACKTerminal:            true,
}

// setKstatusConditions derives Reconciling and Stalled from Ready, so the
// three always agree: Ready=True has neither; a False Ready is Stalled when
// its reason needs a person, else Reconciling, with Ready's reason and
// message.
func setKstatusConditions(rp *pipelinesv1alpha1.ResizePipeline) {
	ready := meta.FindStatusCondition(rp.Status.Conditions, pipelinesv1alpha1.ConditionReady)
	switch {
	case ready != nil && ready.Status == metav1.ConditionTrue:
		meta.RemoveStatusCondition(&rp.Status.Conditions, ConditionReconciling)
		meta.RemoveStatusCondition(&rp.Status.Conditions, ConditionStalled)
	case ready != nil && stalledReasons[ready.Reason]:
		meta.RemoveStatusCondition(&rp.Status.Conditions, ConditionReconciling)
		setCondition(rp, ConditionStalled, true, ready.Reason, ready.Message)
	case ready != nil:
		meta.RemoveStatusCondition(&rp.Status.Conditions, ConditionStalled)
		setCondition(rp, ConditionReconciling, true, ready.Reason, ready.Message)
	default:
		meta.RemoveStatusCondition(&rp.Status.Conditions, ConditionStalled)
		setCondition(rp, ConditionReconciling, true, ReasonReconciling, "The controller has not reported the pipeline yet")
	}
}
