package controllers

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	corev1 "k8s.io/api/core/v1"
)

// RoleAPI is what the controller uses of IAM.
type RoleAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, opts ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, opts ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, opts ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	TagRole(ctx context.Context, in *iam.TagRoleInput, opts ...func(*iam.Options)) (*iam.TagRoleOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, opts ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, opts ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, opts ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
}

// reconcileRoles is the second phase: the three roles with their trust
// policies, and the function's inline policy. The state machine's and the
// API's inline policies name ARNs that exist only later; their phases put
// them (see ensureRolePolicy).
func (r *ResizePipelineReconciler) reconcileRoles(ctx context.Context, s *scope) (phaseOutcome, error) {
	res := &s.rp.Status.Resources
	for _, role := range []struct {
		spec RoleSpec
		arn  *string
	}{
		{s.d.FunctionRole, &res.FunctionRoleARN},
		{s.d.StateMachineRole, &res.StateMachineRoleARN},
		{s.d.APIRole, &res.APIRoleARN},
	} {
		arn, err := r.ensureRole(ctx, s, role.spec)
		if err != nil {
			return phaseOutcome{}, err
		}
		*role.arn = arn
	}
	if err := r.ensureRolePolicy(ctx, s, s.d.FunctionRole, s.d.FunctionPolicy(AccountOf(res.FunctionRoleARN))); err != nil {
		return phaseOutcome{}, err
	}
	return phaseOutcome{message: "Roles " + s.d.FunctionRole.Name + ", " + s.d.StateMachineRole.Name + " and " + s.d.APIRole.Name + " are ready"}, nil
}

// ensureRole makes the role exist with its trust policy and tags, and
// returns the ARN IAM gave it.
func (r *ResizePipelineReconciler) ensureRole(ctx context.Context, s *scope, spec RoleSpec) (string, error) {
	c := s.aws.IAM
	trust := TrustPolicy(spec.Service)
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.Name)})
	if isCode(err, "NoSuchEntity") {
		created, err := c.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(spec.Name),
			AssumeRolePolicyDocument: aws.String(trust),
			Description:              aws.String(spec.Description),
			Tags:                     iamTags(s.d.Tags),
		})
		if err != nil {
			return "", err
		}
		s.event(corev1.EventTypeNormal, ReasonCreated, "CreateRole", "Created IAM role %s", spec.Name)
		return aws.ToString(created.Role.Arn), nil
	}
	if err != nil {
		return "", err
	}
	role := out.Role
	tags := map[string]string{}
	for _, t := range role.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if err := checkOwner("IAM role", spec.Name, tags, s.d.Owner,
		"delete the role or rename this ResizePipeline (role names derive from its namespace and name)"); err != nil {
		return "", err
	}
	if !SameJSON(DecodePolicy(aws.ToString(role.AssumeRolePolicyDocument)), trust) {
		if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
			RoleName: aws.String(spec.Name), PolicyDocument: aws.String(trust),
		}); err != nil {
			return "", err
		}
		s.event(corev1.EventTypeNormal, ReasonUpdated, "UpdateAssumeRolePolicy", "Restored the trust policy of IAM role %s", spec.Name)
	}
	if missing := missingTags(s.d.Tags, tags); len(missing) > 0 {
		if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(spec.Name), Tags: iamTags(missing)}); err != nil {
			return "", err
		}
		s.event(corev1.EventTypeNormal, ReasonUpdated, "TagRole", "Updated the tags of IAM role %s", spec.Name)
	}
	return aws.ToString(role.Arn), nil
}

// ensureRolePolicy makes the role's single inline policy equal to doc.
func (r *ResizePipelineReconciler) ensureRolePolicy(ctx context.Context, s *scope, spec RoleSpec, doc string) error {
	c := s.aws.IAM
	out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(spec.Name), PolicyName: aws.String(spec.PolicyName)})
	if err != nil && !isCode(err, "NoSuchEntity") {
		return err
	}
	if err == nil && SameJSON(DecodePolicy(aws.ToString(out.PolicyDocument)), doc) {
		return nil
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(spec.Name), PolicyName: aws.String(spec.PolicyName), PolicyDocument: aws.String(doc),
	}); err != nil {
		return err
	}
	s.event(corev1.EventTypeNormal, ReasonUpdated, "PutRolePolicy", "Set inline policy %s of IAM role %s", spec.PolicyName, spec.Name)
	return nil
}

// deleteRoles removes the pipeline's roles with their inline policies (IAM
// refuses to delete a role that still has any).
func (r *ResizePipelineReconciler) deleteRoles(ctx context.Context, s *scope) error {
	c := s.aws.IAM
	for _, spec := range []RoleSpec{s.d.APIRole, s.d.StateMachineRole, s.d.FunctionRole} {
		out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(spec.Name)})
		if isCode(err, "NoSuchEntity") {
			continue
		}
		if err != nil {
			return err
		}
		tags := map[string]string{}
		for _, t := range out.Role.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if tags[OwnerTagKey] != s.d.Owner {
			continue
		}
		p := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: aws.String(spec.Name)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, name := range page.PolicyNames {
				if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{
					RoleName: aws.String(spec.Name), PolicyName: aws.String(name),
				}); err != nil && !isCode(err, "NoSuchEntity") {
					return err
				}
			}
		}
		if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(spec.Name)}); err != nil && !isCode(err, "NoSuchEntity") {
			return err
		}
		s.event(corev1.EventTypeNormal, ReasonDeleted, "DeleteRole", "Deleted IAM role %s", spec.Name)
	}
	return nil
}

func iamTags(tags map[string]string) []iamtypes.Tag {
	out := make([]iamtypes.Tag, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// checkOwner refuses to manage a resource this pipeline did not create.
func checkOwner(kind, name string, tags map[string]string, owner, fix string) error {
	switch got := tags[OwnerTagKey]; got {
	case owner:
		return nil
	case "":
		return terminalf(ReasonNotCreatedByPipeline,
			"%s %s exists but was not created by this ResizePipeline (it has no %s tag), so it is left untouched; %s",
			kind, name, OwnerTagKey, fix)
	default:
		return terminalf(ReasonOwnedByAnotherPipeline,
			"%s %s belongs to ResizePipeline %s and is left untouched; %s", kind, name, got, fix)
	}
}
