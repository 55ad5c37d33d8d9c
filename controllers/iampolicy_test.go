package controllers

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// controllerPolicyPath is the IAM policy the controller's own role needs.
var controllerPolicyPath = filepath.Join("..", "config", "iam", "controller-policy.json")

// iamActions maps each AWS operation the controller may call, keyed
// "<SDK service ID>.<operation>" as AWSCall names them, to the IAM actions
// AWS authorizes it with. They are not 1:1: S3 authorizes HeadBucket with
// s3:ListBucket, API Gateway authorizes by HTTP method, Lambda only returns a
// function's tags from GetFunction to callers allowed lambda:ListTags, and
// creating with tags or a service role needs the tagging action and
// iam:PassRole as well.
var iamActions = map[string][]string{
	// S3 (bucket-level actions only: the controller never reads or writes
	// objects; a bucket that holds objects is kept, not emptied).
	s3.ServiceID + ".HeadBucket":           {"s3:ListBucket"},
	s3.ServiceID + ".CreateBucket":         {"s3:CreateBucket"},
	s3.ServiceID + ".DeleteBucket":         {"s3:DeleteBucket"},
	s3.ServiceID + ".GetBucketTagging":     {"s3:GetBucketTagging"},
	s3.ServiceID + ".PutBucketTagging":     {"s3:PutBucketTagging"},
	s3.ServiceID + ".GetPublicAccessBlock": {"s3:GetBucketPublicAccessBlock"},
	s3.ServiceID + ".PutPublicAccessBlock": {"s3:PutBucketPublicAccessBlock"},
	s3.ServiceID + ".GetBucketEncryption":  {"s3:GetEncryptionConfiguration"},
	s3.ServiceID + ".PutBucketEncryption":  {"s3:PutEncryptionConfiguration"},
	s3.ServiceID + ".ListObjectsV2":        {"s3:ListBucket"},
	s3.ServiceID + ".HeadObject":           {"s3:GetObject"},
	s3.ServiceID + ".GetBucketLocation":    {"s3:GetBucketLocation"},

	// IAM. CreateRole with tags needs iam:TagRole too.
	iam.ServiceID + ".GetRole":                {"iam:GetRole"},
	iam.ServiceID + ".CreateRole":             {"iam:CreateRole", "iam:TagRole"},
	iam.ServiceID + ".DeleteRole":             {"iam:DeleteRole"},
	iam.ServiceID + ".UpdateAssumeRolePolicy": {"iam:UpdateAssumeRolePolicy"},
	iam.ServiceID + ".TagRole":                {"iam:TagRole"},
	iam.ServiceID + ".GetRolePolicy":          {"iam:GetRolePolicy"},
	iam.ServiceID + ".PutRolePolicy":          {"iam:PutRolePolicy"},
	iam.ServiceID + ".ListRolePolicies":       {"iam:ListRolePolicies"},
	iam.ServiceID + ".DeleteRolePolicy":       {"iam:DeleteRolePolicy"},

	// Lambda. The function's role is passed on create and on configuration
	// updates.
	lambda.ServiceID + ".GetFunction":                 {"lambda:GetFunction", "lambda:ListTags"},
	lambda.ServiceID + ".CreateFunction":              {"lambda:CreateFunction", "lambda:TagResource", "iam:PassRole"},
	lambda.ServiceID + ".UpdateFunctionCode":          {"lambda:UpdateFunctionCode"},
	lambda.ServiceID + ".UpdateFunctionConfiguration": {"lambda:UpdateFunctionConfiguration", "iam:PassRole"},
	lambda.ServiceID + ".TagResource":                 {"lambda:TagResource"},
	lambda.ServiceID + ".DeleteFunction":              {"lambda:DeleteFunction"},

	// Step Functions (the SDK provisioner; the ACK one calls no AWS API).
	sfn.ServiceID + ".DescribeStateMachine": {"states:DescribeStateMachine"},
	sfn.ServiceID + ".ListStateMachines":    {"states:ListStateMachines"},
	sfn.ServiceID + ".ListTagsForResource":  {"states:ListTagsForResource"},
	sfn.ServiceID + ".CreateStateMachine":   {"states:CreateStateMachine", "states:TagResource", "iam:PassRole"},
	sfn.ServiceID + ".UpdateStateMachine":   {"states:UpdateStateMachine", "iam:PassRole"},
	sfn.ServiceID + ".TagResource":          {"states:TagResource"},
	sfn.ServiceID + ".DeleteStateMachine":   {"states:DeleteStateMachine"},

	// API Gateway REST: actions are the HTTP methods of the control plane.
	apigateway.ServiceID + ".GetRestApi":             {"apigateway:GET"},
	apigateway.ServiceID + ".GetRestApis":            {"apigateway:GET"},
	apigateway.ServiceID + ".CreateRestApi":          {"apigateway:POST"},
	apigateway.ServiceID + ".UpdateRestApi":          {"apigateway:PATCH"},
	apigateway.ServiceID + ".DeleteRestApi":          {"apigateway:DELETE"},
	apigateway.ServiceID + ".TagResource":            {"apigateway:PUT"},
	apigateway.ServiceID + ".GetResources":           {"apigateway:GET"},
	apigateway.ServiceID + ".CreateResource":         {"apigateway:POST"},
	apigateway.ServiceID + ".DeleteResource":         {"apigateway:DELETE"},
	apigateway.ServiceID + ".GetModel":               {"apigateway:GET"},
	apigateway.ServiceID + ".CreateModel":            {"apigateway:POST"},
	apigateway.ServiceID + ".UpdateModel":            {"apigateway:PATCH"},
	apigateway.ServiceID + ".GetRequestValidators":   {"apigateway:GET"},
	apigateway.ServiceID + ".CreateRequestValidator": {"apigateway:POST"},
	apigateway.ServiceID + ".UpdateRequestValidator": {"apigateway:PATCH"},
	apigateway.ServiceID + ".GetMethod":              {"apigateway:GET"},
	apigateway.ServiceID + ".PutMethod":              {"apigateway:PUT"},
	apigateway.ServiceID + ".DeleteMethod":           {"apigateway:DELETE"},
	// The integration carries the API role as its credentials.
	apigateway.ServiceID + ".PutIntegration":         {"apigateway:PUT", "iam:PassRole"},
	apigateway.ServiceID + ".PutMethodResponse":      {"apigateway:PUT"},
	apigateway.ServiceID + ".DeleteMethodResponse":   {"apigateway:DELETE"},
	apigateway.ServiceID + ".PutIntegrationResponse": {"apigateway:PUT"},
	apigateway.ServiceID + ".GetStage":               {"apigateway:GET"},
	apigateway.ServiceID + ".CreateStage":            {"apigateway:POST"},
	apigateway.ServiceID + ".UpdateStage":            {"apigateway:PATCH"},
	apigateway.ServiceID + ".CreateDeployment":       {"apigateway:POST"},
}

