// Package controllers reconciles ResizePipelines into AWS resources: two S3
// buckets, three IAM roles, the ResizeImage Lambda function, the
// ImageResizeWorkflow state machine and the ImageResizeAPI REST API.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// DefaultResyncPeriod is how often a ready pipeline is compared with AWS, so
// changes made behind the controller's back are put back.
const DefaultResyncPeriod = 10 * time.Minute

// ResizePipelineReconciler turns ResizePipelines into pipelines on AWS.
type ResizePipelineReconciler struct {
	client.Client
	// Events records Events on the pipeline (events.k8s.io/v1).
	Events events.EventRecorder
	// AWS gives the SDK clients of a region.
	AWS ClientSource
	// Bundle is the function's deployment package.
	Bundle CodeBundle
	// DefaultRegion is used by pipelines that name no region.
	DefaultRegion string
	// EndpointURL is the AWS endpoint override, if any; it changes the form
	// of status.endpoint to the local stack's.
	EndpointURL string
	// ResyncPeriod is the drift check interval; DefaultResyncPeriod if zero.
	ResyncPeriod time.Duration
	// Provisioners are the state machine provisioners besides the SDK one,
	// by spec.stateMachine.provisioner.
	Provisioners map[pipelinesv1alpha1.Provisioner]StateMachineProvisioner
}

// scope is what the phases of one reconcile share.
type scope struct {
	rp     *pipelinesv1alpha1.ResizePipeline
	d      Desired
	aws    *AWSClients
	events events.EventRecorder

	// api is the desired REST API, set by the API phase for the deployment
	// phase; apiChanged says the API phase changed something, which needs a
	// new deployment even when the desired API is unchanged (drift repaired).
	api        APISpec
	apiChanged bool
}

func (s *scope) event(eventType, reason, action, note string, args ...any) {
	if s.events != nil {
		s.events.Eventf(s.rp, nil, eventType, reason, action, note, args...)
	}
}

// phaseOutcome is what a phase that did not fail reports. A non-zero
// requeueAfter means "not ready yet, look again then" (e.g. a function still
// updating), with reason and message for its condition.
type phaseOutcome struct {
	requeueAfter time.Duration
	reason       string
	message      string
}

// phase is one step of the reconcile, in dependency order.
type phase struct {
	name      string
	condition string
	run       func(context.Context, *scope) (phaseOutcome, error)
	// final is false for a phase whose success a later phase with the same
	// condition reports (the API is not ready until it is deployed).
	final bool
}

func (r *ResizePipelineReconciler) phases() []phase {
	return []phase{
		{"buckets", pipelinesv1alpha1.ConditionBucketsReady, r.reconcileBuckets, true},
		{"roles", pipelinesv1alpha1.ConditionRolesReady, r.reconcileRoles, true},
		{"function", pipelinesv1alpha1.ConditionFunctionReady, r.reconcileFunction, true},
		{"stateMachine", pipelinesv1alpha1.ConditionStateMachineReady, r.reconcileStateMachine, true},
		{"api", pipelinesv1alpha1.ConditionAPIReady, r.reconcileAPI, false},
		{"deployment", pipelinesv1alpha1.ConditionAPIReady, r.reconcileDeployment, true},
	}
}

