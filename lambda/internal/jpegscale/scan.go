// Copyright 2012 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package jpegscale

import (
	"bytes"
	"image"
)

// zigLimit is, per shift, how many zig-zag coefficients the reduced IDCT of
// that size reads: all 64 at 1/1; up to (3,3), zig-zag index 24, for the 4x4
// transform; up to (1,1), index 4, for 2x2; only DC for 1x1.
var zigLimit = [4]int32{64, 25, 5, 1}

// makeImg chooses the scale and allocates and initializes the destination
// image, whose blocks are bs x bs samples.
func (d *decoder) makeImg(mxx, myy int) {
	d.shift = chooseShift(d.width, d.height, d.minWidth, d.minHeight)
	for i := range d.cshift {
		d.cshift[i] = d.shift
		d.kmax[i] = zigLimit[d.shift]
	}
	bs := 8 >> d.shift
	// libjpeg's rounding of scaled dimensions: ceil(dim / denom).
	w := (d.width + 1<<d.shift - 1) >> d.shift
	h := (d.height + 1<<d.shift - 1) >> d.shift
	if d.nComp == 1 {
		m := image.NewGray(image.Rect(0, 0, bs*mxx, bs*myy))
		d.img1 = m.SubImage(image.Rect(0, 0, w, h)).(*image.Gray)
		d.planes[0] = plane{m.Pix, m.Stride}
		return
	}

	h0 := d.comp[0].h
	v0 := d.comp[0].v
	hRatio := h0 / d.comp[1].h
	vRatio := v0 / d.comp[1].v
	keep := d.keep420 && hRatio == 2 && vRatio == 2
	if d.nComp == 3 && d.shift > 0 && hRatio%2 == 0 && vRatio%2 == 0 && !keep {
		// 4:2:0 becomes 4:4:4 and 4:1:0 becomes 4:2:2 (see cshift).
		for i := 1; i < 3; i++ {
			d.cshift[i] = d.shift - 1
			d.kmax[i] = zigLimit[d.shift-1]
		}
		hRatio, vRatio = hRatio/2, vRatio/2
	}
	var subsampleRatio image.YCbCrSubsampleRatio
	switch hRatio<<4 | vRatio {
	case 0x11:
		subsampleRatio = image.YCbCrSubsampleRatio444
	case 0x12:
		subsampleRatio = image.YCbCrSubsampleRatio440
	case 0x21:
		subsampleRatio = image.YCbCrSubsampleRatio422
	case 0x22:
		subsampleRatio = image.YCbCrSubsampleRatio420
	case 0x41:
		subsampleRatio = image.YCbCrSubsampleRatio411
	case 0x42:
		subsampleRatio = image.YCbCrSubsampleRatio410
	default:
		panic("unreachable")
	}
	m := image.NewYCbCr(image.Rect(0, 0, bs*h0*mxx, bs*v0*myy), subsampleRatio)
	d.img3 = m.SubImage(image.Rect(0, 0, w, h)).(*image.YCbCr)

	if d.nComp == 4 {
		h3, v3 := d.comp[3].h, d.comp[3].v
		d.blackPix = make([]byte, bs*h3*mxx*bs*v3*myy)
		d.blackStride = bs * h3 * mxx
		d.planes[3] = plane{d.blackPix, d.blackStride}
	}
	d.planes[0] = plane{m.Y, m.YStride}
	d.planes[1] = plane{m.Cb, m.CStride}
	d.planes[2] = plane{m.Cr, m.CStride}
}