// controllerOperations are the operations the controller can call: the
// methods of the narrow interfaces in AWSClients, whose names are the SDK's
// operation names. Code paths the integration tests rarely reach (drift
// repair, deletion after a failure) are covered this way too.
func controllerOperations() []string {
	var ops []string
	for _, api := range []struct {
		service string
		iface   reflect.Type
	}{
		{s3.ServiceID, reflect.TypeFor[BucketAPI]()},
		{iam.ServiceID, reflect.TypeFor[RoleAPI]()},
		{lambda.ServiceID, reflect.TypeFor[FunctionAPI]()},
		{sfn.ServiceID, reflect.TypeFor[StateMachineAPI]()},
		{apigateway.ServiceID, reflect.TypeFor[RestAPIAPI]()},
	} {
		for i := range api.iface.NumMethod() {
			ops = append(ops, api.service+"."+api.iface.Method(i).Name)
		}
	}
	// The interfaces are the only way to AWS: a new service would need a
	// new field in AWSClients, and a line above.
	if n := reflect.TypeFor[AWSClients]().NumField(); n != 5 {
		panic(fmt.Sprintf("AWSClients has %d fields; list the new one in controllerOperations", n))
	}
	sort.Strings(ops)
	return ops
}

type controllerPolicy struct {
	Version   string
	Statement []struct {
		Sid       string
		Effect    string
		Action    stringOrList
		Resource  stringOrList
		Condition map[string]map[string]stringOrList
	}
}

// stringOrList is an IAM policy field that may be a string or a list.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*s = many
	return err
}

func readControllerPolicy(t testing.TB) controllerPolicy {
	t.Helper()
	b, err := os.ReadFile(controllerPolicyPath)
	if err != nil {
		t.Fatal(err)
	}
	var p controllerPolicy
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %v", controllerPolicyPath, err)
	}
	return p
}

func (p controllerPolicy) actions() map[string]bool {
	out := map[string]bool{}
	for _, st := range p.Statement {
		for _, a := range st.Action {
			out[a] = true
		}
	}
	return out
}