// +kubebuilder:rbac:groups=pipelines.resize.dev,resources=resizepipelines,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pipelines.resize.dev,resources=resizepipelines/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pipelines.resize.dev,resources=resizepipelines/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Reconcile brings one pipeline's AWS resources to its spec.
func (r *ResizePipelineReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	ctx = WithPipeline(ctx, req.String())
	log := logf.FromContext(ctx)

	// 1. Load the pipeline. One deleted meanwhile needs nothing more: its
	//    finalizer ran before it could go.
	rp := &pipelinesv1alpha1.ResizePipeline{}
	if err := r.Get(ctx, req.NamespacedName, rp); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	// 2. Add the finalizer before anything is created in AWS, so nothing the
	//    pipeline creates can outlive it unnoticed.
	if rp.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(rp, Finalizer) {
		base := rp.DeepCopy()
		controllerutil.AddFinalizer(rp, Finalizer)
		if err := r.Patch(ctx, rp, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, err
		}
	}

	// 3. Status is written once, at the end, whatever path was taken.
	orig := rp.DeepCopy()
	defer func() {
		if err := r.patchStatus(ctx, rp, orig); err != nil {
			retErr = errors.Join(retErr, fmt.Errorf("writing status: %w", err))
		}
	}()

	// 4. Compute the desired state once. The region sticks to where the
	//    pipeline's resources were created, so deletion finds them even
	//    after spec.region was set to another one.
	region := rp.Status.Region
	if region == "" {
		region = rp.Spec.Region
	}
	if region == "" {
		region = r.DefaultRegion
	}
	if region == "" {
		if !rp.DeletionTimestamp.IsZero() {
			// Nothing can have been created without a region.
			return ctrl.Result{}, r.removeFinalizer(ctx, rp)
		}
		setCondition(rp, pipelinesv1alpha1.ConditionReady, false, ReasonRegionUnknown,
			"No AWS region: set spec.region, or start the controller with --aws-region or AWS_REGION")
		rp.Status.ObservedGeneration = rp.Generation
		return ctrl.Result{}, nil
	}
	s := &scope{rp: rp, d: ComputeDesired(rp, region), aws: r.AWS.ClientsFor(region), events: r.Events}
	if rp.Spec.Region != "" && rp.Status.Region != "" && rp.Spec.Region != rp.Status.Region && rp.DeletionTimestamp.IsZero() {
		// The schema lets an unset region be set once; to another region
		// than the one in use, obeying would recreate everything there and
		// strand the old resources.
		setCondition(rp, pipelinesv1alpha1.ConditionReady, false, ReasonRegionChanged, fmt.Sprintf(
			"The pipeline's resources live in %s; spec.region %s cannot take effect because AWS resources do not move between regions. "+
				"Create a new ResizePipeline for %s; deleting this one removes its resources from %s (deletionPolicy Retain keeps them)",
			rp.Status.Region, rp.Spec.Region, rp.Spec.Region, rp.Status.Region))
		rp.Status.ObservedGeneration = rp.Generation
		return ctrl.Result{}, nil
	}

	// 5. Deletion runs its own path, in reverse dependency order.
	if !rp.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}

	// 6. Run the phases in dependency order: buckets → roles → function →
	//    state machine → API → deployment. Each observes its resource,
	//    creates it if missing, updates only what differs, records the IDs AWS
	//    returned in status and sets its condition. A phase that fails or is
	//    not ready yet stops the rest: they depend on its output.
	rp.Status.Region = region
	phases := r.phases()
	var result ctrl.Result
	for i, p := range phases {
		out, err := p.run(ctx, s)
		if err != nil {
			return r.phaseFailed(ctx, s, phases, i, err)
		}
		if out.requeueAfter > 0 {
			setCondition(rp, p.condition, false, out.reason, out.message)
			markWaiting(rp, phases[i+1:], p.condition)
			result.RequeueAfter = out.requeueAfter
			log.V(1).Info("phase not ready yet", "phase", p.name, "requeueAfter", out.requeueAfter)
			break
		}
		if p.final {
			setCondition(rp, p.condition, true, "Provisioned", out.message)
		}
	}

	// 7. Summarise in Ready, mark this generation observed, and come back for
	//    the drift check.
	summarizeReady(rp)
	rp.Status.ObservedGeneration = rp.Generation
	if result.RequeueAfter == 0 {
		result.RequeueAfter = r.resync()
	}
	return result, nil
}

// phaseFailed reports a failed phase. Retryable errors go back to the queue
// with exponential backoff; terminal ones wait for the next resync or spec
// change, so a pipeline that needs a person does not hot-loop.
func (r *ResizePipelineReconciler) phaseFailed(ctx context.Context, s *scope, phases []phase, i int, err error) (ctrl.Result, error) {
	p := phases[i]
	class := Classify(err)
	reason := reasonFor(err)
	msg := err.Error()
	if class == Retryable {
		msg += "; retrying with backoff"
	}
	setCondition(s.rp, p.condition, false, reason, msg)
	markWaiting(s.rp, phases[i+1:], p.condition)
	summarizeReady(s.rp)
	s.rp.Status.ObservedGeneration = s.rp.Generation
	s.event(corev1.EventTypeWarning, reason, "Reconcile", "%s", msg)
	logf.FromContext(ctx).Info("phase failed", append([]any{"phase", p.name, "class", class.String(), "reason", reason, "error", err.Error()},
		awsErrorKeys(err)...)...)
	if class == Terminal {
		return ctrl.Result{RequeueAfter: r.resync()}, nil
	}
	return ctrl.Result{}, fmt.Errorf("%s phase: %w", p.name, err)
}

