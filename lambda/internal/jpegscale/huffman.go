// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package jpegscale

import (
	"encoding/binary"
	"io"
	mbits "math/bits"
)

// maxCodeLength is the maximum (inclusive) number of bits in a Huffman code.
const maxCodeLength = 16

// maxNCodes is the maximum (inclusive) number of codes in a Huffman tree.
const maxNCodes = 256

// skipBits is the log-2 size of the table for skipping unneeded AC
// coefficients.
const skipBits = 14

// skipEOB flags a skipAC entry that ends with an end of block.
const skipEOB = 1 << 11

// lutSize is the log-2 size of the Huffman decoder's look-up table. Nine bits
// resolve nearly every code in photos' tables in one look-up.
const lutSize = 10

// huffman is a Huffman decoder, specified in section C.
type huffman struct {
	// length is the number of codes in the tree.
	nCodes int32
	// lut is the look-up table for the next lutSize bits in the bit-stream.
	// The high 8 bits of the uint16 are the encoded value. The low 8 bits
	// are 1 plus the code length, or 0 if the value is too large to fit in
	// lutSize bits.
	lut [1 << lutSize]uint16
	// fastAC resolves, for AC tables, a code and the extra bits after it in
	// one look-up when both fit in the next lutSize bits: the coefficient
	// value in the high 16 bits, the zero run in bits 8-15 and the total
	// number of bits in the low 8 bits; 0 when they do not fit. End of block
	// is a run of 64, sixteen zeros a run of 15 with value 0.
	fastAC [1 << lutSize]int32
	// skipAC, for AC tables, holds for every skipBits-bit prefix how far
	// the whole (code and extra bits) AC symbols that fit in it advance:
	// the number of bits in bits 0-3, the number of coefficients in bits
	// 4-10, and in bit 11 whether the last symbol is an end of block; 0
	// when no symbol fits. It lets coefficients that are not needed at the
	// chosen scale be passed over several at a time.
	skipAC [1 << skipBits]uint16
	// skipBuilt is whether skipAC matches the table. It is built when a
	// scan that skips coefficients first uses the table, not by processDHT:
	// progressive JPEGs define a table per scan and never use skipAC.
	skipBuilt bool
	// vals are the decoded values, sorted by their encoding.
	vals [maxNCodes]uint8
	// minCodes[i] is the minimum code of length i, or -1 if there are no
	// codes of that length.
	minCodes [maxCodeLength]int32
	// maxCodes[i] is the maximum code of length i, or -1 if there are no
	// codes of that length.
	maxCodes [maxCodeLength]int32
	// valsIndices[i] is the index into vals of minCodes[i].
	valsIndices [maxCodeLength]int32
}

// errShortHuffmanData means that an unexpected EOF occurred while decoding
// Huffman data.
var errShortHuffmanData = FormatError("short Huffman data")

// ensureNBits fills the bit accumulator so that d.bits.n is at least n (n <=
// 57). For best performance (avoiding function calls inside hot loops), the
// caller is the one responsible for first checking that d.bits.n < n.
//
// Unlike image/jpeg, which reads one byte per call and may overshoot into a
// marker and then give bytes back, this reads as many bytes as fit, but never
// past a marker: at a marker (the end of the scan or a restart interval) or at
// the end of the input it appends zero bits instead and counts them in
// d.bits.pad. Decoding into those bits means the data was short.
// Callers check, after consuming bits, that they did not reach into padding.
func (d *decoder) ensureNBits(n int32) error {
	return d.refill()
}

