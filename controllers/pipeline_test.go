package controllers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

const (
	readyTimeout = 3 * time.Minute
	poll         = 100 * time.Millisecond
)

func codeSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// names gives a test's AWS names, unique per run.
type names struct {
	source, destination, function, stateMachine, api string
}

func (s *testSuite) names(prefix string) names {
	return names{
		source:       fmt.Sprintf("rp-%s-%s-src", prefix, s.runID),
		destination:  fmt.Sprintf("rp-%s-%s-dst", prefix, s.runID),
		function:     fmt.Sprintf("Fn-%s-%s", prefix, s.runID),
		stateMachine: fmt.Sprintf("Sm-%s-%s", prefix, s.runID),
		api:          fmt.Sprintf("Api-%s-%s", prefix, s.runID),
	}
}

func newPipeline(name string, n names) *pipelinesv1alpha1.ResizePipeline {
	return &pipelinesv1alpha1.ResizePipeline{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: pipelinesv1alpha1.ResizePipelineSpec{
			SourceBucket:      pipelinesv1alpha1.BucketSpec{Name: n.source},
			DestinationBucket: pipelinesv1alpha1.BucketSpec{Name: n.destination},
			Function:          pipelinesv1alpha1.FunctionSpec{Name: n.function},
			StateMachine:      pipelinesv1alpha1.StateMachineSpec{Name: n.stateMachine},
			API:               pipelinesv1alpha1.APISpec{Name: n.api},
			Tags:              map[string]string{"team": "media"},
		},
	}
}

func (s *testSuite) get(g Gomega, rp *pipelinesv1alpha1.ResizePipeline) *pipelinesv1alpha1.ResizePipeline {
	out := &pipelinesv1alpha1.ResizePipeline{}
	g.Expect(s.k8s.Get(context.Background(), client.ObjectKeyFromObject(rp), out)).To(Succeed())
	return out
}

// waitReady waits for Ready=True on the current generation.
func (s *testSuite) waitReady(t *testing.T, rp *pipelinesv1alpha1.ResizePipeline) *pipelinesv1alpha1.ResizePipeline {
	t.Helper()
	var got *pipelinesv1alpha1.ResizePipeline
	Eventually(func(g Gomega) {
		got = s.get(g, rp)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		c := meta.FindStatusCondition(got.Status.Conditions, pipelinesv1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "Ready: %s: %s", c.Reason, c.Message)
	}).WithTimeout(readyTimeout).WithPolling(poll).Should(Succeed())
	return got
}

// waitReconciles waits until the controller has finished at least one whole
// reconcile of pipeline after mark: the last phase's read (GetStage) seen
// twice means one reconcile started and ended after mark.
func (s *testSuite) waitReconciles(t *testing.T, mark int, pipeline string) {
	t.Helper()
	Eventually(func() int {
		return countByOperation(s.rec.since(mark, pipeline), nil)["API Gateway.GetStage"]
	}).WithTimeout(time.Minute).WithPolling(poll).Should(BeNumerically(">=", 2))
}

func (s *testSuite) deleteAndWait(t *testing.T, rp *pipelinesv1alpha1.ResizePipeline) {
	t.Helper()
	ctx := context.Background()
	Expect(client.IgnoreNotFound(s.k8s.Delete(ctx, rp))).To(Succeed())
	Eventually(func() bool {
		err := s.k8s.Get(ctx, client.ObjectKeyFromObject(rp), &pipelinesv1alpha1.ResizePipeline{})
		return apierrors.IsNotFound(err)
	}).WithTimeout(readyTimeout).WithPolling(poll).Should(BeTrue(), "pipeline %s still exists", rp.Name)
}

