package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ResizePipelineSpec describes the pipeline a platform team wants: where images
// come from, where thumbnails go, what the thumbnails look like and how the AWS
// resources in between are named. Every field but the two buckets has a default
// that reproduces the original deployment.
// +kubebuilder:validation:XValidation:rule="self.sourceBucket.name != self.destinationBucket.name",message="sourceBucket and destinationBucket must name different buckets: thumbnails are written to the destination"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.region) || (has(self.region) && self.region == oldSelf.region)",message="region cannot be changed once set: every resource of the pipeline lives there; create a new ResizePipeline for another region"
type ResizePipelineSpec struct {
	// Region is the AWS region of every resource of the pipeline. When empty,
	// the controller's --aws-region (or its environment) is used.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$')",message="region must be an AWS region name such as ca-central-1 or us-east-1"
	Region string `json:"region,omitempty"`

	// SourceBucket receives the images to resize.
	SourceBucket BucketSpec `json:"sourceBucket"`

	// DestinationBucket receives the thumbnails.
	DestinationBucket BucketSpec `json:"destinationBucket"`

	// Thumbnail shapes the images the function writes.
	// +optional
	// +kubebuilder:default={}
	Thumbnail ThumbnailSpec `json:"thumbnail,omitempty"`

	// Function configures the ResizeImage Lambda function.
	// +optional
	// +kubebuilder:default={}
	Function FunctionSpec `json:"function,omitempty"`

	// StateMachine configures the Step Functions workflow that runs the function.
	// +optional
	// +kubebuilder:default={}
	StateMachine StateMachineSpec `json:"stateMachine,omitempty"`

	// API configures the REST API that starts the workflow.
	// +optional
	// +kubebuilder:default={}
	API APISpec `json:"api,omitempty"`

	// DeletionPolicy says what happens to the AWS resources when the
	// ResizePipeline is deleted. Delete removes what the pipeline created,
	// except buckets that still hold objects; Retain leaves everything in place.
	// +optional
	// +kubebuilder:default=Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// Tags are added to every AWS resource the pipeline creates.
	// +optional
	// +kubebuilder:validation:MaxProperties=40
	// +mapType=granular
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('aws:') && !k.startsWith('resize.dev/'))",message="tag keys beginning with aws: or resize.dev/ are reserved"
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) >= 1 && size(k) <= 128 && size(self[k]) <= 256)",message="tag keys are 1 to 128 characters and tag values at most 256"
	Tags map[string]string `json:"tags,omitempty"`
}

// BucketSpec names an S3 bucket. The bucket is created when missing; an
// existing bucket that this pipeline did not create is used as it is and is
// never reconfigured or deleted.
type BucketSpec struct {
	// Name is the bucket's globally unique name.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9][a-z0-9.-]*[a-z0-9]$')",message="bucket names use only lowercase letters, digits, dots and hyphens, and begin and end with a letter or digit"
	// +kubebuilder:validation:XValidation:rule="!self.contains('..')",message="bucket names must not contain two adjacent dots"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$')",message="bucket names must not look like an IP address"
	// +kubebuilder:validation:XValidation:rule="!(self.startsWith('xn--') || self.startsWith('sthree-') || self.startsWith('amzn-s3-demo-'))",message="bucket names must not begin with xn--, sthree- or amzn-s3-demo- (reserved by S3)"
	// +kubebuilder:validation:XValidation:rule="!(self.endsWith('-s3alias') || self.endsWith('--ol-s3') || self.endsWith('.mrap') || self.endsWith('--x-s3') || self.endsWith('--table-s3'))",message="bucket names must not end with -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3 (reserved by S3)"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="bucket names cannot be changed; create a new ResizePipeline for other buckets"
	Name string `json:"name"`
}