// refill appends bytes of entropy-coded data to d.bits until it holds more
// than 56 bits, undoing byte stuffing, and stops at markers.
func (d *decoder) refill() error {
	for d.bits.n <= 56 {
		if d.bits.pad > 0 {
			d.bits.a <<= 8
			d.bits.n += 8
			d.bits.pad += 8
			continue
		}
		if d.bytes.i+8 <= d.bytes.j {
			// Fastest path: take all the bytes needed at once when none
			// of the next eight is 0xff (a stuffed byte or a marker).
			x := binary.BigEndian.Uint64(d.bytes.buf[d.bytes.i:])
			if y := ^x; (y-0x0101010101010101)&^y&0x8080808080808080 == 0 {
				nb := (56-d.bits.n)/8 + 1
				d.bits.a = d.bits.a<<uint(8*nb) | x>>uint(64-8*nb)
				d.bits.n += 8 * nb
				d.bytes.i += int(nb)
				return nil
			}
		}
		if d.bytes.i+1 < d.bytes.j {
			// Fast path: at least two bytes are buffered.
			c := d.bytes.buf[d.bytes.i]
			if c != 0xff {
				d.bytes.i++
				d.bits.a = d.bits.a<<8 | uint64(c)
				d.bits.n += 8
				continue
			}
			if d.bytes.buf[d.bytes.i+1] == 0x00 {
				d.bytes.i += 2
				d.bits.a = d.bits.a<<8 | 0xff
				d.bits.n += 8
				continue
			}
			// A marker: leave it unread and pad.
			d.bits.pad = 8
			d.bits.a <<= 8
			d.bits.n += 8
			continue
		}
		if d.bytes.i == d.bytes.j {
			if err := d.fill(); err != nil {
				if err == io.ErrUnexpectedEOF {
					d.bits.pad = 8
					d.bits.a <<= 8
					d.bits.n += 8
					continue
				}
				return err
			}
			continue
		}
		// Exactly one byte is buffered.
		c := d.bytes.buf[d.bytes.i]
		d.bytes.i++
		if c != 0xff {
			d.bits.a = d.bits.a<<8 | uint64(c)
			d.bits.n += 8
			continue
		}
		// An 0xff at the end of the buffer: look at the next byte. fill
		// keeps the last two bytes at the start of the buffer, so the
		// 0xff can be given back if it starts a marker.
		err := d.fill()
		if err == nil && d.bytes.buf[d.bytes.i] == 0x00 {
			d.bytes.i++
			d.bits.a = d.bits.a<<8 | 0xff
			d.bits.n += 8
			continue
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return err
		}
		d.bytes.i--
		d.bits.pad = 8
		d.bits.a <<= 8
		d.bits.n += 8
	}
	return nil
}

// ensureSkipAC builds h.skipAC if the table changed since it was last built.
func (h *huffman) ensureSkipAC() {
	if !h.skipBuilt {
		h.buildSkipAC()
		h.skipBuilt = true
	}
}

// buildSkipAC derives h.skipAC from h.lut, so it must run after h.lut is
// built. Symbols whose codes are longer than lutSize bits end an entry early,
// which only makes it cover fewer symbols.
func (h *huffman) buildSkipAC() {
	for idx := range h.skipAC {
		pos, adv := uint32(0), uint32(0)
		var e uint16
		for {
			// The bits from pos on, left-aligned in lutSize bits; any
			// zero padding past skipBits only matters for codes that do not
			// fit, which are rejected below.
			w := skipBits - pos
			var peek uint32
			if w >= lutSize {
				peek = uint32(idx) >> (w - lutSize)
			} else {
				peek = uint32(idx) << (lutSize - w)
			}
			v := h.lut[peek&(1<<lutSize-1)]
			if v == 0 {
				break
			}
			sym := uint8(v >> 8)
			l := uint32(v&0xff) - 1 + uint32(sym&0x0f)
			if l > w {
				break
			}
			pos += l
			if sym&0x0f == 0 && sym != 0xf0 {
				// End of block (or, invalid in sequential mode, an
				// end-of-band run, which also ends the block).
				e = skipEOB
				break
			}
			adv += uint32(sym>>4) + 1
			if adv >= blockSize {
				break
			}
		}
		if pos > 0 {
			e |= uint16(adv<<4 | pos)
		}
		h.skipAC[idx] = e
	}
}

// receiveExtend is the composition of RECEIVE and EXTEND, specified in section
// F.2.2.1.
func (d *decoder) receiveExtend(t uint8) (int32, error) {
	if d.bits.n < int32(t) {
		if err := d.ensureNBits(int32(t)); err != nil {
			return 0, err
		}
	}
	d.bits.n -= int32(t)
	if d.bits.n < d.bits.pad {
		return 0, errShortHuffmanData
	}
	s := int32(1) << t
	x := int32(d.bits.a>>uint8(d.bits.n)) & (s - 1)
	if x < s>>1 {
		x += ((-1) << t) + 1
	}
	return x, nil
}