// TestControllerPolicyIsExactlyWhatTheCodeCalls checks config/iam/
// controller-policy.json against the operations the controller can call:
// every one is in iamActions, every action they need is allowed, and nothing
// else is.
func TestControllerPolicyIsExactlyWhatTheCodeCalls(t *testing.T) {
	policy := readControllerPolicy(t)
	allowed := policy.actions()
	needed := map[string][]string{}
	for _, op := range controllerOperations() {
		actions, ok := iamActions[op]
		if !ok {
			t.Errorf("the controller can call %s, which iamActions does not map: add it to iamActions in iampolicy_test.go with the IAM actions AWS checks for it, then to %s", op, controllerPolicyPath)
			continue
		}
		for _, a := range actions {
			needed[a] = append(needed[a], op)
		}
	}
	for _, a := range sortedKeys(needed) {
		if !allowed[a] {
			t.Errorf("%s does not allow %s, which %s needs", controllerPolicyPath, a, strings.Join(needed[a], ", "))
		}
	}
	for _, a := range sortedKeys(allowed) {
		if _, ok := needed[a]; !ok {
			t.Errorf("%s allows %s, which no operation of the controller needs: remove it", controllerPolicyPath, a)
		}
	}
	t.Logf("%d operations, %d IAM actions", len(controllerOperations()), len(allowed))
}

// TestControllerPolicyScopes checks how the policy scopes its actions: by
// resource ARN everywhere AWS allows it, and iam:PassRole only to the
// pipeline roles, each for its own service.
func TestControllerPolicyScopes(t *testing.T) {
	// Only these actions have no resource-level permissions.
	unscoped := map[string]bool{"states:ListStateMachines": true}
	passRoles := map[string]string{}
	for _, st := range readControllerPolicy(t).Statement {
		if st.Effect != "Allow" {
			t.Errorf("statement %s: Effect %q, want Allow", st.Sid, st.Effect)
		}
		for _, a := range st.Action {
			if strings.Contains(a, "*") {
				t.Errorf("statement %s: wildcard action %s", st.Sid, a)
			}
			if slicesContain(st.Resource, "*") && !unscoped[a] {
				t.Errorf("statement %s: %s on every resource; scope it by ARN", st.Sid, a)
			}
		}
		for _, r := range st.Resource {
			if strings.HasPrefix(r, "arn:aws:iam::") && !strings.HasPrefix(r, "arn:aws:iam::*:role/resize-") {
				t.Errorf("statement %s: IAM resource %s is outside the pipeline roles (RoleName: resize-<namespace>-<name>-<purpose>)", st.Sid, r)
			}
		}
		if slicesContain(st.Action, "iam:PassRole") {
			if len(st.Action) != 1 || len(st.Resource) != 1 {
				t.Errorf("statement %s: iam:PassRole must stand alone, for one role pattern", st.Sid)
				continue
			}
			svc := st.Condition["StringEquals"]["iam:PassedToService"]
			if len(svc) != 1 {
				t.Errorf("statement %s: iam:PassRole without a StringEquals iam:PassedToService condition", st.Sid)
				continue
			}
			passRoles[st.Resource[0]] = svc[0]
		}
	}
	// The three roles of ComputeDesired, each passed only to the service
	// that assumes it.
	d := ComputeDesired(testPipeline("ns", "p"), "us-east-1")
	for _, role := range []RoleSpec{d.FunctionRole, d.StateMachineRole, d.APIRole} {
		purpose := role.Name[strings.LastIndex(role.Name, "-")+1:]
		pattern := "arn:aws:iam::*:role/resize-*-" + purpose
		if got := passRoles[pattern]; got != role.Service {
			t.Errorf("iam:PassRole on %s is for %q, want %q (the role's trusted service)", pattern, got, role.Service)
		}
		if !wildcardMatch(pattern, "arn:aws:iam::111122223333:role/"+RoleName("a-very-long-namespace-name", "an-even-longer-pipeline-name-for-truncation", purpose)) {
			t.Errorf("%s does not match a truncated %s role name", pattern, purpose)
		}
	}
	if len(passRoles) != 3 {
		t.Errorf("iam:PassRole statements: %v, want one per pipeline role", passRoles)
	}
}

func testPipeline(namespace, name string) *pipelinesv1alpha1.ResizePipeline {
	rp := &pipelinesv1alpha1.ResizePipeline{}
	rp.Namespace, rp.Name = namespace, name
	rp.Spec.SourceBucket.Name, rp.Spec.DestinationBucket.Name = "src", "dst"
	return rp
}

