package controllers

// The ACK provisioner: the state machine as an sfn.services.k8s.aws/v1alpha1
// StateMachine object that the AWS Controllers for Kubernetes sfn-controller
// turns into the AWS resource.
//
// The sfn-controller's Go module is not a dependency: the object is handled
// as unstructured data with the few fields below, taken from ACK's published
// API (spec.name, spec.definition, spec.roleARN, spec.type_, spec.tags;
// status.ackResourceMetadata.arn, status.conditions). ACK names the type field
// type_, not type: an object written with "type" would have it pruned
// silently by the API server.
//
// Handing over between provisioners keeps the same AWS state machine, so the
// ARN in status, the API's integration and the API role's policy never change
// and the API never points at a state machine that does not exist:
//
//   - SDK → ACK: the StateMachine object is created with ACK's adoption
//     annotations (services.k8s.aws/adoption-policy: adopt-or-create and
//     services.k8s.aws/adoption-fields: {"arn": <the existing ARN>}), but only
//     for a state machine that carries this pipeline's owner tag. ACK adopts
//     it and brings it to the object's spec; until ACK reports
//     ACK.ResourceSynced the SDK-created state machine keeps serving the API
//     under the same ARN. Even an sfn-controller without adoption ends up on
//     the same state machine: CreateStateMachine is idempotent for the same
//     name, definition and type, and returns the existing ARN.
//   - ACK → SDK: the object's deletion policy is set to retain, the object is
//     deleted, and the SDK provisioner takes over only once the
//     sfn-controller has released it (the object is gone), so two controllers
//     never write to the state machine at once. The SDK provisioner then finds
//     the state machine by the ARN in status (or by name) and, its owner tag
//     being this pipeline's, keeps it.
//
// Creating a second state machine under a new name and switching the API
// over before deleting the old one was the alternative. It needs a name the
// user did not choose, two writes to the API (integration, then the
// deployment) between which a failed reconcile leaves two state machines,
// and it loses the execution history; adoption has none of these problems.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/source"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// ACK's API: the StateMachine kind and the annotations and conditions every
// ACK controller understands.
var ACKStateMachineGVK = schema.GroupVersionKind{Group: "sfn.services.k8s.aws", Version: "v1alpha1", Kind: "StateMachine"}

const (
	ackDeletionPolicyAnnotation = "services.k8s.aws/deletion-policy"
	ackRegionAnnotation         = "services.k8s.aws/region"
	ackAdoptionPolicyAnnotation = "services.k8s.aws/adoption-policy"
	ackAdoptionFieldsAnnotation = "services.k8s.aws/adoption-fields"
	ackAdoptOrCreate            = "adopt-or-create"
	ackConditionSynced          = "ACK.ResourceSynced"
	ackConditionTerminal        = "ACK.Terminal"

	// ManagedByLabel and PipelineLabel mark the Kubernetes objects the
	// controller creates for a pipeline.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "resize-operator"
	PipelineLabel  = "pipelines.resize.dev/pipeline"

	ReasonACKNotInstalled = "ACKNotInstalled"
	ReasonACKTerminal     = "ACKTerminal"
	ReasonACKSyncing      = "WaitingForACK"
	ReasonHandingOver     = "HandingOver"

	// ackInstallHint is what a user without the sfn-controller must do.
	ackInstallHint = "install the ACK sfn-controller (https://aws-controllers-k8s.github.io/community/docs/user-docs/install/), " +
		"or set spec.stateMachine.provisioner to Auto or SDK"
)

// +kubebuilder:rbac:groups=sfn.services.k8s.aws,resources=statemachines,verbs=get;list;watch;create;update;patch;delete

// ACKStateMachines provisions the state machine as an ACK StateMachine
// object. Register it in ResizePipelineReconciler.Provisioners under
// ProvisionerACK: it then also decides what Auto means, and hands state
// machines back to the SDK provisioner.
type ACKStateMachines struct {
	// Client reads and writes StateMachine objects. Unstructured objects are
	// read from the API server, not a cache, so a reconcile never acts on a
	// StateMachine it wrote a moment ago but has not seen yet.
	Client client.Client
	// Mapper answers whether the cluster serves the StateMachine kind.
	Mapper meta.RESTMapper
	// PollInterval is how often a StateMachine that ACK has not synced yet is
	// looked at again, should no watch event come first.
	PollInterval time.Duration
	// RecheckAfter is how long a "the CRD is not served" answer is trusted
	// before discovery is asked again: a CRD installed later is picked up at
	// the next reconcile after that, without asking on every reconcile.
	RecheckAfter time.Duration

	// now is the clock; time.Now when nil.
	now func() time.Time

	mu          sync.Mutex
	notServedAt time.Time
	watching    bool
	startWatch  func() error
}

