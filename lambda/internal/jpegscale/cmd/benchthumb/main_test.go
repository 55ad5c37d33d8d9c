package main

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"
	"io"

	"github.com/disintegration/imaging"
	"github.com/resize-operator/resize-operator/lambda/internal/jpegscale"
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

// BenchmarkSteps times the steps after decoding for a medium photo's 1/8
// decode (320x200 YCbCr) to a 200x125 thumbnail, to see where the Go path
// spends what decoding does not.
func BenchmarkSteps(b *testing.B) {
	p := os.Getenv("JPEGSCALE_BENCH_FILE")
	if p == "" {
		p = "/tmp/bench-lambda/img/medium-2560x1600-420.jpg"
	}
	src, err := os.ReadFile(p)
	if err != nil {
		b.Skipf("no benchmark photo: %v", err)
	}
	img, _, err := jpegscale.Decode(bytes.NewReader(src), 250, 157)
	if err != nil {
		b.Fatal(err)
	}
	w, h := fitInside(img.Bounds().Dx()*8, img.Bounds().Dy()*8)
	thumb := imaging.Resize(img, w, h, imaging.Lanczos)
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := jpegscale.Decode(bytes.NewReader(src), 250, 157); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lanczos", func(b *testing.B) {
		for b.Loop() {
			imaging.Resize(img, w, h, imaging.Lanczos)
		}
	})
	b.Run("catmullrom", func(b *testing.B) {
		for b.Loop() {
			imaging.Resize(img, w, h, imaging.CatmullRom)
		}
	})
	b.Run("encode-nrgba", func(b *testing.B) {
		for b.Loop() {
			if err := jpeg.Encode(io.Discard, thumb, &jpeg.Options{Quality: 85}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-rgba", func(b *testing.B) {
		// An opaque NRGBA image has the same bytes as an RGBA one, and
		// image/jpeg has a fast path for *image.RGBA.
		rgba := &image.RGBA{Pix: thumb.Pix, Stride: thumb.Stride, Rect: thumb.Rect}
		for b.Loop() {
			if err := jpeg.Encode(io.Discard, rgba, &jpeg.Options{Quality: 85}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flatten", func(b *testing.B) {
		for b.Loop() {
			dst := image.NewRGBA(thumb.Bounds())
			draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
			draw.Draw(dst, dst.Bounds(), thumb, thumb.Bounds().Min, draw.Over)
		}
	})
	b.Run("resize.Thumbnail", func(b *testing.B) {
		for b.Loop() {
			if _, err := resize.Thumbnail("bench", src, resize.DefaultOptions()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
