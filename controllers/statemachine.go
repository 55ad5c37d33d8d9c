package controllers

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	corev1 "k8s.io/api/core/v1"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// StateMachineAPI is what the controller uses of Step Functions.
type StateMachineAPI interface {
	DescribeStateMachine(ctx context.Context, in *sfn.DescribeStateMachineInput, opts ...func(*sfn.Options)) (*sfn.DescribeStateMachineOutput, error)
	ListStateMachines(ctx context.Context, in *sfn.ListStateMachinesInput, opts ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error)
	ListTagsForResource(ctx context.Context, in *sfn.ListTagsForResourceInput, opts ...func(*sfn.Options)) (*sfn.ListTagsForResourceOutput, error)
	CreateStateMachine(ctx context.Context, in *sfn.CreateStateMachineInput, opts ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error)
	UpdateStateMachine(ctx context.Context, in *sfn.UpdateStateMachineInput, opts ...func(*sfn.Options)) (*sfn.UpdateStateMachineOutput, error)
	TagResource(ctx context.Context, in *sfn.TagResourceInput, opts ...func(*sfn.Options)) (*sfn.TagResourceOutput, error)
	DeleteStateMachine(ctx context.Context, in *sfn.DeleteStateMachineInput, opts ...func(*sfn.Options)) (*sfn.DeleteStateMachineOutput, error)
}

// StateMachineProvisioner drives the workflow's state machine. The SDK
// provisioner talks to Step Functions directly; another one may delegate to
// a Kubernetes controller (ACK) behind the same phase.
type StateMachineProvisioner interface {
	// Kind is recorded in status.stateMachineProvisioner.
	Kind() pipelinesv1alpha1.Provisioner
	// Ensure makes the state machine run Definition(functionARN) with the
	// role roleARN, and records its ARN in status.
	Ensure(ctx context.Context, s *scope, functionARN, roleARN string) (phaseOutcome, error)
	// Delete removes the state machine if this pipeline created it.
	Delete(ctx context.Context, s *scope) error
}

// reconcileStateMachine is the fourth phase: the state machine role's policy
// (it names the function's ARN), then the state machine itself through the
// selected provisioner.
func (r *ResizePipelineReconciler) reconcileStateMachine(ctx context.Context, s *scope) (phaseOutcome, error) {
	res := &s.rp.Status.Resources
	if err := r.ensureRolePolicy(ctx, s, s.d.StateMachineRole, StateMachinePolicy(res.FunctionARN)); err != nil {
		return phaseOutcome{}, err
	}
	p, err := r.provisionerFor(ctx, s.rp)
	if err != nil {
		return phaseOutcome{}, err
	}
	s.rp.Status.StateMachineProvisioner = p.Kind()
	return p.Ensure(ctx, s, res.FunctionARN, res.StateMachineRoleARN)
}

// provisionerFor picks the state machine provisioner of a pipeline. A
// registered ACK provisioner decides, since it knows whether its CRD is served.
func (r *ResizePipelineReconciler) provisionerFor(ctx context.Context, rp *pipelinesv1alpha1.ResizePipeline) (StateMachineProvisioner, error) {
	want := rp.Spec.StateMachine.Provisioner
	if res, ok := r.Provisioners[pipelinesv1alpha1.ProvisionerACK].(provisionerResolver); ok {
		return res.resolve(ctx, want)
	}
	switch want {
	case "", pipelinesv1alpha1.ProvisionerAuto, pipelinesv1alpha1.ProvisionerSDK:
		return sdkStateMachines{}, nil
	}
	if p, ok := r.Provisioners[want]; ok {
		return p, nil
	}
	return nil, terminalf(ReasonProvisionerUnavailable,
		"state machine provisioner %s is not available in this controller; set spec.stateMachine.provisioner to Auto or SDK", want)
}

// stateMachineDeletingRequeue is how soon a state machine name that is
// still being deleted is looked at again.
const stateMachineDeletingRequeue = 10 * time.Second

// sdkStateMachines provisions the state machine through the Step Functions API.
type sdkStateMachines struct{}

func (sdkStateMachines) Kind() pipelinesv1alpha1.Provisioner { return pipelinesv1alpha1.ProvisionerSDK }

