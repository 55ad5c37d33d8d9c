package resize

import (
	"bytes"
	"go/build"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// refReduce is the obvious, slow definition boxReduce must match: average
// each block in premultiplied RGBA through the generic At().
func refReduce(img image.Image, fx, fy int) [][4]uint32 {
	b := img.Bounds()
	ow, oh := (b.Dx()+fx-1)/fx, (b.Dy()+fy-1)/fy
	out := make([][4]uint32, ow*oh)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			var s [4]uint32
			n := uint32(0)
			for y := oy * fy; y < min((oy+1)*fy, b.Dy()); y++ {
				for x := ox * fx; x < min((ox+1)*fx, b.Dx()); x++ {
					r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
					s[0], s[1], s[2], s[3] = s[0]+r>>8, s[1]+g>>8, s[2]+bl>>8, s[3]+a>>8
					n++
				}
			}
			for c := range s {
				s[c] /= n
			}
			out[oy*ow+ox] = s
		}
	}
	return out
}

func TestBoxReduce(t *testing.T) {
	full := noise(101, 67)
	// Give the noise real transparency.
	for i := 3; i < len(full.Pix); i += 16 {
		full.Pix[i] = uint8(i)
	}
	rgba := image.NewRGBA(full.Bounds())
	gray := image.NewGray(full.Bounds())
	gray16 := image.NewGray16(full.Bounds())
	cmyk := image.NewCMYK(full.Bounds())
	pal := image.NewPaletted(full.Bounds(), palette.WebSafe)
	for y := 0; y < 67; y++ {
		for x := 0; x < 101; x++ {
			rgba.Set(x, y, full.At(x, y))
			gray.Set(x, y, full.At(x, y))
			gray16.Set(x, y, full.At(x, y))
			cmyk.Set(x, y, full.At(x, y))
			pal.Set(x, y, full.At(x, y))
		}
	}
	sub := full.SubImage(image.Rect(7, 5, 90, 60)) // offsets and odd sizes
	for name, img := range map[string]image.Image{
		"NRGBA": full, "RGBA": rgba, "Gray": gray, "NRGBA sub-image": sub,
		"Gray16": gray16, "CMYK": cmyk, "Paletted": pal,
	} {
		b := img.Bounds()
		got := boxReduce(img, 8, 5) // factors 101/16=6, 67/10=6 (sub: 83/16=5, 55/10=5)
		fx, fy := b.Dx()/16, b.Dy()/10
		want := refReduce(img, fx, fy)
		gb := got.Bounds()
		if gb.Dx() != (b.Dx()+fx-1)/fx || gb.Dy() != (b.Dy()+fy-1)/fy {
			t.Fatalf("%s: reduced to %v", name, gb)
		}
		for y := 0; y < gb.Dy(); y++ {
			for x := 0; x < gb.Dx(); x++ {
				r, g, bl, a := got.At(x, y).RGBA()
				w := want[y*gb.Dx()+x]
				// Premultiplied comparison, with rounding slack.
				for c, v := range []uint32{r >> 8, g >> 8, bl >> 8, a >> 8} {
					if d := int(v) - int(w[c]); d < -2 || d > 2 {
						t.Fatalf("%s: pixel (%d,%d) channel %d = %d, want %d", name, x, y, c, v, w[c])
					}
				}
			}
		}
	}
}

// TestReducePNGRowsMatchesWhole: reducing rows as the PNG decoder streams
// them gives exactly what reducing the whole decoded image gives, for each
// PNG colour type, interlaced or not, and for Cover crops.
func TestReducePNGRowsMatchesWhole(t *testing.T) {
	base := noise(613, 411)
	for i := 3; i < len(base.Pix); i += 28 {
		base.Pix[i] = uint8(i * 7)
	}
	opaque := image.NewRGBA(base.Bounds())
	gray := image.NewGray(base.Bounds())
	pal := image.NewPaletted(base.Bounds(), palette.Plan9)
	draw.Draw(opaque, opaque.Bounds(), base, image.Point{}, draw.Src)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 0xff
	}
	draw.Draw(gray, gray.Bounds(), opaque, image.Point{}, draw.Src)
	draw.Draw(pal, pal.Bounds(), opaque, image.Point{}, draw.Src)
	sources := map[string][]byte{
		"RGBA":       encPNG(t, base),
		"RGB":        encPNG(t, opaque),
		"gray":       encPNG(t, gray),
		"paletted":   encPNG(t, pal),
		"interlaced": readTestFile(t, filepath.Join(build.Default.GOROOT, "src/image/png/testdata/benchRGB-interlace.png")),
		"16-bit":     readTestFile(t, filepath.Join(build.Default.GOROOT, "src/image/png/testdata/pngsuite/basn6a16.png")),
	}
	for name, src := range sources {
		h, err := readHeader(name, src, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := png.Decode(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		for _, box := range []struct {
			w, h int
			fit  Fit
		}{{50, 50, FitInside}, {40, 90, FitCover}, {7, 200, FitFill}, {1, 1, FitInside}, {600, 600, FitInside}} {
			p := PlanSize(h.width, h.height, box.w, box.h, box.fit)
			got, err := decodePNGReduced(src, h, p)
			if err != nil {
				t.Fatal(err)
			}
			region := cropRegion(whole.Bounds(), p)
			want := boxReduce(whole.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(region), p.Width, p.Height)
			if !samePixels(got, want) {
				t.Errorf("%s, %dx%d %s: streamed reduction %T %v differs from the whole image's %T %v",
					name, box.w, box.h, box.fit, got, got.Bounds(), want, want.Bounds())
			}
		}
	}
}

// samePixels: the same size and the same colours (types may differ where a
// paletted source was reduced to NRGBA).
func samePixels(a, b image.Image) bool {
	if a.Bounds().Size() != b.Bounds().Size() {
		return false
	}
	for y := 0; y < a.Bounds().Dy(); y++ {
		for x := 0; x < a.Bounds().Dx(); x++ {
			ca := color.NRGBAModel.Convert(a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y))
			cb := color.NRGBAModel.Convert(b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y))
			if ca != cb {
				return false
			}
		}
	}
	return true
}

// TestReduceSumsDoNotOverflow: a block of 2^25 white gray pixels (a 1-pixel
// thumbnail of a large source) sums past 32 bits.
func TestReduceSumsDoNotOverflow(t *testing.T) {
	const n = 1 << 25
	sums := make([]uint64, 1)
	sumPlain1(sums, bytes.Repeat([]byte{255}, n), n)
	if sums[0] != 255*n {
		t.Errorf("sum of %d pixels of 255 = %d, want %d", n, sums[0], 255*n)
	}
}

// TestBoxReduceTransparentEdge: transparent black next to opaque red averages
// to half-transparent red, not dark red.
func TestBoxReduceTransparentEdge(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 40; x += 2 {
			img.SetNRGBA(x, y, red)
		}
	}
	got := boxReduce(img, 5, 5).(*image.NRGBA)
	if c := got.NRGBAAt(1, 1); c != (color.NRGBA{255, 0, 0, 128}) {
		t.Errorf("got %v, want half-transparent pure red", c)
	}
}

func TestBoxReduceKeepsSmall(t *testing.T) {
	img := noise(300, 300)
	if got := boxReduce(img, 200, 200); got != image.Image(img) {
		t.Error("an image less than twice the target was reduced")
	}
}

func readTestFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
