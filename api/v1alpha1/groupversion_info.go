// Package v1alpha1 contains the API of the pipelines.resize.dev group: the
// ResizePipeline resource, from which the controller provisions a serverless
// image-resize pipeline on AWS.
// +kubebuilder:object:generate=true
// +groupName=pipelines.resize.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "pipelines.resize.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers the types of this package, and the meta/v1 types
// every group version serves (options, status, watch events), under
// GroupVersion.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &ResizePipeline{}, &ResizePipelineList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