// markWaiting sets the conditions of the phases that did not run.
func markWaiting(rp *pipelinesv1alpha1.ResizePipeline, rest []phase, blocker string) {
	for _, p := range rest {
		if p.condition == blocker {
			continue
		}
		setCondition(rp, p.condition, false, ReasonWaiting, "Waiting for "+blocker)
	}
}

// reconcileDelete removes what the pipeline created, in reverse dependency
// order, unless deletionPolicy is Retain; then releases the finalizer.
func (r *ResizePipelineReconciler) reconcileDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	rp := s.rp
	if !controllerutil.ContainsFinalizer(rp, Finalizer) {
		return ctrl.Result{}, nil
	}
	if rp.Spec.DeletionPolicy == pipelinesv1alpha1.DeletionPolicyRetain {
		// An ACK StateMachine is deleted with ACK's retain policy, whatever
		// its annotation said before, so that ACK keeps the state machine.
		if err := r.retainStateMachine(ctx, s); err != nil {
			setCondition(rp, pipelinesv1alpha1.ConditionReady, false, reasonFor(err), "releasing the state machine: "+err.Error())
			return ctrl.Result{}, fmt.Errorf("releasing the state machine: %w", err)
		}
		s.event(corev1.EventTypeNormal, ReasonRetained, "Delete",
			"Kept every AWS resource of the pipeline (deletionPolicy Retain); they still carry the %s=%s tag", OwnerTagKey, s.d.Owner)
		return ctrl.Result{}, r.removeFinalizer(ctx, rp)
	}
	steps := []struct {
		name string
		run  func(context.Context, *scope) error
	}{
		{"api", r.deleteRestAPI},
		{"stateMachine", r.deleteStateMachine},
		{"function", r.deleteFunction},
		{"roles", r.deleteRoles},
		{"buckets", r.deleteBuckets},
	}
	for _, step := range steps {
		if err := step.run(ctx, s); err != nil {
			reason := reasonFor(err)
			msg := fmt.Sprintf("deleting the %s: %v", step.name, err)
			setCondition(rp, pipelinesv1alpha1.ConditionReady, false, reason, msg)
			s.event(corev1.EventTypeWarning, reason, "Delete", "%s", msg)
			logf.FromContext(ctx).Info("delete step failed", append([]any{"step", step.name, "class", Classify(err).String(), "reason", reason, "error", err.Error()},
				awsErrorKeys(err)...)...)
			if Classify(err) == Terminal {
				return ctrl.Result{RequeueAfter: r.resync()}, nil
			}
			return ctrl.Result{}, fmt.Errorf("deleting the %s: %w", step.name, err)
		}
	}
	return ctrl.Result{}, r.removeFinalizer(ctx, rp)
}

func (r *ResizePipelineReconciler) deleteStateMachine(ctx context.Context, s *scope) error {
	p, err := r.provisionerFor(ctx, s.rp)
	if err != nil {
		p = sdkStateMachines{}
	}
	return p.Delete(ctx, s)
}

func (r *ResizePipelineReconciler) removeFinalizer(ctx context.Context, rp *pipelinesv1alpha1.ResizePipeline) error {
	if !controllerutil.ContainsFinalizer(rp, Finalizer) {
		return nil
	}
	base := rp.DeepCopy()
	controllerutil.RemoveFinalizer(rp, Finalizer)
	return client.IgnoreNotFound(r.Patch(ctx, rp, client.MergeFrom(base)))
}

func (r *ResizePipelineReconciler) resync() time.Duration {
	if r.ResyncPeriod > 0 {
		return r.ResyncPeriod
	}
	return DefaultResyncPeriod
}

// SetupWithManager registers the controller. Status writes do not trigger
// reconciles (the generation does not change); the periodic requeue does the
// drift check. Provisioners that manage Kubernetes objects (ACK) add their
// watch to the controller once their kind is served.
func (r *ResizePipelineReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrentReconciles int) error {
	deletion := predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
		},
	}
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&pipelinesv1alpha1.ResizePipeline{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletion))).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles}).
		Named("resizepipeline").
		Build(r)
	if err != nil {
		return err
	}
	r.bindProvisioners(mgr, c)
	return nil
}
