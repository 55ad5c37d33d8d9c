package resize

import (
	"image"
	"runtime"
	"sync"
)

// reduceGap is how much larger than the thumbnail a box pre-reduction stops.
// Lanczos over a 14.7 MP PNG costs more than half its decode; averaging
// integer blocks first (as Pillow's thumbnail does, with the same gap of 2)
// leaves the Lanczos pass a small image and still the final say over the
// frequencies near the thumbnail's resolution.
const reduceGap = 2

// boxReduce shrinks img by the largest integer factors that keep it at least
// reduceGap times w x h, averaging each block (partial blocks at the right and
// bottom edges average the pixels they have). Image types without a fast path
// (YCbCr is already DCT-scaled; paletted, 16-bit) are returned unchanged:
// correct, only slower.
func boxReduce(img image.Image, w, h int) image.Image {
	b := img.Bounds()
	fx, fy := max(1, b.Dx()/(reduceGap*w)), max(1, b.Dy()/(reduceGap*h))
	if fx == 1 && fy == 1 {
		return img
	}
	ow, oh := (b.Dx()+fx-1)/fx, (b.Dy()+fy-1)/fy
	switch src := img.(type) {
	case *image.NRGBA:
		dst := image.NewNRGBA(image.Rect(0, 0, ow, oh))
		parallelRows(oh, func(oy int) { reduceNRGBARow(src, dst, oy, fx, fy) })
		return dst
	case *image.RGBA:
		dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
		parallelRows(oh, func(oy int) {
			reducePlainRow(src.Pix, src.Stride, src.PixOffset(b.Min.X, b.Min.Y), b, dst.Pix[oy*dst.Stride:], 4, oy, fx, fy)
		})
		return dst
	case *image.Gray:
		dst := image.NewGray(image.Rect(0, 0, ow, oh))
		parallelRows(oh, func(oy int) {
			reducePlainRow(src.Pix, src.Stride, src.PixOffset(b.Min.X, b.Min.Y), b, dst.Pix[oy*dst.Stride:], 1, oy, fx, fy)
		})
		return dst
	}
	return img
}

// reducePlainRow averages channels independently: right for premultiplied
// RGBA and for gray.
func reducePlainRow(pix []uint8, stride, base int, b image.Rectangle, out []uint8, channels, oy, fx, fy int) {
	y0, y1 := oy*fy, min((oy+1)*fy, b.Dy())
	var sum [4]uint32
	for ox := 0; ox*fx < b.Dx(); ox++ {
		x0, x1 := ox*fx, min((ox+1)*fx, b.Dx())
		sum = [4]uint32{}
		for y := y0; y < y1; y++ {
			row := pix[base+y*stride+x0*channels : base+y*stride+x1*channels]
			for i := 0; i < len(row); i += channels {
				for c := 0; c < channels; c++ {
					sum[c] += uint32(row[i+c])
				}
			}
		}
		n := uint32((x1 - x0) * (y1 - y0))
		for c := 0; c < channels; c++ {
			out[ox*channels+c] = uint8((sum[c] + n/2) / n)
		}
	}
}

// reduceNRGBARow weights colour by alpha, so transparent pixels (whose colour
// is arbitrary, often black) do not darken the edges of opaque ones.
func reduceNRGBARow(src, dst *image.NRGBA, oy, fx, fy int) {
	b := src.Bounds()
	y0, y1 := oy*fy, min((oy+1)*fy, b.Dy())
	out := dst.Pix[oy*dst.Stride:]
	for ox := 0; ox*fx < b.Dx(); ox++ {
		x0, x1 := ox*fx, min((ox+1)*fx, b.Dx())
		var r, g, bl, a uint64
		for y := y0; y < y1; y++ {
			i := src.PixOffset(b.Min.X+x0, b.Min.Y+y)
			row := src.Pix[i : i+(x1-x0)*4]
			for j := 0; j < len(row); j += 4 {
				pa := uint64(row[j+3])
				r += uint64(row[j]) * pa
				g += uint64(row[j+1]) * pa
				bl += uint64(row[j+2]) * pa
				a += pa
			}
		}
		o := out[ox*4 : ox*4+4]
		if a == 0 {
			o[0], o[1], o[2], o[3] = 0, 0, 0, 0
			continue
		}
		n := uint64((x1 - x0) * (y1 - y0))
		o[0] = uint8((r + a/2) / a)
		o[1] = uint8((g + a/2) / a)
		o[2] = uint8((bl + a/2) / a)
		o[3] = uint8((a + n/2) / n)
	}
}

// parallelRows runs fn for every output row, split across the CPUs.
func parallelRows(rows int, fn func(y int)) {
	workers := min(runtime.GOMAXPROCS(0), rows)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for y := w; y < rows; y += workers {
				fn(y)
			}
		}(w)
	}
	wg.Wait()
}