// NewACKStateMachines is the ACK provisioner for a manager.
func NewACKStateMachines(mgr ctrl.Manager) *ACKStateMachines {
	return &ACKStateMachines{Client: mgr.GetClient(), Mapper: mgr.GetRESTMapper()}
}

func (a *ACKStateMachines) Kind() pipelinesv1alpha1.Provisioner {
	return pipelinesv1alpha1.ProvisionerACK
}

func (a *ACKStateMachines) pollInterval() time.Duration {
	if a.PollInterval > 0 {
		return a.PollInterval
	}
	return 10 * time.Second
}

func (a *ACKStateMachines) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

func (a *ACKStateMachines) recheckAfter() time.Duration {
	if a.RecheckAfter > 0 {
		return a.RecheckAfter
	}
	return time.Minute
}

// bindController lets StateMachine events reach the pipeline's controller.
// The watch starts the first time the kind is found served, not at start-up:
// the StateMachine CRD may be installed after the controller, and a watch on a
// kind the API server does not serve would hold up the manager's start.
func (a *ACKStateMachines) bindController(mgr ctrl.Manager, c controller.Controller) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.startWatch = func() error {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(ACKStateMachineGVK)
		return c.Watch(source.Kind[client.Object](mgr.GetCache(), obj,
			handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), &pipelinesv1alpha1.ResizePipeline{}, handler.OnlyControllerOwner())))
	}
}

// served says whether the cluster serves the StateMachine kind. A failed
// discovery is an error, not "not served": Auto must not hand a state machine
// over because the API server hiccuped.
func (a *ACKStateMachines) served(ctx context.Context) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.notServedAt.IsZero() && a.clock().Sub(a.notServedAt) < a.recheckAfter() {
		return false, nil
	}
	_, err := a.Mapper.RESTMapping(ACKStateMachineGVK.GroupKind(), ACKStateMachineGVK.Version)
	if meta.IsNoMatchError(err) {
		a.notServedAt = a.clock()
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discovering %s: %w", ACKStateMachineGVK.GroupKind(), err)
	}
	a.notServedAt = time.Time{}
	if !a.watching && a.startWatch != nil {
		if err := a.startWatch(); err != nil {
			logf.FromContext(ctx).Error(err, "cannot watch ACK StateMachines; relying on polling")
		} else {
			a.watching = true
			logf.FromContext(ctx).Info("watching ACK StateMachines", "kind", ACKStateMachineGVK.String())
		}
	}
	return true, nil
}

// forgetServed drops a "served" answer that the API server contradicted (the
// CRD was removed).
func (a *ACKStateMachines) forgetServed() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notServedAt = a.clock()
}

func (a *ACKStateMachines) notInstalled() error {
	return terminalf(ReasonACKNotInstalled,
		"spec.stateMachine.provisioner is ACK but this cluster does not serve %s StateMachines (the CRD of the ACK sfn-controller): %s",
		ACKStateMachineGVK.GroupVersion(), ackInstallHint)
}

// provisionerResolver is implemented by a registered provisioner that decides
// which provisioner a pipeline gets (see provisionerFor).
type provisionerResolver interface {
	resolve(ctx context.Context, want pipelinesv1alpha1.Provisioner) (StateMachineProvisioner, error)
}

// resolve picks the provisioner for spec.stateMachine.provisioner: ACK when
// asked for (if served), SDK when asked for, and for Auto ACK exactly when the
// StateMachine kind is served. The SDK provisioner it returns first takes
// back a state machine that ACK managed before.
func (a *ACKStateMachines) resolve(ctx context.Context, want pipelinesv1alpha1.Provisioner) (StateMachineProvisioner, error) {
	if want == pipelinesv1alpha1.ProvisionerSDK {
		return sdkAfterACK{ack: a}, nil
	}
	served, err := a.served(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case served:
		return a, nil
	case want == pipelinesv1alpha1.ProvisionerACK:
		return nil, a.notInstalled()
	default:
		return sdkAfterACK{ack: a}, nil
	}
}