// Specified in section B.2.3.
func (d *decoder) processSOS(n int) error {
	if d.nComp == 0 {
		return FormatError("missing SOF marker")
	}
	if n < 6 || 4+2*d.nComp < n || n%2 != 0 {
		return FormatError("SOS has wrong length")
	}
	if err := d.readFull(d.tmp[:n]); err != nil {
		return err
	}
	nComp := int(d.tmp[0])
	if n != 4+2*nComp {
		return FormatError("SOS length inconsistent with number of components")
	}
	var scan [maxComponents]struct {
		compIndex uint8
		td        uint8 // DC table selector.
		ta        uint8 // AC table selector.
	}
	totalHV := 0
	for i := 0; i < nComp; i++ {
		cs := d.tmp[1+2*i] // Component selector.
		compIndex := -1
		for j, comp := range d.comp[:d.nComp] {
			if cs == comp.c {
				compIndex = j
			}
		}
		if compIndex < 0 {
			return FormatError("unknown component selector")
		}
		scan[i].compIndex = uint8(compIndex)
		// Section B.2.3 states that "the value of Cs_j shall be different from
		// the values of Cs_1 through Cs_(j-1)". Since we have previously
		// verified that a frame's component identifiers (C_i values in section
		// B.2.2) are unique, it suffices to check that the implicit indexes
		// into d.comp are unique.
		for j := 0; j < i; j++ {
			if scan[i].compIndex == scan[j].compIndex {
				return FormatError("repeated component selector")
			}
		}
		totalHV += d.comp[compIndex].h * d.comp[compIndex].v

		// The baseline t <= 1 restriction is specified in table B.3.
		scan[i].td = d.tmp[2+2*i] >> 4
		if t := scan[i].td; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Td value")
		}
		scan[i].ta = d.tmp[2+2*i] & 0x0f
		if t := scan[i].ta; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Ta value")
		}
	}
	// Section B.2.3 states that if there is more than one component then the
	// total H*V values in a scan must be <= 10.
	if d.nComp > 1 && totalHV > 10 {
		return FormatError("total sampling factors too large")
	}

	// zigStart and zigEnd are the spectral selection bounds.
	// ah and al are the successive approximation high and low values.
	// The spec calls these values Ss, Se, Ah and Al.
	//
	// For progressive JPEGs, these are the two more-or-less independent
	// aspects of progression. Spectral selection progression is when not
	// all of a block's 64 DCT coefficients are transmitted in one pass.
	// For example, three passes could transmit coefficient 0 (the DC
	// component), coefficients 1-5, and coefficients 6-63, in zig-zag
	// order. Successive approximation is when not all of the bits of a
	// band of coefficients are transmitted in one pass. For example,
	// three passes could transmit the 6 most significant bits, followed
	// by the second-least significant bit, followed by the least
	// significant bit.
	//
	// For sequential JPEGs, these parameters are hard-coded to 0/63/0/0, as
	// per table B.3.
	zigStart, zigEnd, ah, al := int32(0), int32(blockSize-1), uint32(0), uint32(0)
	if d.progressive {
		zigStart = int32(d.tmp[1+2*nComp])
		zigEnd = int32(d.tmp[2+2*nComp])
		ah = uint32(d.tmp[3+2*nComp] >> 4)
		al = uint32(d.tmp[3+2*nComp] & 0x0f)
		if (zigStart == 0 && zigEnd != 0) || zigStart > zigEnd || blockSize <= zigEnd {
			return FormatError("bad spectral selection bounds")
		}
		if zigStart != 0 && nComp != 1 {
			return FormatError("progressive AC coefficients for more than one component")
		}
		if ah != 0 && ah != al+1 {
			return FormatError("bad successive approximation values")
		}
	}

	// mxx and myy are the number of MCUs (Minimum Coded Units) in the image.
	h0, v0 := d.comp[0].h, d.comp[0].v // The h and v values from the Y components.
	mxx := (d.width + 8*h0 - 1) / (8 * h0)
	myy := (d.height + 8*v0 - 1) / (8 * v0)
	if d.img1 == nil && d.img3 == nil {
		d.makeImg(mxx, myy)
	}
	if d.progressive {
		if zigStart > 0 && d.kmax[scan[0].compIndex] == 1 {
			// Only the DC coefficients of this component are used (at
			// 1/8 scale), and AC scans, which have one component, carry
			// nothing else, so skip the scan's data without
			// entropy-decoding it.
			return d.skipScan()
		}
		for i := 0; i < nComp; i++ {
			compIndex := scan[i].compIndex
			if d.progCoeffs[compIndex] == nil {
				n := mxx * myy * d.comp[compIndex].h * d.comp[compIndex].v
				k := d.kmax[compIndex]
				d.progCoeffs[compIndex] = make([]int16, n*int(k))
				if k > 1 {
					d.progNZ[compIndex] = make([]uint64, n)
				}
			}
		}
	}
	var kmax int32

	d.bits = bits{}
	// units counts restart-interval units: MCUs in an interleaved scan, but
	// single blocks in a non-interleaved one (section A.2.2 and F.1.2.3).
	// image/jpeg counts MCUs in both cases, which breaks on non-interleaved
	// progressive scans of subsampled components with restart markers.
	units, expectedRST := 0, uint8(rst0Marker)
	var (
		// zb holds a sequential block's coefficients, in zig-zag order;
		// only zb[:kmax] is ever written.
		zb [blockSize]int32
		// pc and nz are a progressive block's saved coefficients and
		// non-zero mask (nz is nil at 1/8 scale, where only DC is kept).
		pc []int16
		nz *uint64
		dc [maxComponents]int32
		// bx and by are the location of the current block, in units of 8x8
		// blocks: the third block in the first row has (bx, by) = (2, 0).
		bx, by int
		// sbx and sby are the next block of a non-interleaved scan,
		// counted without divisions.
		sbx, sby int
	)
	// restart is called before each unit; it consumes the RST marker that
	// ends every restart interval and resets the decoder state.
	restart := func() error {
		if d.ri > 0 && units > 0 && units%d.ri == 0 {
			if err := d.restart(&expectedRST); err != nil {
				return err
			}
			// Reset the DC components, as per section F.2.1.3.1.
			dc = [maxComponents]int32{}
		}
		units++
		return nil
	}
	if d.progressive && zigStart > 0 {
		return d.decodeProgressiveAC(int(scan[0].compIndex), &d.huff[acTable][scan[0].ta], zigStart, zigEnd, ah, al, mxx, myy)
	}
	if !d.progressive {
		// Sequential blocks pass over the coefficients past kmax with skipAC.
		for i := 0; i < nComp; i++ {
			if d.kmax[scan[i].compIndex] < blockSize {
				d.huff[acTable][scan[i].ta].ensureSkipAC()
			}
		}
	}
	if !d.progressive && nComp > 1 {
		var sc [maxComponents]scanComp
		for i := 0; i < nComp; i++ {
			ci := int(scan[i].compIndex)
			sc[i] = scanComp{
				dcH: &d.huff[dcTable][scan[i].td], acH: &d.huff[acTable][scan[i].ta],
				qt: &d.quant[d.comp[ci].tq], pl: &d.planes[ci],
				h: d.comp[ci].h, v: d.comp[ci].v, ci: ci,
				shift: d.cshift[ci], kmax: d.kmax[ci],
			}
		}
		return d.decodeInterleavedSequential(sc[:nComp], mxx, myy)
	}
	for my := 0; my < myy; my++ {
		for mx := 0; mx < mxx; mx++ {
			if nComp != 1 {
				if err := restart(); err != nil {
					return err
				}
			}
			for i := 0; i < nComp; i++ {
				compIndex := scan[i].compIndex
				hi := d.comp[compIndex].h
				vi := d.comp[compIndex].v
				kmax = d.kmax[compIndex]
				for j := 0; j < hi*vi; j++ {
					// The blocks are traversed one MCU at a time. For 4:2:0 chroma
					// subsampling, there are four Y 8x8 blocks in every 16x16 MCU.
					//
					// For a sequential 32x16 pixel image, the Y blocks visiting order is:
					//	0 1 4 5
					//	2 3 6 7
					//
					// For progressive images, the interleaved scans (those with nComp > 1)
					// are traversed as above, but non-interleaved scans are traversed left
					// to right, top to bottom:
					//	0 1 2 3
					//	4 5 6 7
					// Only DC scans (zigStart == 0) can be interleaved. AC scans must have
					// only one component.
					//
					// To further complicate matters, for non-interleaved scans, there is no
					// data for any blocks that are inside the image at the MCU level but
					// outside the image at the pixel level. For example, a 24x16 pixel 4:2:0
					// progressive image consists of two 16x16 MCUs. The interleaved scans
					// will process 8 Y blocks:
					//	0 1 4 5
					//	2 3 6 7
					// The non-interleaved scans will process only 6 Y blocks:
					//	0 1 2
					//	3 4 5
					if nComp != 1 {
						// hi is 1, 2 or 4 (processSOF), so j%hi and j/hi
						// need no division.
						bx = hi*mx + j&(hi-1)
						by = vi*my + j>>(hi>>1)
					} else {
						bx, by = sbx, sby
						if sbx++; sbx == mxx*hi {
							sbx, sby = 0, sby+1
						}
						if bx*8 >= d.width || by*8 >= d.height {
							continue
						}
						if err := restart(); err != nil {
							return err
						}
					}

					// Locate the previous partially decoded coefficients, if applicable.
					if d.progressive {
						bi := by*mxx*hi + bx
						pc = d.progCoeffs[compIndex][bi*int(kmax) : (bi+1)*int(kmax)]
						if d.progNZ[compIndex] != nil {
							nz = &d.progNZ[compIndex][bi]
						} else {
							nz = nil
						}
					}

					if !d.progressive {
						err := d.decodeBlockSequential(&d.huff[dcTable][scan[i].td], &d.huff[acTable][scan[i].ta], &dc[compIndex], &zb, kmax)
						if err != nil {
							return err
						}
						d.reconstructBlock(zb[:kmax], bx, by, int(compIndex))
						clear(zb[:kmax])
						continue
					}

					if zigStart > 0 {
						// AC scans: the hot loops of progressive decoding.
						var err error
						if ah != 0 {
							err = d.refineAC(&d.huff[acTable][scan[i].ta], pc, nz, zigStart, zigEnd, 1<<al)
						} else {
							err = d.decodeACFirst(&d.huff[acTable][scan[i].ta], pc, nz, zigStart, zigEnd, al)
						}
						if err != nil {
							return err
						}
					} else if ah != 0 {
						if err := d.refine(pc, nz, &d.huff[acTable][scan[i].ta], zigStart, zigEnd, 1<<al); err != nil {
							return err
						}
					} else {
						zig := zigStart
						if zig == 0 {
							zig++
							// Decode the DC coefficient, as specified in section F.2.2.1.
							value, err := d.decodeHuffman(&d.huff[dcTable][scan[i].td])
							if err != nil {
								return err
							}
							if value > 16 {
								return UnsupportedError("excessive DC component")
							}
							dcDelta, err := d.receiveExtend(value)
							if err != nil {
								return err
							}
							dc[compIndex] += dcDelta
							// Valid coefficients fit in 16 bits; for corrupt
							// input, truncation only changes pixels.
							pc[0] = int16(dc[compIndex] << al)
						}

						if zig <= zigEnd && d.eobRun > 0 {
							d.eobRun--
						} else {
							// Decode the AC coefficients, as specified in section F.2.2.2.
							huff := &d.huff[acTable][scan[i].ta]
							for ; zig <= zigEnd; zig++ {
								value, err := d.decodeHuffman(huff)
								if err != nil {
									return err
								}
								val0 := value >> 4
								val1 := value & 0x0f
								if val1 != 0 {
									zig += int32(val0)
									if zig > zigEnd {
										break
									}
									if zig >= kmax {
										// Not needed at this scale: consume
										// the bits without storing them.
										if err := d.skipBits(int32(val1)); err != nil {
											return err
										}
										if nz != nil {
											*nz |= 1 << uint(zig)
										}
										continue
									}
									ac, err := d.receiveExtend(val1)
									if err != nil {
										return err
									}
									pc[zig] = int16(ac << al)
									*nz |= 1 << uint(zig)
								} else {
									if val0 != 0x0f {
										d.eobRun = uint16(1 << val0)
										if val0 != 0 {
											bits, err := d.decodeBits(int32(val0))
											if err != nil {
												return err
											}
											d.eobRun |= uint16(bits)
										}
										d.eobRun--
										break
									}
									zig += 0x0f
								}
							}
						}
					}

					if d.progressive {
						// The coefficients were updated in place.
						// At this point, we could call reconstructBlock to dequantize and perform the
						// inverse DCT, to save early stages of a progressive image to the *image.YCbCr
						// buffers (the whole point of progressive encoding), but in Go, the jpeg.Decode
						// function does not return until the entire image is decoded, so we "continue"
						// here to avoid wasted computation. Instead, reconstructBlock is called on each
						// accumulated block by the reconstructProgressiveImage method after all of the
						// SOS markers are processed.
						continue
					}
				} // for j
			} // for i
		} // for mx
	} // for my

	return nil
}