func slicesContain(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// wildcardMatch matches IAM's * (any run of characters) in pattern.
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return true
}

// observedOps accumulates the (service, operation) of every AWS call the
// integration tests' recorders see, over the whole run.
var observedOps operationSet

type operationSet struct {
	mu  sync.Mutex
	ops map[string]int
}

func (s *operationSet) add(c AWSCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops == nil {
		s.ops = map[string]int{}
	}
	s.ops[c.Service+"."+c.Operation]++
}

func (s *operationSet) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.ops))
	for k, v := range s.ops {
		out[k] = v
	}
	return out
}

// checkObservedOperations runs after the integration tests: every operation
// they saw the controller call must map to actions the policy allows, or the
// controller would be denied on AWS. It returns the failures; with the whole
// suite run, it also reports the callable operations no test reached.
func checkObservedOperations() []string {
	observed := observedOps.snapshot()
	if len(observed) == 0 {
		return nil
	}
	b, err := os.ReadFile(controllerPolicyPath)
	if err != nil {
		return []string{err.Error()}
	}
	var p controllerPolicy
	if err := json.Unmarshal(b, &p); err != nil {
		return []string{fmt.Sprintf("%s: %v", controllerPolicyPath, err)}
	}
	allowed := p.actions()
	var failures []string
	for _, op := range sortedKeys(observed) {
		actions, ok := iamActions[op]
		if !ok {
			failures = append(failures, fmt.Sprintf("the integration tests saw the controller call %s, which iamActions does not map: add it to iamActions in iampolicy_test.go with the IAM actions AWS checks for it, then to %s", op, controllerPolicyPath))
			continue
		}
		for _, a := range actions {
			if !allowed[a] {
				failures = append(failures, fmt.Sprintf("the integration tests saw the controller call %s, which needs %s; %s does not allow it", op, a, controllerPolicyPath))
			}
		}
	}
	fmt.Fprintf(os.Stderr, "IAM policy check: %d operations observed:\n%s", len(observed), formatCounts(observed))
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		var unreached []string
		for _, op := range controllerOperations() {
			if observed[op] == 0 {
				unreached = append(unreached, op)
			}
		}
		fmt.Fprintf(os.Stderr, "IAM policy check: callable operations no integration test reached (%d): %s\n", len(unreached), strings.Join(unreached, ", "))
	}
	return failures
}

// TestControllerPolicyFitsAManagedPolicy: IAM refuses managed policies over
// 6,144 characters, whitespace excluded.
func TestControllerPolicyFitsAManagedPolicy(t *testing.T) {
	b, err := os.ReadFile(controllerPolicyPath)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range string(b) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	if n > 6144 {
		t.Errorf("%s has %d characters without whitespace; IAM allows 6144 in a managed policy", controllerPolicyPath, n)
	}
}

// TestCreatePolicyCommand runs README's `aws iam create-policy` against the
// local AWS stack and reads the document back.
func TestCreatePolicyCommand(t *testing.T) {
	s := requireSuite(t)
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the AWS CLI is not on PATH (hack/install-test-deps.sh installs it)")
		}
		t.Skip("the AWS CLI is not on PATH")
	}
	name := "resize-operator-controller-" + s.runID
	cmd := exec.Command(awsCLI, "--endpoint-url", localAWSEndpoint, "iam", "create-policy", "--policy-name", name,
		"--policy-document", "file://config/iam/controller-policy.json")
	cmd.Dir = ".."
	// AWS CLI v1 reads the region from AWS_DEFAULT_REGION only.
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION="+testRegion)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws iam create-policy: %v\n%s", err, out)
	}
	var created struct {
		Policy struct{ Arn, DefaultVersionId string }
	}
	if err := json.Unmarshal(out, &created); err != nil || created.Policy.Arn == "" {
		t.Fatalf("aws iam create-policy printed %s (%v)", out, err)
	}
	ctx := context.Background()
	t.Cleanup(func() {
		_, _ = s.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(created.Policy.Arn)})
	})
	// The local stack stores the policy but serves no GetPolicyVersion;
	// on AWS the version holds the document as sent.
	p, err := s.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(created.Policy.Arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(p.Policy.PolicyName) != name {
		t.Errorf("GetPolicy returned %q, want %q", aws.ToString(p.Policy.PolicyName), name)
	}
}