// ackObjectKey is the pipeline's StateMachine object: one per pipeline, named
// after it (state machine names may hold capitals, object names may not).
func ackObjectKey(rp *pipelinesv1alpha1.ResizePipeline) types.NamespacedName {
	return types.NamespacedName{Namespace: rp.Namespace, Name: rp.Name}
}

// ackDeletionPolicy is ACK's spelling of the pipeline's deletionPolicy.
func ackDeletionPolicy(p pipelinesv1alpha1.DeletionPolicy) string {
	if p == pipelinesv1alpha1.DeletionPolicyRetain {
		return "retain"
	}
	return "delete"
}

// ackTags is spec.tags: ACK's list of key/value pairs, sorted so that the
// same tags always compare equal.
func ackTags(tags map[string]string) []any {
	out := make([]any, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, map[string]any{"key": k, "value": tags[k]})
	}
	return out
}

// DesiredACKStateMachine is the StateMachine object of a pipeline whose
// function has functionARN and whose state machine role is roleARN.
func DesiredACKStateMachine(rp *pipelinesv1alpha1.ResizePipeline, d Desired, functionARN, roleARN string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"name":       d.StateMachineName,
			"definition": Definition(functionARN),
			"roleARN":    roleARN,
			"type_":      d.StateMachineType,
			"tags":       ackTags(d.Tags),
		},
	}}
	u.SetGroupVersionKind(ACKStateMachineGVK)
	key := ackObjectKey(rp)
	u.SetNamespace(key.Namespace)
	u.SetName(key.Name)
	u.SetLabels(map[string]string{ManagedByLabel: ManagedByValue, PipelineLabel: labelValue(rp.Name)})
	u.SetAnnotations(map[string]string{
		ackDeletionPolicyAnnotation: ackDeletionPolicy(rp.Spec.DeletionPolicy),
		ackRegionAnnotation:         d.Region,
	})
	u.SetOwnerReferences([]metav1.OwnerReference{*metav1.NewControllerRef(rp, pipelinesv1alpha1.GroupVersion.WithKind("ResizePipeline"))})
	return u
}

// labelValue is name as a label value: names may be up to 253 characters,
// label values 63, so a long name is cut and made unique by its hash.
func labelValue(name string) string {
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:52] + "-" + hex.EncodeToString(sum[:])[:10]
}

// ackStatus is what the controller reads of a StateMachine's status.
type ackStatus struct {
	arn              string
	synced           bool
	syncedMessage    string
	terminal         bool
	terminalMessage  string
	terminalReason   string
	hasSyncCondition bool
}

func readACKStatus(u *unstructured.Unstructured) ackStatus {
	var st ackStatus
	st.arn, _, _ = unstructured.NestedString(u.Object, "status", "ackResourceMetadata", "arn")
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := m["type"].(string)
		status, _ := m["status"].(string)
		msg, _ := m["message"].(string)
		reason, _ := m["reason"].(string)
		switch typ {
		case ackConditionSynced:
			st.hasSyncCondition = true
			st.synced = status == string(metav1.ConditionTrue)
			st.syncedMessage = msg
		case ackConditionTerminal:
			if status == string(metav1.ConditionTrue) {
				st.terminal, st.terminalMessage, st.terminalReason = true, msg, reason
			}
		}
	}
	return st
}

// isControlledBy says whether the pipeline is the object's controller.
func isControlledBy(u *unstructured.Unstructured, rp *pipelinesv1alpha1.ResizePipeline) bool {
	ref := metav1.GetControllerOf(u)
	return ref != nil && ref.UID == rp.UID
}

// get reads the pipeline's StateMachine object; nil when there is none.
func (a *ACKStateMachines) get(ctx context.Context, rp *pipelinesv1alpha1.ResizePipeline) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ACKStateMachineGVK)
	err := a.Client.Get(ctx, ackObjectKey(rp), u)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if meta.IsNoMatchError(err) {
		a.forgetServed()
		return nil, nil
	}
	return u, err
}

func (a *ACKStateMachines) notOurs(u *unstructured.Unstructured) error {
	return terminalf(ReasonOwnedByAnotherPipeline,
		"StateMachine %s/%s exists and is not controlled by this ResizePipeline, so it is left untouched; delete or rename it",
		u.GetNamespace(), u.GetName())
}