// ThumbnailSpec describes the thumbnails the function writes.
type ThumbnailSpec struct {
	// MaxWidth is the largest width of a thumbnail in pixels.
	// +optional
	// +kubebuilder:default=200
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	MaxWidth int32 `json:"maxWidth,omitempty"`

	// MaxHeight is the largest height of a thumbnail in pixels.
	// +optional
	// +kubebuilder:default=200
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	MaxHeight int32 `json:"maxHeight,omitempty"`

	// Fit says how an image meets the MaxWidth x MaxHeight box: Inside keeps
	// the aspect ratio and fits inside the box, Cover fills the box and crops
	// the centre, Fill stretches to the box. Images are never enlarged.
	// +optional
	// +kubebuilder:default=Inside
	Fit ThumbnailFit `json:"fit,omitempty"`

	// Format of the thumbnail: Source keeps the source's format, JPEG or PNG
	// converts.
	// +optional
	// +kubebuilder:default=Source
	Format ThumbnailFormat `json:"format,omitempty"`

	// Quality of JPEG thumbnails, 1 to 100.
	// +optional
	// +kubebuilder:default=85
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Quality int32 `json:"quality,omitempty"`

	// KeyPrefix is put before the source key to name the thumbnail.
	// +optional
	// +kubebuilder:default="thumb-"
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9!_.*()/-]*$')",message="keyPrefix may use letters, digits and ! _ . * ( ) / - only"
	KeyPrefix *string `json:"keyPrefix,omitempty"`
}

// ThumbnailFit is how an image meets the thumbnail box.
// +kubebuilder:validation:Enum=Inside;Cover;Fill
type ThumbnailFit string

const (
	FitInside ThumbnailFit = "Inside"
	FitCover  ThumbnailFit = "Cover"
	FitFill   ThumbnailFit = "Fill"
)

// ThumbnailFormat is the encoding of a thumbnail.
// +kubebuilder:validation:Enum=Source;JPEG;PNG
type ThumbnailFormat string

const (
	FormatSource ThumbnailFormat = "Source"
	FormatJPEG   ThumbnailFormat = "JPEG"
	FormatPNG    ThumbnailFormat = "PNG"
)

// FunctionSpec configures the ResizeImage Lambda function.
type FunctionSpec struct {
	// Name of the Lambda function. Fixed once the function exists.
	// +optional
	// +kubebuilder:default=ResizeImage
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_-]{1,64}$')",message="function names are 1 to 64 letters, digits, hyphens and underscores"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="the function name cannot be changed: Lambda cannot rename a function; create a new ResizePipeline"
	Name string `json:"name,omitempty"`

	// MemoryMB is the function's memory in MB, 128 to 10240. CPU grows with it.
	// +optional
	// +kubebuilder:default=1024
	// +kubebuilder:validation:Minimum=128
	// +kubebuilder:validation:Maximum=10240
	MemoryMB int32 `json:"memoryMB,omitempty"`

	// TimeoutSeconds is how long one resize may run, 1 to 900.
	// +optional
	// +kubebuilder:default=30
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=900
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`

	// Architecture of the function: x86_64, or arm64 (Graviton, cheaper per ms).
	// +optional
	// +kubebuilder:default=x86_64
	Architecture Architecture `json:"architecture,omitempty"`
}

// Architecture is a Lambda instruction set architecture.
// +kubebuilder:validation:Enum=x86_64;arm64
type Architecture string

const (
	ArchitectureX86_64 Architecture = "x86_64"
	ArchitectureARM64  Architecture = "arm64"
)

// StateMachineSpec configures the ImageResizeWorkflow state machine.
type StateMachineSpec struct {
	// Name of the state machine. Fixed once it exists.
	// +optional
	// +kubebuilder:default=ImageResizeWorkflow
	// +kubebuilder:validation:MaxLength=80
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_-]{1,80}$')",message="state machine names are 1 to 80 letters, digits, hyphens and underscores"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="the state machine name cannot be changed: Step Functions cannot rename a state machine; create a new ResizePipeline"
	Name string `json:"name,omitempty"`

	// Type of the state machine: STANDARD (durable, exactly-once, full
	// history) or EXPRESS (high-volume, at-least-once). Fixed once it exists.
	// +optional
	// +kubebuilder:default=STANDARD
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="the state machine type cannot be changed: Step Functions fixes it at creation"
	Type StateMachineType `json:"type,omitempty"`

	// Provisioner says who creates the state machine: SDK (the controller,
	// directly), ACK (an sfn.services.k8s.aws StateMachine object, for clusters
	// that run the ACK sfn-controller), or Auto (ACK when its CRD is served).
	// +optional
	// +kubebuilder:default=Auto
	Provisioner Provisioner `json:"provisioner,omitempty"`
}

// StateMachineType is a Step Functions workflow type.
// +kubebuilder:validation:Enum=STANDARD;EXPRESS
type StateMachineType string

const (
	StateMachineStandard StateMachineType = "STANDARD"
	StateMachineExpress  StateMachineType = "EXPRESS"
)

// Provisioner chooses how the state machine is provisioned.
// +kubebuilder:validation:Enum=Auto;SDK;ACK
type Provisioner string

const (
	ProvisionerAuto Provisioner = "Auto"
	ProvisionerSDK  Provisioner = "SDK"
	ProvisionerACK  Provisioner = "ACK"
)

// APISpec configures the ImageResizeAPI REST API.
type APISpec struct {
	// Name of the REST API.
	// +optional
	// +kubebuilder:default=ImageResizeAPI
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name,omitempty"`

	// Stage the API is deployed to; it is the first segment of the invoke URL.
	// Fixed once deployed.
	// +optional
	// +kubebuilder:default=prod
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_-]{1,128}$')",message="stage names are 1 to 128 letters, digits, hyphens and underscores"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="the stage cannot be renamed; create a new ResizePipeline"
	Stage string `json:"stage,omitempty"`

	// Path is the resource that accepts POST requests: one URL path segment.
	// +optional
	// +kubebuilder:default=resize
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9._-]{1,128}$')",message="path is one URL path segment of letters, digits, dots, hyphens and underscores, such as resize"
	Path string `json:"path,omitempty"`
}

