package main

import (
	"github.com/resize-operator/resize-operator/lambda/resize"
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

// BenchmarkResize profiles lambda/resize.Thumbnail on the same photo.
func BenchmarkResize(b *testing.B) {
	p := os.Getenv("JPEGSCALE_BENCH_FILE")
	if p == "" {
		p = "/usr/share/wallpapers/Flow/contents/images_dark/5120x2880.jpg"
	}
	src, err := os.ReadFile(p)
	if err != nil {
		b.Skipf("no benchmark photo: %v", err)
	}
	opts := resize.DefaultOptions()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := resize.Thumbnail("bench", src, opts); err != nil {
			b.Fatal(err)
		}
	}
}