// Ensure makes the pipeline's StateMachine object match the spec, waits for
// ACK to sync it and records the ARN ACK reports.
func (a *ACKStateMachines) Ensure(ctx context.Context, s *scope, functionARN, roleARN string) (phaseOutcome, error) {
	rp := s.rp
	want := DesiredACKStateMachine(rp, s.d, functionARN, roleARN)
	cur, err := a.get(ctx, rp)
	if err != nil {
		return phaseOutcome{}, err
	}
	ref := want.GetNamespace() + "/" + want.GetName()
	if cur == nil {
		return a.create(ctx, s, want)
	}
	if !isControlledBy(cur, rp) {
		return phaseOutcome{}, a.notOurs(cur)
	}
	if !cur.GetDeletionTimestamp().IsZero() {
		// Left over from a handover back to the SDK that was reversed: let
		// ACK finish releasing it, then adopt the state machine again.
		return phaseOutcome{requeueAfter: a.pollInterval(), reason: ReasonHandingOver,
			message: "Waiting for the ACK sfn-controller to finish deleting StateMachine " + ref + " before it is created again"}, nil
	}

	specChanged, err := a.update(ctx, cur, want)
	if err != nil {
		return phaseOutcome{}, err
	}
	if specChanged {
		s.event(corev1.EventTypeNormal, ReasonUpdated, "UpdateStateMachine", "Updated the spec of ACK StateMachine %s", ref)
		// ACK's conditions carry no generation: the Synced seen now may
		// predate the change, so look again before calling it ready.
		return phaseOutcome{requeueAfter: a.pollInterval(), reason: ReasonACKSyncing,
			message: "Waiting for the ACK sfn-controller to apply the change to StateMachine " + ref}, nil
	}

	st := readACKStatus(cur)
	if st.terminal {
		return phaseOutcome{}, terminalf(ReasonACKTerminal,
			"the ACK sfn-controller cannot sync StateMachine %s (ACK.Terminal): %s", ref, st.terminalMessage)
	}
	if !st.synced || st.arn == "" {
		msg := "Waiting for the ACK sfn-controller to sync StateMachine " + ref
		if st.syncedMessage != "" {
			msg += ": " + st.syncedMessage
		}
		if !st.hasSyncCondition {
			msg += " (no ACK.ResourceSynced condition yet: is the sfn-controller running?)"
		}
		return phaseOutcome{requeueAfter: a.pollInterval(), reason: ReasonACKSyncing, message: msg}, nil
	}
	if res := &s.rp.Status.Resources; res.StateMachineARN != st.arn {
		if res.StateMachineARN != "" {
			logf.FromContext(ctx).Info("state machine ARN changed", "from", res.StateMachineARN, "to", st.arn)
		}
		res.StateMachineARN = st.arn
	}
	return phaseOutcome{message: "State machine " + s.d.StateMachineName + " is synced by ACK (StateMachine " + ref + ")"}, nil
}

// create makes the StateMachine object. A state machine this pipeline
// already runs (made by the SDK provisioner, or by ACK for an object deleted
// with the retain policy) is adopted, so its ARN does not change.
func (a *ACKStateMachines) create(ctx context.Context, s *scope, want *unstructured.Unstructured) (phaseOutcome, error) {
	ref := want.GetNamespace() + "/" + want.GetName()
	existing, err := sdkStateMachines{}.find(ctx, s)
	if err != nil {
		return phaseOutcome{}, err
	}
	msg := "Created StateMachine " + ref + "; waiting for the ACK sfn-controller to sync it"
	if existing != nil {
		arn := *existing.StateMachineArn
		tags, err := sdkStateMachines{}.tags(ctx, s, arn)
		if err != nil {
			return phaseOutcome{}, err
		}
		if err := checkOwner("state machine", s.d.StateMachineName, tags, s.d.Owner,
			"delete that state machine or choose another spec.stateMachine.name in a new ResizePipeline"); err != nil {
			return phaseOutcome{}, err
		}
		fields, err := json.Marshal(map[string]string{"arn": arn})
		if err != nil {
			return phaseOutcome{}, err
		}
		ann := want.GetAnnotations()
		ann[ackAdoptionPolicyAnnotation] = ackAdoptOrCreate
		ann[ackAdoptionFieldsAnnotation] = string(fields)
		want.SetAnnotations(ann)
		s.rp.Status.Resources.StateMachineARN = arn
		msg = "Created StateMachine " + ref + " to adopt state machine " + arn + "; waiting for the ACK sfn-controller to sync it"
	}
	if err := a.Client.Create(ctx, want); err != nil {
		if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			// The CRD went away after discovery said it was served.
			a.forgetServed()
			return phaseOutcome{}, a.notInstalled()
		}
		if apierrors.IsAlreadyExists(err) {
			return phaseOutcome{requeueAfter: time.Second, reason: ReasonACKSyncing, message: msg}, nil
		}
		return phaseOutcome{}, err
	}
	s.event(corev1.EventTypeNormal, ReasonCreated, "CreateStateMachine", "%s", msg)
	return phaseOutcome{requeueAfter: a.pollInterval(), reason: ReasonACKSyncing, message: msg}, nil
}