// restart consumes the RST marker that ends a restart interval and resets the
// entropy decoder; the caller resets the DC predictions.
func (d *decoder) restart(expectedRST *uint8) error {
	// For well-formed input, the RST[0-7] restart marker follows
	// immediately. For corrupt input, call findRST to try to
	// resynchronize.
	if err := d.readFull(d.tmp[:2]); err != nil {
		return err
	} else if d.tmp[0] != 0xff || d.tmp[1] != *expectedRST {
		if err := d.findRST(*expectedRST); err != nil {
			return err
		}
	}
	*expectedRST++
	if *expectedRST == rst7Marker+1 {
		*expectedRST = rst0Marker
	}
	// Reset the Huffman decoder.
	d.bits = bits{}
	// Reset the progressive decoder state, as per section G.1.2.2.
	d.eobRun = 0
	return nil
}

// scanComp is what decoding a sequential scan needs to know about one of its
// components.
type scanComp struct {
	dcH, acH *huffman
	qt       *block
	pl       *plane
	h, v, ci int
	shift    uint
	kmax     int32
}

// decodeInterleavedSequential decodes an interleaved sequential scan, the
// scan of nearly every baseline photo. It is processSOS's MCU loop without
// the generality that scan needs for progressive and non-interleaved scans.
func (d *decoder) decodeInterleavedSequential(sc []scanComp, mxx, myy int) error {
	var (
		dc [maxComponents]int32
		zb [blockSize]int32
	)
	units, expectedRST := 0, uint8(rst0Marker)
	for my := 0; my < myy; my++ {
		for mx := 0; mx < mxx; mx++ {
			if d.ri > 0 && units > 0 && units%d.ri == 0 {
				if err := d.restart(&expectedRST); err != nil {
					return err
				}
				dc = [maxComponents]int32{}
			}
			units++
			for i := range sc {
				c := &sc[i]
				for y := 0; y < c.v; y++ {
					by := c.v*my + y
					for x := 0; x < c.h; x++ {
						bx := c.h*mx + x
						if err := d.decodeBlockSequential(c.dcH, c.acH, &dc[i], &zb, c.kmax); err != nil {
							return err
						}
						if c.shift == 3 {
							c.pl.pix[by*c.pl.stride+bx] = idct1(zb[0] * c.qt[0])
							zb[0] = 0
							continue
						}
						d.reconstructBlock(zb[:c.kmax], bx, by, c.ci)
						clear(zb[:c.kmax])
					}
				}
			}
		}
	}
	return nil
}

