// Copyright 2012 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package pngfast

// predict is paeth's choice, made with two conditional moves instead of
// nested branches: on photographs the choice is close to random, and the
// mispredicted branches were most of image/png's filter time. It returns a
// if pa <= pb and pa <= pc, else b if pb <= pc, else c: keep the smaller of
// (b, pb) and (c, pc), ties to b, then a wins if pa is no larger. It compares
// squares rather than absolute values, which orders the same and keeps the
// function cheap enough for the compiler to inline.
func predict(a, b, c int) int {
	pa := b - c
	pb := a - c
	pc := pa + pb
	pa, pb, pc = pa*pa, pb*pb, pc*pc
	if pb <= pc {
		c, pc = b, pb
	}
	if pa <= pc {
		c = a
	}
	return c
}

// filterPaeth applies the Paeth filter to the cdat slice.
// cdat is the current row's data, pdat is the previous row's data.
//
// Each channel's bytes depend on the previous pixel's, so image/png's loop,
// one channel at a time, is one long dependency chain. For 3 and 4 bytes
// per pixel (8-bit RGB and RGBA, the common photographic cases) the channels
// are filtered together so that the processor can overlap their chains.
func filterPaeth(cdat, pdat []byte, bytesPerPixel int) {
	pdat = pdat[:len(cdat)]
	switch bytesPerPixel {
	case 3:
		filterPaeth3(cdat, pdat)
		return
	case 4:
		filterPaeth4(cdat, pdat)
		return
	}
	for i := 0; i < bytesPerPixel; i++ {
		a, c := 0, 0
		for j := i; j < len(cdat); j += bytesPerPixel {
			b := int(pdat[j])
			a = (predict(a, b, c) + int(cdat[j])) & 0xff
			cdat[j] = uint8(a)
			c = b
		}
	}
}

func filterPaeth3(cdat, pdat []byte) {
	var a0, a1, a2, c0, c1, c2 int
	for len(cdat) >= 3 {
		_ = pdat[2]
		b0, b1, b2 := int(pdat[0]), int(pdat[1]), int(pdat[2])
		a0 = (predict(a0, b0, c0) + int(cdat[0])) & 0xff
		a1 = (predict(a1, b1, c1) + int(cdat[1])) & 0xff
		a2 = (predict(a2, b2, c2) + int(cdat[2])) & 0xff
		cdat[0], cdat[1], cdat[2] = uint8(a0), uint8(a1), uint8(a2)
		c0, c1, c2 = b0, b1, b2
		cdat, pdat = cdat[3:], pdat[3:]
	}
	// A partial last pixel continues its channels' chains, as in image/png.
	if len(cdat) > 0 {
		cdat[0] = uint8(predict(a0, int(pdat[0]), c0) + int(cdat[0]))
	}
	if len(cdat) > 1 {
		cdat[1] = uint8(predict(a1, int(pdat[1]), c1) + int(cdat[1]))
	}
}

func filterPaeth4(cdat, pdat []byte) {
	var a0, a1, a2, a3, c0, c1, c2, c3 int
	for len(cdat) >= 4 {
		_ = pdat[3]
		b0, b1, b2, b3 := int(pdat[0]), int(pdat[1]), int(pdat[2]), int(pdat[3])
		a0 = (predict(a0, b0, c0) + int(cdat[0])) & 0xff
		a1 = (predict(a1, b1, c1) + int(cdat[1])) & 0xff
		a2 = (predict(a2, b2, c2) + int(cdat[2])) & 0xff
		a3 = (predict(a3, b3, c3) + int(cdat[3])) & 0xff
		cdat[0], cdat[1], cdat[2], cdat[3] = uint8(a0), uint8(a1), uint8(a2), uint8(a3)
		c0, c1, c2, c3 = b0, b1, b2, b3
		cdat, pdat = cdat[4:], pdat[4:]
	}
	// A partial last pixel continues its channels' chains, as in image/png.
	if len(cdat) > 0 {
		cdat[0] = uint8(predict(a0, int(pdat[0]), c0) + int(cdat[0]))
	}
	if len(cdat) > 1 {
		cdat[1] = uint8(predict(a1, int(pdat[1]), c1) + int(cdat[1]))
	}
	if len(cdat) > 2 {
		cdat[2] = uint8(predict(a2, int(pdat[2]), c2) + int(cdat[2]))
	}
}