// processDHT processes a Define Huffman Table marker, and initializes a huffman
// struct from its contents. Specified in section B.2.4.2.
func (d *decoder) processDHT(n int) error {
	for n > 0 {
		if n < 17 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(d.tmp[:17]); err != nil {
			return err
		}
		tc := d.tmp[0] >> 4
		if tc > maxTc {
			return FormatError("bad Tc value")
		}
		th := d.tmp[0] & 0x0f
		// The baseline th <= 1 restriction is specified in table B.5.
		if th > maxTh || (d.baseline && th > 1) {
			return FormatError("bad Th value")
		}
		h := &d.huff[tc][th]

		// Read nCodes and h.vals (and derive h.nCodes).
		// nCodes[i] is the number of codes with code length i.
		// h.nCodes is the total number of codes.
		h.nCodes = 0
		var nCodes [maxCodeLength]int32
		for i := range nCodes {
			nCodes[i] = int32(d.tmp[i+1])
			h.nCodes += nCodes[i]
		}
		if h.nCodes == 0 {
			return FormatError("Huffman table has zero length")
		}
		if h.nCodes > maxNCodes {
			return FormatError("Huffman table has excessive length")
		}
		n -= int(h.nCodes) + 17
		if n < 0 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(h.vals[:h.nCodes]); err != nil {
			return err
		}

		// Reject over-subscribed tables, whose codes do not fit their
		// lengths (image/jpeg lets their look-up table entries wrap).
		for i, c := 0, int32(0); i < maxCodeLength; i++ {
			c = c<<1 + nCodes[i]
			if c > 1<<(i+1) {
				return FormatError("bad Huffman table")
			}
		}

		// Derive the look-up table.
		clear(h.lut[:])
		var x, code uint32
		for i := uint32(0); i < lutSize; i++ {
			code <<= 1
			for j := int32(0); j < nCodes[i]; j++ {
				// The codeLength is 1+i, so shift code by 8-(1+i) to
				// calculate the high bits for every 8-bit sequence
				// whose codeLength's high bits matches code.
				// The high 8 bits of lutValue are the encoded value.
				// The low 8 bits are 1 plus the codeLength.
				base := code << (lutSize - 1 - i)
				lutValue := uint16(h.vals[x])<<8 | uint16(2+i)
				for k := uint32(0); k < 1<<(lutSize-1-i); k++ {
					h.lut[base|k] = lutValue
				}
				code++
				x++
			}
		}

		// Derive the combined code-and-value table for AC coefficients.
		clear(h.fastAC[:])
		if tc == acTable {
			for idx := range h.lut {
				v := h.lut[idx]
				if v == 0 {
					continue
				}
				codeLen := uint32(v&0xff) - 1
				run, size := uint32(v>>12), uint32(v>>8)&0x0f
				if size == 0 {
					switch run {
					case 0:
						// End of block: a run past the last coefficient
						// ends the caller's loop.
						h.fastAC[idx] = blockSize<<8 | int32(codeLen)
					case 0x0f:
						// Sixteen zeros: a run of 15 and a zero value.
						h.fastAC[idx] = 0x0f<<8 | int32(codeLen)
					}
					continue
				}
				if codeLen+size > lutSize {
					continue
				}
				bits := int32(uint32(idx)>>(lutSize-codeLen-size)) & (1<<size - 1)
				if bits < 1<<(size-1) {
					bits += -1<<size + 1
				}
				h.fastAC[idx] = bits<<16 | int32(run<<8) | int32(codeLen+size)
			}
		}

		// Derive minCodes, maxCodes, and valsIndices.
		var c, index int32
		for i, n := range nCodes {
			if n == 0 {
				h.minCodes[i] = -1
				h.maxCodes[i] = -1
				h.valsIndices[i] = -1
			} else {
				h.minCodes[i] = c
				h.maxCodes[i] = c + n - 1
				h.valsIndices[i] = index
				c += n
				index += n
			}
			c <<= 1
		}
		h.skipBuilt = false
	}
	return nil
}

// decodeHuffman returns the next Huffman-coded value from the bit-stream,
// decoded according to h.
func (d *decoder) decodeHuffman(h *huffman) (uint8, error) {
	if h.nCodes == 0 {
		return 0, FormatError("uninitialized Huffman table")
	}
	if d.bits.n < maxCodeLength {
		if err := d.refill(); err != nil {
			return 0, err
		}
	}
	if v := h.lut[(d.bits.a>>uint32(d.bits.n-lutSize))&(1<<lutSize-1)]; v != 0 {
		d.bits.n -= int32(v&0xff) - 1
		if d.bits.n < d.bits.pad {
			return 0, errShortHuffmanData
		}
		return uint8(v >> 8), nil
	}
	// A code longer than lutSize bits (or an invalid one): look at the next
	// 16 bits one length at a time.
	code16 := int32(d.bits.a>>uint32(d.bits.n-maxCodeLength)) & 0xffff
	for i := 0; i < maxCodeLength; i++ {
		code := code16 >> (maxCodeLength - 1 - i)
		if code <= h.maxCodes[i] {
			d.bits.n -= int32(i + 1)
			if d.bits.n < d.bits.pad {
				return 0, errShortHuffmanData
			}
			return h.vals[h.valsIndices[i]+code-h.minCodes[i]], nil
		}
	}
	return 0, FormatError("bad Huffman code")
}

