package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// Condition reasons (CamelCase, as kstatus and kubectl expect) and Event
// reasons.
const (
	ReasonReady                  = "Ready"
	ReasonReconciling            = "Reconciling"
	ReasonWaiting                = "WaitingForDependency"
	ReasonUpdating               = "Updating"
	ReasonWaitingForIAM          = "WaitingForIAMPropagation"
	ReasonThrottled              = "Throttled"
	ReasonRetrying               = "RetryingAWSError"
	ReasonAWSError               = "AWSError"
	ReasonOwnedByAnotherPipeline = "OwnedByAnotherPipeline"
	ReasonNotCreatedByPipeline   = "NotCreatedByPipeline"
	ReasonBucketNameTaken        = "BucketNameTaken"
	ReasonBundleMissing          = "FunctionBundleMissing"
	ReasonFunctionFailed         = "FunctionFailed"
	ReasonImmutableField         = "ImmutableInAWS"
	ReasonProvisionerUnavailable = "ProvisionerUnavailable"
	ReasonRegionUnknown          = "RegionUnknown"
	ReasonRegionChanged          = "RegionChanged"
	ReasonBucketInOtherRegion    = "BucketInOtherRegion"
	ReasonDeleting               = "Deleting"

	// Event-only reasons.
	ReasonCreated      = "Created"
	ReasonUpdated      = "Updated"
	ReasonDeleted      = "Deleted"
	ReasonDeployed     = "Deployed"
	ReasonBucketKept   = "BucketKept"
	ReasonRetained     = "Retained"
	ReasonReconcileErr = "ReconcileFailed"
)

// resourceConditions are the per-resource conditions in phase order; Ready
// summarises them.
var resourceConditions = []string{
	pipelinesv1alpha1.ConditionBucketsReady,
	pipelinesv1alpha1.ConditionRolesReady,
	pipelinesv1alpha1.ConditionFunctionReady,
	pipelinesv1alpha1.ConditionStateMachineReady,
	pipelinesv1alpha1.ConditionAPIReady,
}

// setCondition is the one way conditions change. The generation stamped on
// a condition says which spec it describes.
func setCondition(rp *pipelinesv1alpha1.ResizePipeline, typ string, ok bool, reason, msg string) {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&rp.Status.Conditions, metav1.Condition{
		Type:               typ,
		Status:             st,
		Reason:             reason,
		Message:            msg,
		ObservedGeneration: rp.Generation,
	})
}

// summarizeReady sets Ready from the resource conditions: True when all are
// True, else False with the reason and message of the first that is not, so
// `kubectl get` shows what the user is waiting for or must fix.
func summarizeReady(rp *pipelinesv1alpha1.ResizePipeline) {
	for _, t := range resourceConditions {
		c := meta.FindStatusCondition(rp.Status.Conditions, t)
		if c == nil {
			setCondition(rp, pipelinesv1alpha1.ConditionReady, false, ReasonReconciling, t+" has not been reported yet")
			return
		}
		if c.Status != metav1.ConditionTrue {
			setCondition(rp, pipelinesv1alpha1.ConditionReady, false, c.Reason, fmt.Sprintf("%s: %s", t, c.Message))
			return
		}
	}
	setCondition(rp, pipelinesv1alpha1.ConditionReady, true, ReasonReady, "The pipeline is ready: POST resize requests to "+rp.Status.Endpoint)
}

// patchStatus writes the status once per reconcile, as a merge patch against
// what was read, so nothing else of the object is touched.
func (r *ResizePipelineReconciler) patchStatus(ctx context.Context, rp, orig *pipelinesv1alpha1.ResizePipeline) error {
	// Reconciling and Stalled follow Ready, whichever path set it.
	setKstatusConditions(rp)
	if equalStatus(rp.Status, orig.Status) {
		return nil
	}
	return client.IgnoreNotFound(r.Status().Patch(ctx, rp, client.MergeFrom(orig)))
}

func equalStatus(a, b pipelinesv1alpha1.ResizePipelineStatus) bool {
	if a.ObservedGeneration != b.ObservedGeneration || a.Endpoint != b.Endpoint || a.Region != b.Region ||
		a.StateMachineProvisioner != b.StateMachineProvisioner || a.Resources != b.Resources ||
		len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for _, ca := range a.Conditions {
		cb := meta.FindStatusCondition(b.Conditions, ca.Type)
		if cb == nil || cb.Status != ca.Status || cb.Reason != ca.Reason || cb.Message != ca.Message ||
			cb.ObservedGeneration != ca.ObservedGeneration {
			return false
		}
	}
	return true
}