// update brings the object's spec, labels and annotations to want, leaving
// everything else (ACK's own annotations, status, the adoption annotations)
// alone, and says whether the spec changed. spec.name is not compared: ACK
// makes it immutable, as does ours.
func (a *ACKStateMachines) update(ctx context.Context, cur, want *unstructured.Unstructured) (specChanged bool, err error) {
	next := cur.DeepCopy()
	changed := false
	for _, f := range []string{"definition", "roleARN", "type_", "tags"} {
		w, _, _ := unstructured.NestedFieldNoCopy(want.Object, "spec", f)
		c, found, _ := unstructured.NestedFieldNoCopy(cur.Object, "spec", f)
		if found && equalJSONValues(w, c) {
			continue
		}
		if err := unstructured.SetNestedField(next.Object, w, "spec", f); err != nil {
			return false, err
		}
		specChanged = true
	}
	changed = specChanged
	for _, kv := range []struct {
		get func() map[string]string
		set func(map[string]string)
		w   map[string]string
	}{
		{next.GetLabels, next.SetLabels, want.GetLabels()},
		{next.GetAnnotations, next.SetAnnotations, want.GetAnnotations()},
	} {
		m := kv.get()
		if m == nil {
			m = map[string]string{}
		}
		diff := false
		for k, v := range kv.w {
			if m[k] != v {
				m[k], diff = v, true
			}
		}
		if diff {
			kv.set(m)
			changed = true
		}
	}
	if !changed {
		return false, nil
	}
	return specChanged, a.Client.Patch(ctx, next, client.MergeFromWithOptions(cur, client.MergeFromWithOptimisticLock{}))
}

// equalJSONValues compares two values of an unstructured object.
func equalJSONValues(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// release removes the pipeline's StateMachine object and waits until it is
// gone, telling ACK first to keep (policy "retain") or delete the AWS state
// machine. done is false while ACK still holds the object.
func (a *ACKStateMachines) release(ctx context.Context, rp *pipelinesv1alpha1.ResizePipeline, policy string) (done bool, ref string, err error) {
	served, err := a.served(ctx)
	if err != nil || !served {
		return err == nil, "", err
	}
	cur, err := a.get(ctx, rp)
	if err != nil || cur == nil {
		return err == nil, "", err
	}
	ref = cur.GetNamespace() + "/" + cur.GetName()
	if !isControlledBy(cur, rp) {
		return true, ref, nil
	}
	if cur.GetAnnotations()[ackDeletionPolicyAnnotation] != policy {
		// ACK reads the policy from the object it finalizes, so it must be
		// in place before the deletion, not with it.
		next := cur.DeepCopy()
		ann := next.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ackDeletionPolicyAnnotation] = policy
		next.SetAnnotations(ann)
		if err := a.Client.Patch(ctx, next, client.MergeFromWithOptions(cur, client.MergeFromWithOptimisticLock{})); err != nil {
			return false, ref, err
		}
		cur = next
	}
	if cur.GetDeletionTimestamp().IsZero() {
		uid := cur.GetUID()
		if err := a.Client.Delete(ctx, cur, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
			return false, ref, err
		}
		logf.FromContext(ctx).Info("deleted ACK StateMachine", "stateMachine", ref, "deletionPolicy", policy)
	}
	return false, ref, nil
}

// waitingForACK is returned by a deletion that waits for ACK to let go of a
// StateMachine object. It is retryable (requeued with backoff, and the watch
// on StateMachines brings the next reconcile as soon as the object is gone)
// and reported under its own reason rather than as an AWS error.
type waitingForACK struct{ msg string }