// find returns the description of the pipeline's state machine, nil when
// there is none: by the ARN in status, else (status lost) by name.
func (sdkStateMachines) find(ctx context.Context, s *scope) (*sfn.DescribeStateMachineOutput, error) {
	c := s.aws.SFN
	arn := s.rp.Status.Resources.StateMachineARN
	if arn != "" {
		out, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		if err == nil && out.Status != sfntypes.StateMachineStatusDeleting && aws.ToString(out.Name) == s.d.StateMachineName {
			return out, nil
		}
		if err != nil && !isCode(err, "StateMachineDoesNotExist") {
			return nil, err
		}
	}
	p := sfn.NewListStateMachinesPaginator(c, &sfn.ListStateMachinesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, sm := range page.StateMachines {
			if aws.ToString(sm.Name) != s.d.StateMachineName {
				continue
			}
			out, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: sm.StateMachineArn})
			if isCode(err, "StateMachineDoesNotExist") {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			// A state machine being deleted is returned as it is: its name
			// cannot be reused until Step Functions has finished.
			return out, nil
		}
	}
	return nil, nil
}

func (sm sdkStateMachines) tags(ctx context.Context, s *scope, arn string) (map[string]string, error) {
	out, err := s.aws.SFN.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

func (sm sdkStateMachines) Ensure(ctx context.Context, s *scope, functionARN, roleARN string) (phaseOutcome, error) {
	c := s.aws.SFN
	name := s.d.StateMachineName
	def := Definition(functionARN)
	cur, err := sm.find(ctx, s)
	if err != nil {
		return phaseOutcome{}, err
	}
	if cur == nil {
		out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name:       aws.String(name),
			Definition: aws.String(def),
			RoleArn:    aws.String(roleARN),
			Type:       sfntypes.StateMachineType(s.d.StateMachineType),
			Tags:       sfnTags(s.d.Tags),
		})
		if err != nil {
			return phaseOutcome{}, err
		}
		s.rp.Status.Resources.StateMachineARN = aws.ToString(out.StateMachineArn)
		s.event(corev1.EventTypeNormal, ReasonCreated, "CreateStateMachine", "Created state machine %s", name)
		return phaseOutcome{message: "State machine " + name + " is ready"}, nil
	}
	if cur.Status == sfntypes.StateMachineStatusDeleting {
		return phaseOutcome{requeueAfter: stateMachineDeletingRequeue, reason: ReasonDeleting, message: fmt.Sprintf(
			"state machine %s is being deleted; it is created again once Step Functions has finished", name)}, nil
	}
	arn := aws.ToString(cur.StateMachineArn)
	tags, err := sm.tags(ctx, s, arn)
	if err != nil {
		return phaseOutcome{}, err
	}
	if err := checkOwner("state machine", name, tags, s.d.Owner,
		"delete that state machine or choose another spec.stateMachine.name in a new ResizePipeline"); err != nil {
		return phaseOutcome{}, err
	}
	s.rp.Status.Resources.StateMachineARN = arn
	if string(cur.Type) != s.d.StateMachineType {
		return phaseOutcome{}, terminalf(ReasonImmutableField,
			"state machine %s is %s but the spec asks for %s; Step Functions cannot change the type: delete the state machine or create a new ResizePipeline",
			name, cur.Type, s.d.StateMachineType)
	}
	if !SameJSON(aws.ToString(cur.Definition), def) || aws.ToString(cur.RoleArn) != roleARN {
		if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
			StateMachineArn: aws.String(arn),
			Definition:      aws.String(def),
			RoleArn:         aws.String(roleARN),
		}); err != nil {
			return phaseOutcome{}, err
		}
		s.event(corev1.EventTypeNormal, ReasonUpdated, "UpdateStateMachine", "Updated the definition of state machine %s", name)
	}
	if missing := missingTags(s.d.Tags, tags); len(missing) > 0 {
		if _, err := c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: aws.String(arn), Tags: sfnTags(missing)}); err != nil {
			return phaseOutcome{}, err
		}
		s.event(corev1.EventTypeNormal, ReasonUpdated, "TagResource", "Updated the tags of state machine %s", name)
	}
	return phaseOutcome{message: "State machine " + name + " is ready"}, nil
}

func (sm sdkStateMachines) Delete(ctx context.Context, s *scope) error {
	cur, err := sm.find(ctx, s)
	if err != nil {
		return err
	}
	if cur == nil || cur.Status == sfntypes.StateMachineStatusDeleting {
		return nil
	}
	arn := aws.ToString(cur.StateMachineArn)
	tags, err := sm.tags(ctx, s, arn)
	if err != nil {
		return err
	}
	if tags[OwnerTagKey] != s.d.Owner {
		return nil
	}
	if _, err := s.aws.SFN.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil &&
		!isCode(err, "StateMachineDoesNotExist") {
		return err
	}
	s.event(corev1.EventTypeNormal, ReasonDeleted, "DeleteStateMachine", "Deleted state machine %s", s.d.StateMachineName)
	return nil
}

func sfnTags(tags map[string]string) []sfntypes.Tag {
	out := make([]sfntypes.Tag, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, sfntypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}