// eventReasons lists the reasons of the Events about a pipeline.
func (s *testSuite) eventReasons(g Gomega, rp *pipelinesv1alpha1.ResizePipeline) []string {
	var list eventsv1.EventList
	g.Expect(s.k8s.List(context.Background(), &list, client.InNamespace(rp.Namespace))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == rp.Name && e.Regarding.Kind == "ResizePipeline" {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

func bucketExists(ctx context.Context, s *testSuite, name string) bool {
	_, err := s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	return err == nil
}

// TestPipelineLifecycle is the user story: apply, Ready with everything in
// AWS as specified, a steady state that only reads, a spec change that
// updates only the function's configuration, drift put back on resync, a
// working invoke URL, and deletion that keeps a bucket holding objects.
func TestPipelineLifecycle(t *testing.T) {
	s := requireSuite(t)
	RegisterTestingT(t)
	ctx := context.Background()
	n := s.names("life")
	rp := newPipeline("lifecycle", n)
	owner := "default/lifecycle"

	// Apply → Ready.
	mark := s.rec.mark()
	start := time.Now()
	Expect(s.k8s.Create(ctx, rp)).To(Succeed())
	got := s.waitReady(t, rp)
	elapsed := time.Since(start)
	first := s.rec.since(mark, owner)
	t.Logf("apply → Ready in %v; AWS calls until Ready (%d reconcile passes' worth):\n%s",
		elapsed.Round(time.Millisecond), countByOperation(first, nil)["API Gateway.GetStage"], formatCounts(countByOperation(first, nil)))

	for _, c := range first {
		if c.Duration > time.Second {
			t.Logf("slow AWS call: %s.%s %v (%s)", c.Service, c.Operation, c.Duration.Round(time.Millisecond), c.Outcome)
		}
	}

	res := got.Status.Resources
	Expect(got.Finalizers).To(ContainElement(Finalizer))
	Expect(got.Status.StateMachineProvisioner).To(Equal(pipelinesv1alpha1.ProvisionerSDK))
	Expect(got.Status.Region).To(Equal(testRegion))
	Expect(got.Status.Endpoint).To(Equal(localAWSEndpoint + "/restapis/" + res.RestAPIID + "/prod/_user_request_/resize"))
	Expect(res.SourceBucketARN).To(Equal("arn:aws:s3:::" + n.source))
	for _, c := range resourceConditions {
		Expect(meta.IsStatusConditionTrue(got.Status.Conditions, c)).To(BeTrue(), c)
	}
	wantTags := map[string]string{OwnerTagKey: owner, "team": "media"}

	t.Run("buckets", func(t *testing.T) {
		g := NewWithT(t)
		for _, b := range []string{n.source, n.destination} {
			tags, err := s.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b)})
			g.Expect(err).NotTo(HaveOccurred())
			have := map[string]string{}
			for _, tg := range tags.TagSet {
				have[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			g.Expect(have).To(Equal(wantTags))
			pab, err := s.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b)})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(allPublicAccessBlocked(pab.PublicAccessBlockConfiguration)).To(BeTrue())
			enc, err := s.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm)).To(Equal("AES256"))
		}
	})

	d := ComputeDesired(got, testRegion)
	t.Run("roles", func(t *testing.T) {
		g := NewWithT(t)
		for _, c := range []struct {
			spec   RoleSpec
			arn    string
			policy string
		}{
			{d.FunctionRole, res.FunctionRoleARN, d.FunctionPolicy(AccountOf(res.FunctionRoleARN))},
			{d.StateMachineRole, res.StateMachineRoleARN, StateMachinePolicy(res.FunctionARN)},
			{d.APIRole, res.APIRoleARN, APIPolicy(res.StateMachineARN)},
		} {
			role, err := s.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(c.spec.Name)})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(aws.ToString(role.Role.Arn)).To(Equal(c.arn))
			g.Expect(SameJSON(DecodePolicy(aws.ToString(role.Role.AssumeRolePolicyDocument)), TrustPolicy(c.spec.Service))).To(BeTrue(),
				"trust policy of %s: %s", c.spec.Name, aws.ToString(role.Role.AssumeRolePolicyDocument))
			pol, err := s.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(c.spec.Name), PolicyName: aws.String(c.spec.PolicyName)})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(SameJSON(DecodePolicy(aws.ToString(pol.PolicyDocument)), c.policy)).To(BeTrue(),
				"inline policy of %s: %s", c.spec.Name, aws.ToString(pol.PolicyDocument))
		}
	})

	t.Run("function", func(t *testing.T) {
		g := NewWithT(t)
		fn, err := s.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(n.function)})
		g.Expect(err).NotTo(HaveOccurred())
		cfg := fn.Configuration
		g.Expect(aws.ToString(cfg.FunctionArn)).To(Equal(res.FunctionARN))
		wantSHA, _ := s.bundle.SHA256("x86_64")
		g.Expect(aws.ToString(cfg.CodeSha256)).To(Equal(wantSHA))
		g.Expect(res.FunctionCodeSHA256).To(Equal(wantSHA))
		have := observedFunctionConfig(cfg)
		want := d.FunctionConfiguration(res.FunctionRoleARN)
		g.Expect(cmp.Diff(want, have)).To(BeEmpty())
		g.Expect(cfg.Environment.Variables).To(HaveKeyWithValue("THUMB_MAX_WIDTH", "200"))
		g.Expect(cfg.Environment.Variables).To(HaveKeyWithValue("THUMB_KEY_PREFIX", "thumb-"))
		g.Expect(fn.Tags).To(Equal(wantTags))
	})

	t.Run("state machine", func(t *testing.T) {
		g := NewWithT(t)
		sm, err := s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(res.StateMachineARN)})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(aws.ToString(sm.Name)).To(Equal(n.stateMachine))
		g.Expect(string(sm.Type)).To(Equal("STANDARD"))
		g.Expect(aws.ToString(sm.RoleArn)).To(Equal(res.StateMachineRoleARN))
		g.Expect(SameJSON(aws.ToString(sm.Definition), Definition(res.FunctionARN))).To(BeTrue(), aws.ToString(sm.Definition))
	})

	t.Run("rest api", func(t *testing.T) {
		g := NewWithT(t)
		id := aws.String(res.RestAPIID)
		api, err := s.apigw.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: id})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(aws.ToString(api.Name)).To(Equal(n.api))
		g.Expect(api.Tags).To(Equal(wantTags))
		resources, err := s.apigw.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id})
		g.Expect(err).NotTo(HaveOccurred())
		var paths []string
		var resourceID string
		for _, r := range resources.Items {
			paths = append(paths, aws.ToString(r.Path))
			if aws.ToString(r.Path) == "/resize" {
				resourceID = aws.ToString(r.Id)
			}
		}
		g.Expect(paths).To(ConsistOf("/", "/resize"))
		m, err := s.apigw.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: id, ResourceId: aws.String(resourceID), HttpMethod: aws.String("POST")})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(aws.ToString(m.AuthorizationType)).To(Equal("NONE"))
		g.Expect(m.RequestModels).To(Equal(map[string]string{"application/json": RequestModelName}))
		validators, err := s.apigw.GetRequestValidators(ctx, &apigateway.GetRequestValidatorsInput{RestApiId: id})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(validators.Items).To(HaveLen(1))
		g.Expect(aws.ToString(m.RequestValidatorId)).To(Equal(aws.ToString(validators.Items[0].Id)))
		g.Expect(validators.Items[0].ValidateRequestBody).To(BeTrue())
		model, err := s.apigw.GetModel(ctx, &apigateway.GetModelInput{RestApiId: id, ModelName: aws.String(RequestModelName)})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(SameJSON(aws.ToString(model.Schema), RequestModelSchema)).To(BeTrue())
		in := m.MethodIntegration
		g.Expect(in).NotTo(BeNil())
		g.Expect(string(in.Type)).To(Equal("AWS"))
		g.Expect(aws.ToString(in.HttpMethod)).To(Equal("POST"))
		g.Expect(aws.ToString(in.Uri)).To(Equal("arn:aws:apigateway:us-east-1:states:action/StartExecution"))
		g.Expect(aws.ToString(in.Credentials)).To(Equal(res.APIRoleARN))
		g.Expect(aws.ToString(in.PassthroughBehavior)).To(Equal("NEVER"))
		g.Expect(in.RequestTemplates).To(Equal(map[string]string{"application/json": RequestTemplate(res.StateMachineARN)}))
		g.Expect(m.MethodResponses).To(HaveKey("200"))
		g.Expect(m.MethodResponses).To(HaveKey("400"))
		g.Expect(m.MethodResponses).To(HaveKey("500"))
		g.Expect(aws.ToString(in.IntegrationResponses["200"].SelectionPattern)).To(Equal(""))
		g.Expect(aws.ToString(in.IntegrationResponses["400"].SelectionPattern)).To(Equal(`4\d{2}`))
		g.Expect(aws.ToString(in.IntegrationResponses["500"].SelectionPattern)).To(Equal(`5\d{2}`))
		stage, err := s.apigw.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("prod")})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(aws.ToString(stage.DeploymentId)).To(Equal(res.DeploymentID))
		g.Expect(stage.Variables).To(HaveKeyWithValue(apiHashVariable, d.DesiredAPI(res.StateMachineARN, res.APIRoleARN).Hash()))
	})

	t.Run("invoke URL", func(t *testing.T) {
		g := NewWithT(t)
		post := func(body string) (int, string) {
			resp, err := http.Post(got.Status.Endpoint, "application/json", strings.NewReader(body))
			g.Expect(err).NotTo(HaveOccurred())
			defer func() { _ = resp.Body.Close() }() // read in full below; nothing to report
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		// A malformed body is refused by the validator and starts nothing.
		code, body := post(`{"image_key":"","source_bucket":"a"}`)
		g.Expect(code).To(Equal(http.StatusBadRequest), body)
		// An apostrophe in the key must survive escapeJavaScript.
		code, body = post(fmt.Sprintf(`{"image_key":"it's.jpg","source_bucket":%q,"destination_bucket":%q}`, n.source, n.destination))
		g.Expect(code).To(Equal(http.StatusOK), body)
		var started struct {
			ExecutionArn string `json:"executionArn"`
		}
		g.Expect(json.Unmarshal([]byte(body), &started)).To(Succeed(), body)
		exec, err := s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(started.ExecutionArn)})
		g.Expect(err).NotTo(HaveOccurred())
		var input map[string]string
		g.Expect(json.Unmarshal([]byte(aws.ToString(exec.Input)), &input)).To(Succeed(), aws.ToString(exec.Input))
		g.Expect(input).To(HaveKeyWithValue("image_key", "it's.jpg"))
	})

	t.Run("steady state makes no mutating call", func(t *testing.T) {
		mark := s.rec.mark()
		s.waitReconciles(t, mark, owner)
		calls := s.rec.since(mark, owner)
		t.Logf("AWS calls of steady-state reconciles (%d passes):\n%s",
			countByOperation(calls, nil)["API Gateway.GetStage"], formatCounts(countByOperation(calls, nil)))
		NewWithT(t).Expect(countByOperation(calls, func(c AWSCall) bool { return isMutating(c.Operation) })).To(BeEmpty())
	})

	t.Run("thumbnail width change updates only the function configuration", func(t *testing.T) {
		g := NewWithT(t)
		cur := s.get(g, rp)
		mark := s.rec.mark()
		base := cur.DeepCopy()
		cur.Spec.Thumbnail.MaxWidth = 320
		g.Expect(s.k8s.Patch(ctx, cur, client.MergeFrom(base))).To(Succeed())
		after := s.waitReady(t, cur)
		g.Expect(after.Generation).To(BeNumerically(">", got.Generation))
		s.waitReconciles(t, s.rec.mark(), owner)
		fn, err := s.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(n.function)})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(fn.Environment.Variables).To(HaveKeyWithValue("THUMB_MAX_WIDTH", "320"))
		mutating := countByOperation(s.rec.since(mark, owner), func(c AWSCall) bool { return isMutating(c.Operation) })
		g.Expect(mutating).To(Equal(map[string]int{"Lambda.UpdateFunctionConfiguration": 1}))
	})

	t.Run("drift is put back on resync", func(t *testing.T) {
		g := NewWithT(t)
		_, err := s.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(n.function), MemorySize: aws.Int32(256),
		})
		g.Expect(err).NotTo(HaveOccurred())
		g.Eventually(func(g Gomega) {
			fn, err := s.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(n.function)})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(aws.ToInt32(fn.MemorySize)).To(Equal(int32(1024)))
		}).WithTimeout(time.Minute).WithPolling(poll).Should(Succeed())
	})

	t.Run("state machine and API drift are put back and the API redeployed", func(t *testing.T) {
		g := NewWithT(t)
		cur := s.get(g, rp)
		res := cur.Status.Resources
		_, err := s.sfn.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
			StateMachineArn: aws.String(res.StateMachineARN),
			Definition:      aws.String(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`),
		})
		g.Expect(err).NotTo(HaveOccurred())
		resources, err := s.apigw.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: aws.String(res.RestAPIID)})
		g.Expect(err).NotTo(HaveOccurred())
		for _, r := range resources.Items {
			if aws.ToString(r.Path) == "/resize" {
				_, err = s.apigw.DeleteIntegration(ctx, &apigateway.DeleteIntegrationInput{
					RestApiId: aws.String(res.RestAPIID), ResourceId: r.Id, HttpMethod: aws.String("POST"),
				})
				g.Expect(err).NotTo(HaveOccurred())
			}
		}
		g.Eventually(func(g Gomega) {
			sm, err := s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(res.StateMachineARN)})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(SameJSON(aws.ToString(sm.Definition), Definition(res.FunctionARN))).To(BeTrue())
			stage, err := s.apigw.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(res.RestAPIID), StageName: aws.String("prod")})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(aws.ToString(stage.DeploymentId)).NotTo(Equal(res.DeploymentID), "a repaired API is deployed again")
		}).WithTimeout(time.Minute).WithPolling(poll).Should(Succeed())
		// The repaired API works again.
		resp, err := http.Post(cur.Status.Endpoint, "application/json", strings.NewReader(`{}`))
		g.Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
	})

	t.Run("status lost: everything is found again, nothing created twice", func(t *testing.T) {
		g := NewWithT(t)
		cur := s.get(g, rp)
		base := cur.DeepCopy()
		cur.Status.Resources = pipelinesv1alpha1.ResourcesStatus{}
		cur.Status.Endpoint = ""
		g.Expect(s.k8s.Status().Patch(ctx, cur, client.MergeFrom(base))).To(Succeed())
		mark := s.rec.mark()
		// An annotation change triggers a reconcile at once.
		cur = s.get(g, rp)
		base = cur.DeepCopy()
		cur.Annotations = map[string]string{"test.resize.dev/poke": "1"}
		g.Expect(s.k8s.Patch(ctx, cur, client.MergeFrom(base))).To(Succeed())
		g.Eventually(func(g Gomega) {
			got := s.get(g, rp)
			g.Expect(got.Status.Resources.RestAPIID).To(Equal(res.RestAPIID))
			g.Expect(got.Status.Resources.StateMachineARN).To(Equal(res.StateMachineARN))
			g.Expect(got.Status.Resources.FunctionARN).To(Equal(res.FunctionARN))
			g.Expect(got.Status.Endpoint).NotTo(BeEmpty())
		}).WithTimeout(time.Minute).WithPolling(poll).Should(Succeed())
		creates := countByOperation(s.rec.since(mark, owner), func(c AWSCall) bool { return strings.HasPrefix(c.Operation, "Create") })
		g.Expect(creates).To(BeEmpty())
		apis, err := s.apigw.GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(500)})
		g.Expect(err).NotTo(HaveOccurred())
		count := 0
		for _, a := range apis.Items {
			if aws.ToString(a.Name) == n.api {
				count++
			}
		}
		g.Expect(count).To(Equal(1))
	})

	t.Run("deletion removes what the pipeline created and keeps a bucket with objects", func(t *testing.T) {
		g := NewWithT(t)
		_, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(n.destination), Key: aws.String("thumb-keep.jpg"), Body: bytes.NewReader([]byte("x"))})
		g.Expect(err).NotTo(HaveOccurred())
		cur := s.get(g, rp)
		s.deleteAndWait(t, cur)

		_, err = s.apigw.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(res.RestAPIID)})
		g.Expect(isCode(err, "NotFoundException")).To(BeTrue(), "REST API: %v", err)
		_, err = s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(res.StateMachineARN)})
		g.Expect(isCode(err, "StateMachineDoesNotExist")).To(BeTrue(), "state machine: %v", err)
		_, err = s.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(n.function)})
		g.Expect(isCode(err, "ResourceNotFoundException")).To(BeTrue(), "function: %v", err)
		for _, r := range []string{d.FunctionRole.Name, d.StateMachineRole.Name, d.APIRole.Name} {
			_, err = s.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r)})
			g.Expect(isCode(err, "NoSuchEntity")).To(BeTrue(), "role %s: %v", r, err)
		}
		g.Expect(bucketExists(ctx, s, n.source)).To(BeFalse(), "the empty source bucket is deleted")
		g.Expect(bucketExists(ctx, s, n.destination)).To(BeTrue(), "the destination bucket holds an object and is kept")
		_, err = s.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(n.destination), Key: aws.String("thumb-keep.jpg")})
		g.Expect(err).NotTo(HaveOccurred(), "objects are never deleted")
		g.Eventually(func(g Gomega) {
			g.Expect(s.eventReasons(g, rp)).To(ContainElement(HavePrefix(ReasonBucketKept + ": Kept S3 bucket " + n.destination)))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})
}

// TestRetainKeepsEverything: deletionPolicy Retain deletes nothing in AWS.
func TestRetainKeepsEverything(t *testing.T) {
	s := requireSuite(t)
	RegisterTestingT(t)
	ctx := context.Background()
	n := s.names("keep")
	rp := newPipeline("retain", n)
	rp.Spec.DeletionPolicy = pipelinesv1alpha1.DeletionPolicyRetain
	Expect(s.k8s.Create(ctx, rp)).To(Succeed())
	got := s.waitReady(t, rp)
	res := got.Status.Resources
	s.deleteAndWait(t, got)

	_, err := s.apigw.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(res.RestAPIID)})
	Expect(err).NotTo(HaveOccurred())
	_, err = s.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(res.StateMachineARN)})
	Expect(err).NotTo(HaveOccurred())
	_, err = s.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(n.function)})
	Expect(err).NotTo(HaveOccurred())
	d := ComputeDesired(got, testRegion)
	for _, r := range []string{d.FunctionRole.Name, d.StateMachineRole.Name, d.APIRole.Name} {
		_, err = s.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r)})
		Expect(err).NotTo(HaveOccurred(), r)
	}
	Expect(bucketExists(ctx, s, n.source)).To(BeTrue())
	Expect(bucketExists(ctx, s, n.destination)).To(BeTrue())
	Eventually(func(g Gomega) {
		g.Expect(s.eventReasons(g, rp)).To(ContainElement(HavePrefix(ReasonRetained + ":")))
	}).WithTimeout(10 * time.Second).Should(Succeed())
}

// TestForeignOwnerConflict: a second pipeline naming the first one's
// function gets a clear Ready=False, touches nothing of it (and does not
// hot-loop), and deleting it leaves the function alone. The first pipeline
// also adopts a pre-existing untagged bucket, which is never reconfigured or
// deleted.
func TestForeignOwnerConflict(t *testing.T) {
	s := requireSuite(t)
	RegisterTestingT(t)
	ctx := context.Background()
	n := s.names("own")
	_, err := s.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(n.source)})
	Expect(err).NotTo(HaveOccurred())

	first := newPipeline("owner", n)
	Expect(s.k8s.Create(ctx, first)).To(Succeed())
	s.waitReady(t, first)
	cond := meta.FindStatusCondition(s.get(Default, first).Status.Conditions, pipelinesv1alpha1.ConditionBucketsReady)
	Expect(cond.Message).To(ContainSubstring("bucket " + n.source + " existed before this pipeline and is used as it is"))
	_, err = s.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(n.source)})
	Expect(isCode(err, "NoSuchTagSet") || err == nil).To(BeTrue())
	if err == nil {
		tags, _ := s.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(n.source)})
		Expect(tags.TagSet).To(BeEmpty(), "an adopted bucket is not tagged")
	}

	n2 := s.names("own2")
	n2.function = n.function
	second := newPipeline("intruder", n2)
	mark := s.rec.mark()
	Expect(s.k8s.Create(ctx, second)).To(Succeed())
	Eventually(func(g Gomega) {
		got := s.get(g, second)
		c := meta.FindStatusCondition(got.Status.Conditions, pipelinesv1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(ReasonOwnedByAnotherPipeline))
		g.Expect(c.Message).To(ContainSubstring("Lambda function " + n.function + " belongs to ResizePipeline default/owner"))
		fc := meta.FindStatusCondition(got.Status.Conditions, pipelinesv1alpha1.ConditionFunctionReady)
		g.Expect(fc.Reason).To(Equal(ReasonOwnedByAnotherPipeline))
	}).WithTimeout(readyTimeout).WithPolling(poll).Should(Succeed())

	// No hot loop: over a few resync periods, about one look per period.
	quiet := s.rec.mark()
	time.Sleep(3 * testResync)
	looks := countByOperation(s.rec.since(quiet, "default/intruder"), nil)["Lambda.GetFunction"]
	Expect(looks).To(BeNumerically("<=", 5), "GetFunction calls in %v", 3*testResync)
	lambdaWrites := countByOperation(s.rec.since(mark, "default/intruder"), func(c AWSCall) bool {
		return c.Service == "Lambda" && isMutating(c.Operation)
	})
	Expect(lambdaWrites).To(BeEmpty())

	s.deleteAndWait(t, second)
	fn, err := s.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(n.function)})
	Expect(err).NotTo(HaveOccurred(), "the first pipeline's function survives the second's deletion")
	Expect(fn.Tags).To(HaveKeyWithValue(OwnerTagKey, "default/owner"))

	s.deleteAndWait(t, first)
	Expect(bucketExists(ctx, s, n.source)).To(BeTrue(), "a bucket the pipeline did not create is never deleted")
	_, err = s.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(n.function)})
	Expect(isCode(err, "ResourceNotFoundException")).To(BeTrue())
}

// TestIAMPropagationIsRetried: Lambda refusing a fresh role is retried with
// backoff and reported, not treated as terminal.
func TestIAMPropagationIsRetried(t *testing.T) {
	s := requireSuite(t)
	RegisterTestingT(t)
	ctx := context.Background()
	n := s.names("iam")
	s.faults.set(n.function, 3)
	rp := newPipeline("iam-propagation", n)
	Expect(s.k8s.Create(ctx, rp)).To(Succeed())
	s.waitReady(t, rp)
	Expect(s.faults.count(n.function)).To(Equal(3))
	Eventually(func(g Gomega) {
		g.Expect(s.eventReasons(g, rp)).To(ContainElement(HavePrefix(ReasonWaitingForIAM + ":")))
	}).WithTimeout(10 * time.Second).Should(Succeed())
	fn, err := s.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(n.function)})
	Expect(err).NotTo(HaveOccurred())
	Expect(fn.State).To(Or(Equal(lambdatypes.StateActive), BeEmpty()))
	s.deleteAndWait(t, rp)
}

// TestValidation: the API server refuses invalid specs with the schema's
// messages.
func TestValidation(t *testing.T) {
	s := requireSuite(t)
	ctx := context.Background()
	n := s.names("cel")
	cases := map[string]struct {
		mutate func(*pipelinesv1alpha1.ResizePipeline)
		want   string
	}{
		"bad bucket name": {func(rp *pipelinesv1alpha1.ResizePipeline) { rp.Spec.SourceBucket.Name = "Bad_Bucket" },
			"bucket names use only lowercase letters"},
		"equal buckets": {func(rp *pipelinesv1alpha1.ResizePipeline) { rp.Spec.DestinationBucket.Name = rp.Spec.SourceBucket.Name },
			"sourceBucket and destinationBucket must name different buckets"},
		"memory out of range": {func(rp *pipelinesv1alpha1.ResizePipeline) { rp.Spec.Function.MemoryMB = 64 },
			"spec.function.memoryMB"},
		"reserved tag": {func(rp *pipelinesv1alpha1.ResizePipeline) { rp.Spec.Tags = map[string]string{OwnerTagKey: "x"} },
			"tag keys beginning with aws: or resize.dev/ are reserved"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rp := newPipeline("invalid", n)
			tc.mutate(rp)
			err := s.k8s.Create(ctx, rp, client.DryRunAll)
			g.Expect(err).To(HaveOccurred())
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), err.Error())
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}

	t.Run("renaming the function", func(t *testing.T) {
		g := NewWithT(t)
		rp := newPipeline("rename", n)
		// Retain so the AWS side is irrelevant to this API-server test.
		rp.Spec.DeletionPolicy = pipelinesv1alpha1.DeletionPolicyRetain
		g.Expect(s.k8s.Create(ctx, rp)).To(Succeed())
		defer s.deleteAndWait(t, rp)
		g.Eventually(func(g Gomega) {
			cur := s.get(g, rp)
			cur.Spec.Function.Name = "Renamed"
			err := s.k8s.Update(ctx, cur)
			g.Expect(apierrors.IsConflict(err)).To(BeFalse())
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring("the function name cannot be changed"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})

}

// TestRegions: spec.region selects the region of every call; setting a
// region other than the one the resources live in is refused, not obeyed.
func TestRegions(t *testing.T) {
	s := requireSuite(t)
	RegisterTestingT(t)
	ctx := context.Background()

	n := s.names("reg")
	rp := newPipeline("regional", n)
	rp.Spec.Region = "ca-central-1"
	mark := s.rec.mark()
	Expect(s.k8s.Create(ctx, rp)).To(Succeed())
	got := s.waitReady(t, rp)
	Expect(got.Status.Region).To(Equal("ca-central-1"))
	Expect(got.Status.Resources.SourceBucketARN).To(Equal("arn:aws:s3:::" + n.source))
	for _, c := range s.rec.since(mark, "default/regional") {
		Expect(c.Region).To(Equal("ca-central-1"), "%s.%s", c.Service, c.Operation)
	}
	s.deleteAndWait(t, got)

	n = s.names("move")
	rp = newPipeline("moving", n)
	Expect(s.k8s.Create(ctx, rp)).To(Succeed())
	got = s.waitReady(t, rp)
	Expect(got.Status.Region).To(Equal(testRegion))
	base := got.DeepCopy()
	got.Spec.Region = "eu-west-1"
	Expect(s.k8s.Patch(ctx, got, client.MergeFrom(base))).To(Succeed())
	Eventually(func(g Gomega) {
		cur := s.get(g, rp)
		c := meta.FindStatusCondition(cur.Status.Conditions, pipelinesv1alpha1.ConditionReady)
		g.Expect(c.Reason).To(Equal(ReasonRegionChanged))
		g.Expect(c.Message).To(ContainSubstring("resources live in " + testRegion))
	}).WithTimeout(time.Minute).WithPolling(poll).Should(Succeed())
	Expect(bucketExists(ctx, s, n.source)).To(BeTrue())
	// Deletion removes the resources where they are, not in spec.region.
	mark = s.rec.mark()
	s.deleteAndWait(t, s.get(Default, rp))
	Expect(bucketExists(ctx, s, n.source)).To(BeFalse())
	for _, c := range s.rec.since(mark, "default/moving") {
		Expect(c.Region).To(Equal(testRegion), "%s.%s", c.Service, c.Operation)
	}
}
