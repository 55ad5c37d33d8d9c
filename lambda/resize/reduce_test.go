package resize

import (
	"image"
	"image/color"
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
	for y := 0; y < 67; y++ {
		for x := 0; x < 101; x++ {
			rgba.Set(x, y, full.At(x, y))
			gray.Set(x, y, full.At(x, y))
		}
	}
	sub := full.SubImage(image.Rect(7, 5, 90, 60)) // offsets and odd sizes
	for name, img := range map[string]image.Image{"NRGBA": full, "RGBA": rgba, "Gray": gray, "NRGBA sub-image": sub} {
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
	pal := image.NewPaletted(image.Rect(0, 0, 2000, 2000), color.Palette{color.Black})
	if got := boxReduce(pal, 10, 10); got != image.Image(pal) {
		t.Error("a paletted image took a path it has none for")
	}
}