func (e *waitingForACK) Error() string           { return e.msg }
func (e *waitingForACK) ConditionReason() string { return ReasonACKSyncing }

// Delete deletes the StateMachine object, with ACK's deletion policy
// "delete", waits for it to be gone, then removes whatever state machine of
// the pipeline is still in AWS (one a handover left behind).
func (a *ACKStateMachines) Delete(ctx context.Context, s *scope) error {
	done, ref, err := a.release(ctx, s.rp, ackDeletionPolicy(pipelinesv1alpha1.DeletionPolicyDelete))
	if err != nil {
		return err
	}
	if !done {
		return &waitingForACK{fmt.Sprintf("waiting for the ACK sfn-controller to delete StateMachine %s and its state machine", ref)}
	}
	if ref != "" {
		s.event(corev1.EventTypeNormal, ReasonDeleted, "DeleteStateMachine", "Deleted ACK StateMachine %s", ref)
	}
	return sdkStateMachines{}.Delete(ctx, s)
}

// Retain deletes the StateMachine object with ACK's deletion policy
// "retain", so the pipeline's deletionPolicy Retain holds whatever the
// object's annotation said before, and waits for it to be gone.
func (a *ACKStateMachines) Retain(ctx context.Context, s *scope) error {
	done, ref, err := a.release(ctx, s.rp, ackDeletionPolicy(pipelinesv1alpha1.DeletionPolicyRetain))
	if err != nil {
		return err
	}
	if !done {
		return &waitingForACK{fmt.Sprintf("waiting for the ACK sfn-controller to release StateMachine %s (its state machine is kept)", ref)}
	}
	return nil
}

// sdkAfterACK is the SDK provisioner in a controller that also has the ACK
// one: before it manages the state machine, the pipeline's StateMachine
// object (if any) is released with the retain policy, so ACK stops managing
// the state machine without deleting it.
type sdkAfterACK struct {
	ack *ACKStateMachines
	sdkStateMachines
}

func (p sdkAfterACK) Ensure(ctx context.Context, s *scope, functionARN, roleARN string) (phaseOutcome, error) {
	done, ref, err := p.ack.release(ctx, s.rp, ackDeletionPolicy(pipelinesv1alpha1.DeletionPolicyRetain))
	if err != nil {
		return phaseOutcome{}, err
	}
	if !done {
		return phaseOutcome{requeueAfter: p.ack.pollInterval(), reason: ReasonHandingOver, message: fmt.Sprintf(
			"Handing the state machine over from ACK to the SDK provisioner: waiting for the ACK sfn-controller to release StateMachine %s (deletion policy retain); the API keeps using %s",
			ref, s.rp.Status.Resources.StateMachineARN)}, nil
	}
	if ref != "" {
		s.event(corev1.EventTypeNormal, ReasonUpdated, "HandOverStateMachine",
			"ACK released StateMachine %s; the controller manages state machine %s directly", ref, s.d.StateMachineName)
	}
	return p.sdkStateMachines.Ensure(ctx, s, functionARN, roleARN)
}

func (p sdkAfterACK) Delete(ctx context.Context, s *scope) error {
	return p.ack.Delete(ctx, s)
}

// bindProvisioners gives the provisioners that manage Kubernetes objects the
// controller their events go to.
func (r *ResizePipelineReconciler) bindProvisioners(mgr ctrl.Manager, c controller.Controller) {
	for _, k := range sortedProvisioners(r.Provisioners) {
		if b, ok := r.Provisioners[k].(interface {
			bindController(ctrl.Manager, controller.Controller)
		}); ok {
			b.bindController(mgr, c)
		}
	}
}

// retainStateMachine is the state machine's part of a deletion with
// deletionPolicy Retain: a StateMachine object goes, its state machine stays.
func (r *ResizePipelineReconciler) retainStateMachine(ctx context.Context, s *scope) error {
	if a, ok := r.Provisioners[pipelinesv1alpha1.ProvisionerACK].(*ACKStateMachines); ok {
		return a.Retain(ctx, s)
	}
	return nil
}

func sortedProvisioners(m map[pipelinesv1alpha1.Provisioner]StateMachineProvisioner) []pipelinesv1alpha1.Provisioner {
	out := make([]pipelinesv1alpha1.Provisioner, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
