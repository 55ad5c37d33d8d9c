package resize

import (
	"runtime/metrics"
	"testing"
)

var sink []byte

func TestCollectReleasesLargeGarbage(t *testing.T) {
	sink = make([]byte, 64<<20)
	sink[len(sink)-1] = 1
	sink = nil
	Collect()
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	if free := s[0].Value.Uint64(); free > releaseThreshold {
		t.Errorf("%d bytes of free heap kept after Collect, want at most %d", free, releaseThreshold)
	}
}