// DeletionPolicy says what deleting a ResizePipeline does to its AWS resources.
// +kubebuilder:validation:Enum=Delete;Retain
type DeletionPolicy string

const (
	DeletionPolicyDelete DeletionPolicy = "Delete"
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// Condition types a ResizePipeline reports. Ready summarises the others.
const (
	ConditionReady             = "Ready"
	ConditionBucketsReady      = "BucketsReady"
	ConditionRolesReady        = "RolesReady"
	ConditionFunctionReady     = "FunctionReady"
	ConditionStateMachineReady = "StateMachineReady"
	ConditionAPIReady          = "APIReady"
)

// ResizePipelineStatus is what the controller observed of the pipeline in AWS.
type ResizePipelineStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Endpoint is the invoke URL: POST image requests here.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// Region is the AWS region the pipeline's resources live in.
	// +optional
	Region string `json:"region,omitempty"`

	// StateMachineProvisioner is the provisioner in use: SDK or ACK.
	// +optional
	StateMachineProvisioner Provisioner `json:"stateMachineProvisioner,omitempty"`

	// Resources identifies the AWS resources of the pipeline.
	// +optional
	Resources ResourcesStatus `json:"resources,omitempty"`

	// Conditions: Ready, BucketsReady, RolesReady, FunctionReady,
	// StateMachineReady and APIReady; while Ready is False, also Reconciling
	// (the controller is getting there) or Stalled (a person must act), as
	// kstatus reads them.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// ResourcesStatus holds the identifiers AWS gave the pipeline's resources.
type ResourcesStatus struct {
	SourceBucketARN      string `json:"sourceBucketARN,omitempty"`
	DestinationBucketARN string `json:"destinationBucketARN,omitempty"`
	FunctionRoleARN      string `json:"functionRoleARN,omitempty"`
	StateMachineRoleARN  string `json:"stateMachineRoleARN,omitempty"`
	APIRoleARN           string `json:"apiRoleARN,omitempty"`
	FunctionARN          string `json:"functionARN,omitempty"`
	// FunctionCodeSHA256 is the CodeSha256 of the deployed function bundle.
	FunctionCodeSHA256 string `json:"functionCodeSHA256,omitempty"`
	StateMachineARN    string `json:"stateMachineARN,omitempty"`
	RestAPIID          string `json:"restAPIID,omitempty"`
	DeploymentID       string `json:"deploymentID,omitempty"`
}

// ResizePipeline turns one manifest into a serverless image-resize pipeline on
// AWS: S3 buckets, IAM roles, the ResizeImage Lambda function, the
// ImageResizeWorkflow state machine and the ImageResizeAPI REST API.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rp;rps,categories=resize
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.status.endpoint`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ResizePipeline struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ResizePipelineSpec   `json:"spec"`
	Status ResizePipelineStatus `json:"status,omitempty"`
}

// ResizePipelineList is a list of ResizePipelines.
// +kubebuilder:object:root=true
type ResizePipelineList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ResizePipeline `json:"items"`
}