func (d *decoder) decodeBit() (bool, error) {
	if d.bits.n == 0 {
		if err := d.ensureNBits(1); err != nil {
			return false, err
		}
	}
	d.bits.n--
	if d.bits.n < d.bits.pad {
		return false, errShortHuffmanData
	}
	return d.bits.a>>uint32(d.bits.n)&1 != 0, nil
}

func (d *decoder) decodeBits(n int32) (uint32, error) {
	if d.bits.n < n {
		if err := d.ensureNBits(n); err != nil {
			return 0, err
		}
	}
	d.bits.n -= n
	if d.bits.n < d.bits.pad {
		return 0, errShortHuffmanData
	}
	ret := uint32(d.bits.a >> uint32(d.bits.n))
	ret &= (1 << uint32(n)) - 1
	return ret, nil
}

// skipBits discards the next n bits of the bit-stream, for coefficients that
// must be parsed but are not used at the chosen scale.
func (d *decoder) skipBits(n int32) error {
	if d.bits.n < n {
		if err := d.ensureNBits(n); err != nil {
			return err
		}
	}
	d.bits.n -= n
	if d.bits.n < d.bits.pad {
		return errShortHuffmanData
	}
	return nil
}

// decodeBlockSequential decodes a sequential-mode block, as specified in
// sections F.2.2.1 and F.2.2.2: the DC difference, added to *dc, and the 63
// AC coefficients, storing those with zig-zag index below kmax in zb (the
// caller clears zb between blocks). It is the hot loop of baseline decoding,
// so it keeps the bit accumulator in locals and resolves most AC
// coefficients (code and value) with one fastAC look-up; anything else goes
// through decodeHuffman.
func (d *decoder) decodeBlockSequential(dcH, acH *huffman, dc *int32, zb *[blockSize]int32, kmax int32) error {
	if dcH.nCodes == 0 || acH.nCodes == 0 {
		return FormatError("uninitialized Huffman table")
	}
	if d.bits.n < 32 {
		if err := d.refill(); err != nil {
			return err
		}
	}
	a, n := d.bits.a, d.bits.n

	// DC: a code of at most 16 bits, then at most 16 bits of difference.
	var size uint8
	if v := dcH.lut[(a>>uint32(n-lutSize))&(1<<lutSize-1)]; v != 0 {
		n -= int32(v&0xff) - 1
		size = uint8(v >> 8)
	} else {
		d.bits.n = n
		var err error
		if size, err = d.decodeHuffman(dcH); err != nil {
			return err
		}
		n = d.bits.n
	}
	if size > 16 {
		return UnsupportedError("excessive DC component")
	}
	if size > 0 {
		if n < int32(size) {
			d.bits.n = n
			if err := d.refill(); err != nil {
				return err
			}
			a, n = d.bits.a, d.bits.n
		}
		n -= int32(size)
		x := int32(a>>uint32(n)) & (1<<size - 1)
		if x < 1<<(size-1) {
			x += -1<<size + 1
		}
		*dc += x
	}
	zb[0] = *dc

	for zig := int32(1); zig < blockSize; zig++ {
		if n < 32 {
			// refill's fast path, inlined: eight buffered bytes, none of
			// them 0xff (which also means no marker has been reached).
			if i := d.bytes.i; i+8 <= d.bytes.j {
				x := binary.BigEndian.Uint64(d.bytes.buf[i : i+8])
				if y := ^x; (y-0x0101010101010101)&^y&0x8080808080808080 == 0 {
					nb := (56-n)/8 + 1
					a = a<<uint(8*nb) | x>>uint(64-8*nb)
					n += 8 * nb
					d.bytes.i = i + int(nb)
					goto refilled
				}
			}
			d.bits.a, d.bits.n = a, n
			if err := d.refill(); err != nil {
				return err
			}
			a, n = d.bits.a, d.bits.n
		}
	refilled:
		if zig >= kmax {
			// The rest of the block is not needed: pass over as many
			// symbols at a time as skipAC allows.
			// When the block's last coefficient is coded without an end
			// of block, an entry's later symbols are the next block's
			// bits: its coefficients then reach past 63, or, if those
			// bits read as an end of block, up to 63 exactly. Such
			// entries are left to the one-symbol path.
			e := int32(acH.skipAC[(a>>uint32(n-skipBits))&(1<<skipBits-1)])
			end := zig + (e>>4)&0x7f
			if e != 0 && (end < blockSize || end == blockSize && e&skipEOB == 0) {
				n -= e & 0x0f
				if e&skipEOB != 0 {
					break
				}
				zig = end - 1
				continue
			}
		}
		peek := (a >> uint32(n-lutSize)) & (1<<lutSize - 1)
		if f := acH.fastAC[peek]; f != 0 {
			zig += (f >> 8) & 0xff
			n -= f & 0xff
			if zig < kmax {
				zb[zig] = f >> 16
			}
			continue
		}
		var value uint8
		if v := acH.lut[peek]; v != 0 {
			n -= int32(v&0xff) - 1
			value = uint8(v >> 8)
		} else {
			d.bits.a, d.bits.n = a, n
			var err error
			if value, err = d.decodeHuffman(acH); err != nil {
				return err
			}
			a, n = d.bits.a, d.bits.n
		}
		run, size := int32(value>>4), uint32(value&0x0f)
		if size == 0 {
			if run != 0x0f {
				break // End of block.
			}
			zig += 0x0f // A run of 16 zeros.
			continue
		}
		zig += run
		// At most 15 extra bits; the refill above left at least 32, less
		// at most 16 for the code.
		n -= int32(size)
		if zig < kmax {
			x := int32(a>>uint32(n)) & (1<<size - 1)
			if x < 1<<(size-1) {
				x += -1<<size + 1
			}
			zb[zig] = x
		}
	}
	d.bits.a, d.bits.n = a, n
	if n < d.bits.pad {
		return errShortHuffmanData
	}
	return nil
}

