package resize

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/disintegration/imaging"
)

// texture is a synthetic photo: smooth colour gradients with detail at a few
// frequencies, some above the thumbnail's resolution (which a box filter or
// a missing crop would get visibly wrong).
func texture(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x), float64(y)
			v := 0.5 + 0.25*math.Sin(fx/23+fy/41) + 0.15*math.Sin(fx/5.3)*math.Cos(fy/7.1)
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(255 * clampF(v)),
				G: uint8(255 * float64(x) / float64(w)),
				B: uint8(255 * clampF(1-v+0.3*float64(y)/float64(h))),
				A: 255,
			})
		}
	}
	return img
}

func clampF(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// reference is the thumbnail made the slow, obvious way: full-size decode,
// orientation, Lanczos to the scaled size, centre crop.
func reference(t *testing.T, src []byte, o Options) image.Image {
	t.Helper()
	full, _, err := image.Decode(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	h, err := readHeader("ref", src, o.MaxSourcePixels)
	if err != nil {
		t.Fatal(err)
	}
	up := orient(imaging.Clone(full), h.orientation)
	p := PlanSize(up.Bounds().Dx(), up.Bounds().Dy(), o.MaxWidth, o.MaxHeight, o.Fit)
	scaled := imaging.Resize(up, p.ScaledWidth, p.ScaledHeight, imaging.Lanczos)
	return imaging.CropCenter(scaled, p.Width, p.Height)
}

// TestPlanesMatchReference checks the JPEG plane path (every orientation, fit
// and output format, colour and gray, 4:2:0 and 4:4:4 decodes) against the
// full-resolution reference.
func TestPlanesMatchReference(t *testing.T) {
	colour := encJPEG(t, texture(1203, 803), 95)
	gray := encJPEG(t, imaging.Grayscale(texture(1001, 1500)), 95)
	small := encJPEG(t, texture(150, 90), 95) // never upscaled
	for _, tc := range []struct {
		name string
		src  []byte
	}{{"colour", colour}, {"gray", gray}, {"small", small}} {
		for orientation := orientNormal; orientation <= orientRotate90; orientation++ {
			for _, fit := range []Fit{FitInside, FitCover, FitFill} {
				for _, format := range []Format{FormatJPEG, FormatPNG} {
					name := fmt.Sprintf("%s/o%d/%s/%s", tc.name, orientation, fit, format)
					t.Run(name, func(t *testing.T) {
						src := withOrientation(tc.src, orientation, binary.BigEndian)
						o := opts(func(o *Options) { o.Fit, o.Format, o.MaxWidth, o.MaxHeight = fit, format, 200, 160 })
						res := mustThumb(t, src, o)
						got, _ := decodeImage(t, res.Data)
						ref := reference(t, src, o)
						if got.Bounds().Size() != ref.Bounds().Size() {
							t.Fatalf("size %v, reference %v", got.Bounds().Size(), ref.Bounds().Size())
						}
						db := psnr(got, ref)
						if format == FormatPNG {
							if db < 38 {
								t.Errorf("PSNR %.1f dB against the full-resolution reference, want >= 38", db)
							}
							return
						}
						// A q85 4:2:0 encode of the colour texture loses more
						// than resampling does (about 25 dB); there, hold the
						// JPEG to what encoding the reference itself keeps.
						enc, _ := decodeImage(t, encJPEG(t, ref, o.Quality))
						if floor := min(35, psnr(enc, ref)-1.5); db < floor {
							t.Errorf("PSNR %.1f dB against the full-resolution reference, want >= %.1f", db, floor)
						}
					})
				}
			}
		}
	}
}

// TestResizePlaneFlat checks that the fixed-point weights sum to exactly one:
// a flat plane stays flat at every size, with and without a fractional window.
func TestResizePlaneFlat(t *testing.T) {
	pix := bytes.Repeat([]byte{201}, 97*61)
	for _, size := range [][2]int{{1, 1}, {7, 3}, {48, 30}, {97, 61}} {
		out := resizePlane(pix, 97, 97, 61, 0.5, 0.5, 95.5, 59.5, size[0], size[1])
		for i, v := range out {
			if v != 201 {
				t.Fatalf("%dx%d: sample %d is %d, want 201", size[0], size[1], i, v)
			}
		}
	}
}
