package resize

import (
	"image"
	"math"
)

// A decoded JPEG is already YCbCr (or gray) planes, and image/jpeg's encoder
// reads *image.YCbCr directly. Resampling the planes themselves skips the
// conversion to NRGBA, the compositing onto white (a JPEG has no alpha) and
// the conversion back to YCbCr in the encoder, which together cost more than
// the resampling. Lanczos is linear and YCbCr is an affine map of RGB, so
// filtering the planes gives the same thumbnail up to rounding.
//
// The filter runs on one goroutine: at thumbnail sizes the work per image is
// a few hundred microseconds, less than what fanning rows out to goroutines
// costs in scheduling on a 2-vCPU Lambda, and CPU time is what is billed.

// weightBits is the fixed-point precision of the filter weights: 14 bits keep
// a weight (at most 1.0) in an int16-sized range and a sum of uint8 x weight
// products far from int32 overflow.
const weightBits = 14

// kernel holds, for each output sample, the first input sample it reads, how
// many it reads, and their weights (zero-padded to taps), which sum to
// 1<<weightBits.
type kernel struct {
	start   []int
	count   []int
	weights []int32
	taps    int
}

// lanczos3 is the Lanczos kernel with a = 3, as imaging.Lanczos.
func lanczos3(x float64) float64 {
	x = math.Abs(x)
	if x >= 3 {
		return 0
	}
	if x < 1e-9 {
		return 1
	}
	px := math.Pi * x
	return 3 * math.Sin(px) * math.Sin(px/3) / (px * px)
}

// newKernel maps the input window [from, from+length) of a plane of size n
// onto dst output samples. The window may start and end between samples
// (chroma planes of a cropped 4:2:0 image). Taps outside the plane are dropped
// and the rest renormalised, as imaging does at the edges.
func newKernel(n int, from, length float64, dst int) kernel {
	scale := length / float64(dst)
	support := 3 * max(scale, 1)
	taps := int(math.Ceil(2*support)) + 1
	k := kernel{start: make([]int, dst), count: make([]int, dst), weights: make([]int32, dst*taps), taps: taps}
	fw := make([]float64, taps)
	for i := 0; i < dst; i++ {
		center := from + (float64(i)+0.5)*scale - 0.5
		lo := max(int(math.Ceil(center-support)), 0)
		hi := min(int(math.Floor(center+support)), n-1)
		if hi-lo+1 > taps {
			hi = lo + taps - 1
		}
		if lo > hi { // window entirely beyond an edge: nearest sample
			lo = clamp(int(math.Round(center)), 0, n-1)
			hi = lo
		}
		var sum float64
		for j := lo; j <= hi; j++ {
			fw[j-lo] = lanczos3((float64(j) - center) / max(scale, 1))
			sum += fw[j-lo]
		}
		if sum == 0 {
			fw[0], sum, hi = 1, 1, lo
		}
		k.start[i], k.count[i] = lo, hi-lo+1
		w := k.weights[i*taps : (i+1)*taps]
		var isum int32
		for j := lo; j <= hi; j++ {
			w[j-lo] = int32(math.Round(fw[j-lo] / sum * (1 << weightBits)))
			isum += w[j-lo]
		}
		// Put the rounding error on the centre tap so flat areas stay exact.
		c := clamp(int(math.Round(center))-lo, 0, hi-lo)
		w[c] += 1<<weightBits - isum
	}
	return k
}