// decodeACFirst decodes a block of a progressive AC first scan, as specified
// in section G.1.2.2, with the bit accumulator in locals. pc holds the
// block's stored coefficients in zig-zag order and nz its non-zero mask.
func (d *decoder) decodeACFirst(h *huffman, pc []int16, nz *uint64, zigStart, zigEnd int32, al uint32) error {
	if d.eobRun > 0 {
		d.eobRun--
		return nil
	}
	if h.nCodes == 0 {
		return FormatError("uninitialized Huffman table")
	}
	a, n := d.bits.a, d.bits.n
	mask := *nz
	kmax := int32(len(pc))
	for zig := zigStart; zig <= zigEnd; zig++ {
		if n < 32 {
			d.bits.a, d.bits.n = a, n
			if err := d.refill(); err != nil {
				return err
			}
			a, n = d.bits.a, d.bits.n
		}
		peek := (a >> uint32(n-lutSize)) & (1<<lutSize - 1)
		if f := h.fastAC[peek]; f != 0 && f>>16 != 0 {
			// A coefficient: code and value in one look-up.
			zig += (f >> 8) & 0xff
			if zig > zigEnd {
				break
			}
			n -= f & 0xff
			mask |= 1 << uint(zig)
			if zig < kmax {
				pc[zig] = int16((f >> 16) << al)
			}
			continue
		}
		var value uint8
		if v := h.lut[peek]; v != 0 {
			n -= int32(v&0xff) - 1
			value = uint8(v >> 8)
		} else {
			d.bits.a, d.bits.n = a, n
			var err error
			if value, err = d.decodeHuffman(h); err != nil {
				return err
			}
			a, n = d.bits.a, d.bits.n
		}
		run, size := int32(value>>4), uint32(value&0x0f)
		if size == 0 {
			if run != 0x0f {
				// An end-of-band run of 2^run + (run more bits) blocks,
				// counting this one. A code leaves at least 16 bits.
				eob := uint32(1) << run
				if run != 0 {
					n -= run
					eob |= uint32(a>>uint32(n)) & (1<<run - 1)
				}
				d.eobRun = uint16(eob - 1)
				break
			}
			zig += 0x0f // A run of 16 zeros.
			continue
		}
		zig += run
		if zig > zigEnd {
			break
		}
		n -= int32(size)
		x := int32(a>>uint32(n)) & (1<<size - 1)
		if x < 1<<(size-1) {
			x += -1<<size + 1
		}
		mask |= 1 << uint(zig)
		if zig < kmax {
			pc[zig] = int16(x << al)
		}
	}
	d.bits.a, d.bits.n = a, n
	*nz = mask
	if n < d.bits.pad {
		return errShortHuffmanData
	}
	return nil
}

