package main

import (
	"os"
	"testing"
)

// BenchmarkThumbnail profiles the whole Go path on one photo, set with
// JPEGSCALE_BENCH_FILE.
func BenchmarkThumbnail(b *testing.B) {
	p := os.Getenv("JPEGSCALE_BENCH_FILE")
	if p == "" {
		p = "/usr/share/wallpapers/Flow/contents/images_dark/5120x2880.jpg"
	}
	src, err := os.ReadFile(p)
	if err != nil {
		b.Skipf("no benchmark photo: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, _, err := thumbJPEGScale(src); err != nil {
			b.Fatal(err)
		}
	}
}
