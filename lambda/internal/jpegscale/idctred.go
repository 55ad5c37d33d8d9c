package jpegscale

// Reduced-size inverse DCTs.
//
// The 8-point IDCT used by JPEG reconstructs a sample at position x from the
// coefficients F(u) as
//
//	f(x) = Σ_u C(u)/2 · F(u) · cos((2x+1)uπ/16),   C(0) = 1/√2, C(u>0) = 1.
//
// Read as a continuous function of x, this is a band-limited interpolant of
// the block. Evaluating it at x = 2m+½ (the centre of each pair of samples)
// turns the cosine argument into (2m+1)uπ/8, so keeping only the coefficients
// u < 4 gives exactly the 4-point IDCT of the low-frequency coefficients, with
// the same C(u)/2 weights. The dropped coefficients are the frequencies a
// 4-sample block cannot represent, so dropping them is the anti-aliasing low
// pass that a later downscale would otherwise have to perform (and coefficient
// 4 contributes nothing at these points anyway, since cos((2m+1)π/2) = 0).
// The same argument at x = 4m+1½ gives the 2-point IDCT of the coefficients
// u < 2, and at the block centre just the DC term F(0)/8.
//
// The 2D transforms are separable: columns first, then rows.

// Fixed-point weights of the 4-point transform, in units of 2^-reducedBits.
//
//	k0 = C(0)/2 = C(2)/2·cos(π/4) = 1/(2√2)
//	k1 = cos(π/8)/2
//	k3 = cos(3π/8)/2
const (
	reducedBits = 13
	pass1Bits   = 2 // extra fractional bits kept between the two passes.

	k0 = 2896 // round(2^13 / (2*sqrt(2)))
	k1 = 3784 // round(2^13 * cos(pi/8) / 2)
	k3 = 1567 // round(2^13 * cos(3pi/8) / 2)
)

func clamp8(x int32) uint8 {
	if uint32(x) <= 255 {
		return uint8(x)
	}
	if x < 0 {
		return 0
	}
	return 255
}

// idct4 writes the 4x4 reduced inverse DCT of the dequantized, natural-order
// coefficients b (only rows and columns 0-3 are read) to dst, adding the +128
// level shift and clamping to [0, 255].
func idct4(b *block, dst []byte, stride int) {
	var tmp [16]int32
	const r = 1 << (reducedBits - pass1Bits - 1)
	// Pass 1: columns u = 0..3, producing rows m = 0..3 with pass1Bits of
	// extra precision.
	for u := 0; u < 4; u++ {
		f0, f1, f2, f3 := b[u], b[8+u], b[16+u], b[24+u]
		if f1 == 0 && f2 == 0 && f3 == 0 {
			// Common for photos: a column with only its DC term.
			dc := (f0*k0 + r) >> (reducedBits - pass1Bits)
			tmp[u], tmp[4+u], tmp[8+u], tmp[12+u] = dc, dc, dc, dc
			continue
		}
		e0 := (f0 + f2) * k0
		e1 := (f0 - f2) * k0
		o0 := f1*k1 + f3*k3
		o1 := f1*k3 - f3*k1
		tmp[u] = (e0 + o0 + r) >> (reducedBits - pass1Bits)
		tmp[12+u] = (e0 - o0 + r) >> (reducedBits - pass1Bits)
		tmp[4+u] = (e1 + o1 + r) >> (reducedBits - pass1Bits)
		tmp[8+u] = (e1 - o1 + r) >> (reducedBits - pass1Bits)
	}
	// Pass 2: rows, with rounding and the level shift folded into one
	// constant.
	const shift = reducedBits + pass1Bits
	const bias = 128<<shift + 1<<(shift-1)
	for m := 0; m < 4; m++ {
		t := tmp[4*m : 4*m+4 : 4*m+4]
		e0 := (t[0] + t[2]) * k0
		e1 := (t[0] - t[2]) * k0
		o0 := t[1]*k1 + t[3]*k3
		o1 := t[1]*k3 - t[3]*k1
		row := dst[m*stride : m*stride+4 : m*stride+4]
		row[0] = clamp8((e0 + o0 + bias) >> shift)
		row[1] = clamp8((e1 + o1 + bias) >> shift)
		row[2] = clamp8((e1 - o1 + bias) >> shift)
		row[3] = clamp8((e0 - o0 + bias) >> shift)
	}
}

// idct2 writes the 2x2 reduced inverse DCT of b to dst. With only u, v < 2
// every weight is ±1/(2√2) per dimension, so each output is a signed sum of
// the four coefficients divided by 8.
func idct2(b *block, dst []byte, stride int) {
	f00, f01, f10, f11 := b[0], b[1], b[8], b[9]
	const bias = 128<<3 + 4
	s0, d0 := f00+f10, f00-f10 // rows: top half (+), bottom half (-).
	s1, d1 := f01+f11, f01-f11
	dst[0] = clamp8((s0 + s1 + bias) >> 3)
	dst[1] = clamp8((s0 - s1 + bias) >> 3)
	dst[stride] = clamp8((d0 + d1 + bias) >> 3)
	dst[stride+1] = clamp8((d0 - d1 + bias) >> 3)
}

// idct1 returns the 1x1 reduced inverse DCT: the block mean, F(0,0)/8.
func idct1(dc int32) uint8 {
	return clamp8((dc + 128<<3 + 4) >> 3)
}