// refineAC decodes a block of a progressive AC refinement scan, as specified
// in section G.1.2.3: the same as refine for AC bands, with the bit
// accumulator in locals and the non-zero mask used to find the coefficients
// that receive correction bits.
func (d *decoder) refineAC(h *huffman, pc []int16, nzp *uint64, zigStart, zigEnd, delta int32) error {
	if h.nCodes == 0 {
		return FormatError("uninitialized Huffman table")
	}
	a, n := d.bits.a, d.bits.n
	mask := *nzp
	kmax := int32(len(pc))
	zig := zigStart
	if d.eobRun == 0 {
	loop:
		for ; zig <= zigEnd; zig++ {
			if n < 32 {
				d.bits.a, d.bits.n = a, n
				if err := d.refill(); err != nil {
					return err
				}
				a, n = d.bits.a, d.bits.n
			}
			var value uint8
			if v := h.lut[(a>>uint32(n-lutSize))&(1<<lutSize-1)]; v != 0 {
				n -= int32(v&0xff) - 1
				value = uint8(v >> 8)
			} else {
				d.bits.a, d.bits.n = a, n
				var err error
				if value, err = d.decodeHuffman(h); err != nil {
					return err
				}
				a, n = d.bits.a, d.bits.n
			}
			run, size := int32(value>>4), value&0x0f
			z := int32(0)
			switch size {
			case 0:
				if run != 0x0f {
					// An end-of-band run; a code leaves at least 16 bits.
					eob := uint32(1) << run
					if run != 0 {
						n -= run
						eob |= uint32(a>>uint32(n)) & (1<<run - 1)
					}
					d.eobRun = uint16(eob)
					break loop
				}
			case 1:
				n--
				if a>>uint32(n)&1 != 0 {
					z = delta
				} else {
					z = -delta
				}
			default:
				return FormatError("unexpected Huffman code")
			}
			// Skip run zero coefficients, correcting the non-zero ones on
			// the way, and stop at the next zero one.
			for ; zig <= zigEnd; zig++ {
				if mask&(1<<uint(zig)) == 0 {
					if run == 0 {
						break
					}
					run--
					continue
				}
				// A correction bit: set, it moves the coefficient away
				// from zero by delta.
				if n == 0 {
					d.bits.a, d.bits.n = a, n
					if err := d.refill(); err != nil {
						return err
					}
					a, n = d.bits.a, d.bits.n
				}
				n--
				if a>>uint32(n)&1 != 0 && zig < kmax {
					if pc[zig] >= 0 {
						pc[zig] += int16(delta)
					} else {
						pc[zig] -= int16(delta)
					}
				}
			}
			if zig > zigEnd {
				return FormatError("too many coefficients")
			}
			if z != 0 {
				mask |= 1 << uint(zig)
				if zig < kmax {
					pc[zig] = int16(z)
				}
			}
		}
	}
	if d.eobRun > 0 {
		d.eobRun--
		// Correct every non-zero coefficient left in the band.
		if zig <= zigEnd {
			rest := mask >> uint(zig) << uint(zig)
			if zigEnd < 63 {
				rest &= 1<<uint(zigEnd+1) - 1
			}
			for rest != 0 {
				z := int32(mbits.TrailingZeros64(rest))
				rest &= rest - 1
				// A correction bit: set, it moves the coefficient away
				// from zero by delta.
				if n == 0 {
					d.bits.a, d.bits.n = a, n
					if err := d.refill(); err != nil {
						return err
					}
					a, n = d.bits.a, d.bits.n
				}
				n--
				if a>>uint32(n)&1 != 0 && z < kmax {
					if pc[z] >= 0 {
						pc[z] += int16(delta)
					} else {
						pc[z] -= int16(delta)
					}
				}
			}
		}
	}
	d.bits.a, d.bits.n = a, n
	*nzp = mask
	if n < d.bits.pad {
		return errShortHuffmanData
	}
	return nil
}
