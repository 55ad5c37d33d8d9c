package inflate

import (
	"testing"
)

func FuzzInflate(f *testing.F) {
	for _, tc := range edgeCases() {
		f.Add(tc.src)
	}
	// Short pieces of each kind of synthetic data with each compressor, and
	// the PNG suite's smallest images.
	for _, d := range syntheticData() {
		for _, c := range compressors[:6] {
			f.Add(c.compress(d.data[:min(len(d.data), 300)]))
		}
	}
	for _, s := range pngStreams(f, true) {
		if len(s.data) < 300 {
			f.Add(s.data)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkParity(t, nil, "input", src, len(src))
	})
}
