package pngfast

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestEncodeMatchesImagePNG: every test image, and images of the types the
// decoder does not produce, re-encoded by Encode decode (by image/png) to
// what image/png's own Encode round trip gives.
func TestEncodeMatchesImagePNG(t *testing.T) {
	var images []image.Image
	photos := 0
	for _, f := range testFiles(t) {
		if strings.HasPrefix(f, "/usr/share/") {
			// A few photographs add real content; all of them only add
			// decoding time.
			if photos++; photos > 6 {
				continue
			}
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(bytes.NewReader(src))
		if err != nil {
			continue
		}
		// Photographs are cut to a corner: four levels and two encoders
		// over a 4K image take minutes, and a corner has the same content.
		if b := m.Bounds(); b.Dx()*b.Dy() > 300*300 {
			m = m.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(image.Rect(b.Min.X, b.Min.Y, b.Min.X+300, b.Min.Y+300).Intersect(b))
		}
		images = append(images, m)
	}
	r := image.Rect(3, 5, 70, 41) // not at the origin
	alpha, rgba, cmyk := image.NewAlpha(r), image.NewRGBA(r), image.NewCMYK(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			alpha.SetAlpha(x, y, color.Alpha{uint8(x * y)})
			rgba.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 0xff})
			cmyk.SetCMYK(x, y, color.CMYK{uint8(x), uint8(y), uint8(x * y), 9})
		}
	}
	images = append(images, alpha, rgba, cmyk, rgba.SubImage(image.Rect(10, 10, 20, 30)))
	for _, level := range []CompressionLevel{DefaultCompression, NoCompression, BestSpeed, BestCompression} {
		for i, m := range images {
			var got, want bytes.Buffer
			if err := (&Encoder{CompressionLevel: level}).Encode(&got, m); err != nil {
				t.Fatalf("image %d (%T %v), level %d: %v", i, m, m.Bounds(), level, err)
			}
			if err := (&png.Encoder{CompressionLevel: png.CompressionLevel(level)}).Encode(&want, m); err != nil {
				t.Fatal(err)
			}
			gotImg, err := png.Decode(&got)
			if err != nil {
				t.Fatalf("image %d (%T %v), level %d: image/png cannot decode the output: %v", i, m, m.Bounds(), level, err)
			}
			wantImg, err := png.Decode(&want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotImg, wantImg) {
				t.Fatalf("image %d (%T %v), level %d: decodes to %T %v, image/png's encoding to %T %v",
					i, m, m.Bounds(), level, gotImg, gotImg.Bounds(), wantImg, wantImg.Bounds())
			}
		}
	}
	t.Logf("%d images", len(images))
}