func clampU8(v int32) uint8 {
	v = (v + 1<<(weightBits-1)) >> weightBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resizePlane resamples the window (x0, y0, w, h) of a plane (pix with
// stride, pw x ph samples) to dw x dh, horizontally first into an
// intermediate of only the rows the vertical pass reads.
func resizePlane(pix []uint8, stride, pw, ph int, x0, y0, w, h float64, dw, dh int) []uint8 {
	return resizeWith([][]uint8{pix}, stride, pw, newKernel(pw, x0, w, dw), newKernel(ph, y0, h, dh), ph, dw, dh)[0]
}

// resizeWith is resizePlane for planes of the same geometry (Y, Cb and Cr of
// a 4:4:4 image), which share the kernels and, three at a time, the
// horizontal pass's loads of them.
func resizeWith(planes [][]uint8, stride, pw int, kx, ky kernel, ph, dw, dh int) [][]uint8 {
	r0 := ky.start[0]
	r1 := r0
	for i, s := range ky.start {
		last := s
		for t := ky.taps - 1; t >= 0; t-- {
			if ky.weights[i*ky.taps+t] != 0 {
				last = s + t
				break
			}
		}
		r1 = max(r1, last+1)
	}
	r1 = min(r1, ph)

	tmps := make([][]uint8, len(planes))
	for i := range tmps {
		tmps[i] = make([]uint8, (r1-r0)*dw)
	}
	if len(planes) == 3 {
		for y := r0; y < r1; y++ {
			o := (y - r0) * dw
			o0, o1, o2 := tmps[0][o:o+dw], tmps[1][o:o+dw], tmps[2][o:o+dw]
			row0, row1, row2 := planes[0][y*stride:y*stride+pw], planes[1][y*stride:y*stride+pw], planes[2][y*stride:y*stride+pw]
			for x := range o0 {
				s, n := kx.start[x], kx.count[x]
				ws := kx.weights[x*kx.taps : x*kx.taps+n]
				a, b, c := row0[s:s+n], row1[s:s+n], row2[s:s+n]
				a, b, c = a[:len(ws)], b[:len(ws)], c[:len(ws)] // no bounds checks below
				var acc0, acc1, acc2 int32
				for t, w := range ws {
					acc0 += int32(a[t]) * w
					acc1 += int32(b[t]) * w
					acc2 += int32(c[t]) * w
				}
				o0[x], o1[x], o2[x] = clampU8(acc0), clampU8(acc1), clampU8(acc2)
			}
		}
	} else {
		for i, pix := range planes {
			for y := r0; y < r1; y++ {
				row := pix[y*stride : y*stride+pw]
				out := tmps[i][(y-r0)*dw : (y-r0+1)*dw]
				for x := range out {
					s, n := kx.start[x], kx.count[x]
					ws := kx.weights[x*kx.taps : x*kx.taps+n]
					src := row[s : s+n]
					src = src[:len(ws)] // no bounds check below
					var acc int32
					for t, w := range ws {
						acc += int32(src[t]) * w
					}
					out[x] = clampU8(acc)
				}
			}
		}
	}
	dsts := make([][]uint8, len(planes))
	for i, tmp := range tmps {
		dsts[i] = verticalPass(tmp, ky, r0, r1, dw, dh)
	}
	return dsts
}

// verticalPass filters the horizontally resampled rows r0..r1 of tmp into
// the dw x dh output, accumulating whole rows so the inner loop is
// sequential.
func verticalPass(tmp []uint8, ky kernel, r0, r1, dw, dh int) []uint8 {
	dst := make([]uint8, dw*dh)
	acc := make([]int32, dw)
	for y := 0; y < dh; y++ {
		clear(acc)
		s := ky.start[y]
		ws := ky.weights[y*ky.taps : (y+1)*ky.taps]
		for t, wt := range ws {
			if wt == 0 || s+t >= r1 {
				continue
			}
			in := tmp[(s+t-r0)*dw : (s+t-r0+1)*dw]
			in = in[:len(acc)]
			for x, v := range in {
				acc[x] += int32(v) * wt
			}
		}
		out := dst[y*dw : (y+1)*dw]
		for x, a := range acc {
			out[x] = clampU8(a)
		}
	}
	return dst
}

// orientPlane applies an EXIF orientation to a w x h plane, returning the
// new plane and its size; the transforms are imaging's of the same names.
func orientPlane(p []uint8, w, h, o int) ([]uint8, int, int) {
	if o == orientNormal || o < orientFlipH || o > orientRotate90 {
		return p, w, h
	}
	nw, nh := w, h
	if swapsAxes(o) {
		nw, nh = h, w
	}
	dst := make([]uint8, len(p))
	for y := 0; y < nh; y++ {
		out := dst[y*nw : (y+1)*nw]
		for x := range out {
			var sx, sy int
			switch o {
			case orientFlipH:
				sx, sy = w-1-x, y
			case orientRotate180:
				sx, sy = w-1-x, h-1-y
			case orientFlipV:
				sx, sy = x, h-1-y
			case orientTranspose:
				sx, sy = y, x
			case orientRotate270:
				sx, sy = y, h-1-x
			case orientTransverse:
				sx, sy = w-1-y, h-1-x
			case orientRotate90:
				sx, sy = w-1-y, x
			}
			out[x] = p[sy*w+sx]
		}
	}
	return dst, nw, nh
}

// resamplePlanes is resample for the YCbCr and gray images a JPEG decodes
// to, with the orientation applied: a 4:4:4 *image.YCbCr or an *image.Gray
// of the thumbnail's size. It returns nil for any other image, which takes
// the general path.
func resamplePlanes(img image.Image, p Plan, o int) image.Image {
	b := img.Bounds()
	if b.Min != (image.Point{}) {
		return nil
	}
	// The Cover crop, in whole source pixels as resample takes it.
	crop := cropRegion(b, p)
	x0, y0, cw, ch := crop.Min.X, crop.Min.Y, crop.Dx(), crop.Dy()
	switch src := img.(type) {
	case *image.Gray:
		pl := resizePlane(src.Pix, src.Stride, b.Dx(), b.Dy(), float64(x0), float64(y0), float64(cw), float64(ch), p.Width, p.Height)
		pl, w, h := orientPlane(pl, p.Width, p.Height, o)
		return &image.Gray{Pix: pl, Stride: w, Rect: image.Rect(0, 0, w, h)}
	case *image.YCbCr:
		var sx, sy int // chroma subsampling shifts
		switch src.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
		case image.YCbCrSubsampleRatio422:
			sx = 1
		case image.YCbCrSubsampleRatio420:
			sx, sy = 1, 1
		case image.YCbCrSubsampleRatio440:
			sy = 1
		default:
			return nil
		}
		lx, ly := newKernel(b.Dx(), float64(x0), float64(cw), p.Width), newKernel(b.Dy(), float64(y0), float64(ch), p.Height)
		var yp, cb, cr []uint8
		if sx == 0 && sy == 0 && src.YStride == src.CStride {
			out := resizeWith([][]uint8{src.Y, src.Cb, src.Cr}, src.YStride, b.Dx(), lx, ly, b.Dy(), p.Width, p.Height)
			yp, cb, cr = out[0], out[1], out[2]
		} else {
			yp = resizeWith([][]uint8{src.Y}, src.YStride, b.Dx(), lx, ly, b.Dy(), p.Width, p.Height)[0]
			cpw, cph := (b.Dx()+sx)>>sx, (b.Dy()+sy)>>sy
			kx, ky := lx, ly
			if sx != 0 {
				kx = newKernel(cpw, float64(x0)/2, float64(cw)/2, p.Width)
			}
			if sy != 0 {
				ky = newKernel(cph, float64(y0)/2, float64(ch)/2, p.Height)
			}
			out := resizeWith([][]uint8{src.Cb, src.Cr}, src.CStride, cpw, kx, ky, cph, p.Width, p.Height)
			cb, cr = out[0], out[1]
		}
		yp, w, h := orientPlane(yp, p.Width, p.Height, o)
		cb, _, _ = orientPlane(cb, p.Width, p.Height, o)
		cr, _, _ = orientPlane(cr, p.Width, p.Height, o)
		return &image.YCbCr{Y: yp, Cb: cb, Cr: cr, YStride: w, CStride: w,
			SubsampleRatio: image.YCbCrSubsampleRatio444, Rect: image.Rect(0, 0, w, h)}
	}
	return nil
}