// decodeProgressiveAC decodes a progressive AC scan (first or refinement),
// which has one component and so visits its blocks left to right, top to
// bottom, only those inside the image (see processSOS). Progressive files have
// several such scans per component, mostly of blocks with nothing or little
// to decode, so the loop is kept to the minimum.
func (d *decoder) decodeProgressiveAC(ci int, h *huffman, zigStart, zigEnd int32, ah, al uint32, mxx, myy int) error {
	stride := mxx * d.comp[ci].h
	nbx := min(stride, (d.width+7)/8)
	nby := min(myy*d.comp[ci].v, (d.height+7)/8)
	k := int(d.kmax[ci])
	coeffs, nzs := d.progCoeffs[ci], d.progNZ[ci]
	units, expectedRST := 0, uint8(rst0Marker)
	for by := 0; by < nby; by++ {
		for bx := 0; bx < nbx; bx++ {
			if d.ri > 0 && units > 0 && units%d.ri == 0 {
				if err := d.restart(&expectedRST); err != nil {
					return err
				}
			}
			units++
			if ah == 0 && d.eobRun > 0 {
				// Inside an end-of-band run: nothing to decode.
				d.eobRun--
				continue
			}
			bi := by*stride + bx
			pc := coeffs[bi*k : (bi+1)*k]
			var err error
			if ah != 0 {
				err = d.refineAC(h, pc, &nzs[bi], zigStart, zigEnd, 1<<al)
			} else {
				err = d.decodeACFirst(h, pc, &nzs[bi], zigStart, zigEnd, al)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// refine decodes a successive approximation refinement block, as specified in
// section G.1.2. pc holds the block's stored coefficients in zig-zag order
// (fewer than 64 when scaling) and nz the mask of its non-zero coefficients.
func (d *decoder) refine(pc []int16, nz *uint64, h *huffman, zigStart, zigEnd, delta int32) error {
	// Refining a DC component is trivial.
	if zigStart == 0 {
		if zigEnd != 0 {
			panic("unreachable")
		}
		bit, err := d.decodeBit()
		if err != nil {
			return err
		}
		if bit {
			pc[0] |= int16(delta)
		}
		return nil
	}

	// Refining AC components is more complicated; see sections G.1.2.2 and G.1.2.3.
	zig := zigStart
	if d.eobRun == 0 {
	loop:
		for ; zig <= zigEnd; zig++ {
			z := int32(0)
			value, err := d.decodeHuffman(h)
			if err != nil {
				return err
			}
			val0 := value >> 4
			val1 := value & 0x0f

			switch val1 {
			case 0:
				if val0 != 0x0f {
					d.eobRun = uint16(1 << val0)
					if val0 != 0 {
						bits, err := d.decodeBits(int32(val0))
						if err != nil {
							return err
						}
						d.eobRun |= uint16(bits)
					}
					break loop
				}
			case 1:
				z = delta
				bit, err := d.decodeBit()
				if err != nil {
					return err
				}
				if !bit {
					z = -z
				}
			default:
				return FormatError("unexpected Huffman code")
			}

			zig, err = d.refineNonZeroes(pc, nz, zig, zigEnd, int32(val0), delta)
			if err != nil {
				return err
			}
			if zig > zigEnd {
				return FormatError("too many coefficients")
			}
			if z != 0 {
				*nz |= 1 << uint(zig)
				if zig < int32(len(pc)) {
					pc[zig] = int16(z)
				}
			}
		}
	}
	if d.eobRun > 0 {
		d.eobRun--
		if _, err := d.refineNonZeroes(pc, nz, zig, zigEnd, -1, delta); err != nil {
			return err
		}
	}
	return nil
}

// refineNonZeroes refines non-zero entries of the block in zig-zag order. If
// nz >= 0, the first nz zero entries are skipped over.
func (d *decoder) refineNonZeroes(pc []int16, nzMask *uint64, zig, zigEnd, nz, delta int32) (int32, error) {
	mask := *nzMask
	for ; zig <= zigEnd; zig++ {
		if mask&(1<<uint(zig)) == 0 {
			if nz == 0 {
				break
			}
			nz--
			continue
		}
		bit, err := d.decodeBit()
		if err != nil {
			return 0, err
		}
		if !bit || zig >= int32(len(pc)) {
			continue
		}
		if pc[zig] >= 0 {
			pc[zig] += int16(delta)
		} else {
			pc[zig] -= int16(delta)
		}
	}
	return zig, nil
}

func (d *decoder) reconstructProgressiveImage() error {
	// The h0, mxx, by and bx variables have the same meaning as in the
	// processSOS method.
	h0 := d.comp[0].h
	mxx := (d.width + 8*h0 - 1) / (8 * h0)
	for i := 0; i < d.nComp; i++ {
		if d.progCoeffs[i] == nil {
			continue
		}
		v := 8 * d.comp[0].v / d.comp[i].v
		h := 8 * d.comp[0].h / d.comp[i].h
		stride := mxx * d.comp[i].h
		k := int(d.kmax[i])
		var zb [blockSize]int32
		for by := 0; by*v < d.height; by++ {
			for bx := 0; bx*h < d.width; bx++ {
				bi := by*stride + bx
				for z, c := range d.progCoeffs[i][bi*k : (bi+1)*k] {
					zb[z] = int32(c)
				}
				d.reconstructBlock(zb[:k], bx, by, i)
			}
		}
		// The coefficients are no longer needed; let the collector have
		// them back while the caller converts or resizes the image.
		d.progCoeffs[i], d.progNZ[i] = nil, nil
	}
	return nil
}

// reconstructBlock dequantizes the zig-zag ordered coefficients zc (the first
// kmax of the block's 64), performs the inverse DCT at the decoder's scale and
// stores the resulting bs x bs samples to the image.
func (d *decoder) reconstructBlock(zc []int32, bx, by, compIndex int) {
	qt := &d.quant[d.comp[compIndex].tq]
	p := &d.planes[compIndex]
	stride := p.stride
	shift := d.cshift[compIndex]
	if shift == 3 {
		p.pix[by*stride+bx] = idct1(zc[0] * qt[0])
		return
	}
	bs := 8 >> shift
	dst := p.pix[bs*(by*stride+bx):]
	switch shift {
	case 2:
		var b block
		for z, c := range zc[:5] {
			b[unzig[z]] = c * qt[z]
		}
		idct2(&b, dst, stride)
		return
	case 1:
		var b block
		for z, c := range zc[:25] {
			b[unzig[z]] = c * qt[z]
		}
		idct4(&b, dst, stride)
		return
	}
	var b block
	for z, c := range zc[:blockSize] {
		b[unzig[z]] = c * qt[z]
	}
	idct(&b)
	// Level shift by +128, clip to [0, 255], and write to dst.
	for y := 0; y < 8; y++ {
		y8 := y * 8
		yStride := y * stride
		for x := 0; x < 8; x++ {
			c := b[y8+x]
			if c < -128 {
				c = 0
			} else if c > 127 {
				c = 255
			} else {
				c += 128
			}
			dst[yStride+x] = uint8(c)
		}
	}
}

// skipScan advances past the entropy-coded data of a scan that is not needed,
// leaving the next marker (anything but a stuffed 0xff00 or a restart marker)
// unread for the caller. It looks for 0xff bytes in the buffered data without
// decoding anything.
func (d *decoder) skipScan() error {
	for {
		buf := d.bytes.buf[d.bytes.i:d.bytes.j]
		k := bytes.IndexByte(buf, 0xff)
		if k < 0 {
			d.bytes.i = d.bytes.j
			if err := d.fill(); err != nil {
				return err
			}
			continue
		}
		if k+1 < len(buf) {
			m := buf[k+1]
			if m == 0x00 || (rst0Marker <= m && m <= rst7Marker) {
				d.bytes.i += k + 2
				continue
			}
			// A real marker, or 0xff fill bytes before one: leave it
			// for the marker loop in decode.
			d.bytes.i += k
			return nil
		}
		// The 0xff is the last buffered byte: consume it, refill, and look
		// at what follows. fill keeps the last two bytes at the start of
		// the buffer, so the 0xff can be given back if it starts a marker.
		d.bytes.i = d.bytes.j
		if d.bytes.j <= 2 {
			// Too little was buffered for fill to keep the 0xff; let the
			// marker loop resynchronise byte by byte instead.
			return nil
		}
		if err := d.fill(); err != nil {
			return err
		}
		m := d.bytes.buf[d.bytes.i]
		if m == 0x00 || (rst0Marker <= m && m <= rst7Marker) {
			d.bytes.i++
			continue
		}
		d.bytes.i--
		return nil
	}
}

// findRST advances past the next RST restart marker that matches expectedRST.
// Other than I/O errors, it is also an error if we encounter an {0xFF, M}
// two-byte marker sequence where M is not 0x00, 0xFF or the expectedRST.
//
// This is similar to libjpeg's jdmarker.c's next_marker function.
// https://github.com/libjpeg-turbo/libjpeg-turbo/blob/2dfe6c0fe9e18671105e94f7cbf044d4a1d157e6/jdmarker.c#L892-L935
//
// Precondition: d.tmp[:2] holds the next two bytes of JPEG-encoded input
// (input in the d.readFull sense).
func (d *decoder) findRST(expectedRST uint8) error {
	for {
		// i is the index such that, at the bottom of the loop, we read 2-i
		// bytes into d.tmp[i:2], maintaining the invariant that d.tmp[:2]
		// holds the next two bytes of JPEG-encoded input. It is either 0 or 1,
		// so that each iteration advances by 1 or 2 bytes (or returns).
		i := 0

		if d.tmp[0] == 0xff {
			if d.tmp[1] == expectedRST {
				return nil
			} else if d.tmp[1] == 0xff {
				i = 1
			} else if d.tmp[1] != 0x00 {
				// libjpeg's jdmarker.c's jpeg_resync_to_restart does something
				// fancy here, treating RST markers within two (modulo 8) of
				// expectedRST differently from RST markers that are 'more
				// distant'. Until we see evidence that recovering from such
				// cases is frequent enough to be worth the complexity, we take
				// a simpler approach for now. Any marker that's not 0x00, 0xff
				// or expectedRST is a fatal FormatError.
				return FormatError("bad RST marker")
			}

		} else if d.tmp[1] == 0xff {
			d.tmp[0] = 0xff
			i = 1
		}

		if err := d.readFull(d.tmp[i:2]); err != nil {
			return err
		}
	}
}
