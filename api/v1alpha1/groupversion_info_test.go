package v1alpha1

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestAddToScheme checks that AddToScheme registers the kinds of this
// package and the meta/v1 kinds a typed client needs for the group version
// (list options for List, watch events for Watch), and that objects get
// their GroupVersionKind back from the scheme.
func TestAddToScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatalf("AddToScheme: %v", err)
	}
	for _, kind := range []string{"ResizePipeline", "ResizePipelineList", "ListOptions", metav1.WatchEventKind} {
		if gvk := GroupVersion.WithKind(kind); !s.Recognizes(gvk) {
			t.Errorf("scheme does not recognize %s", gvk)
		}
	}
	for obj, kind := range map[runtime.Object]string{
		&ResizePipeline{}:     "ResizePipeline",
		&ResizePipelineList{}: "ResizePipelineList",
	} {
		gvks, _, err := s.ObjectKinds(obj)
		if err != nil {
			t.Fatalf("ObjectKinds(%T): %v", obj, err)
		}
		if want := GroupVersion.WithKind(kind); len(gvks) != 1 || gvks[0] != want {
			t.Errorf("ObjectKinds(%T) = %v, want [%s]", obj, gvks, want)
		}
	}
	// Registering twice, as a manager and a test suite may both do, is fine.
	if err := AddToScheme(s); err != nil {
		t.Fatalf("second AddToScheme: %v", err)
	}
}
