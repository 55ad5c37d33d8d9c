package inflate

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/adler32"
	"io"
	"math/bits"
	"slices"
	"testing"
)

// A bitWriter writes DEFLATE data by hand, RFC 1951 section 3.1.1.
type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

// bits writes the n low bits of v, least significant first.
func (w *bitWriter) bits(v uint64, n uint) *bitWriter {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
	return w
}

// code writes an n-bit Huffman code, most significant bit first.
func (w *bitWriter) code(c uint64, n uint) *bitWriter {
	return w.bits(uint64(bits.Reverse16(uint16(c))>>(16-n)), n)
}

// align pads with zero bits to a byte boundary.
func (w *bitWriter) align() *bitWriter {
	if w.nbits > 0 {
		w.bits(0, 8-w.nbits)
	}
	return w
}

func (w *bitWriter) bytes() []byte {
	return w.align().out
}

// canonicalCodes returns the codes of RFC 1951 section 3.2.2 for lengths.
func canonicalCodes(lengths []uint8) []uint64 {
	var count [16]uint64
	for _, n := range lengths {
		count[n]++
	}
	count[0] = 0
	var next [16]uint64
	code := uint64(0)
	for n := 1; n < 16; n++ {
		code = (code + count[n-1]) << 1
		next[n] = code
	}
	codes := make([]uint64, len(lengths))
	for sym, n := range lengths {
		if n != 0 {
			codes[sym] = next[n]
			next[n]++
		}
	}
	return codes
}

// A dynamicBlock writes a dynamic block, RFC 1951 section 3.2.7, sending
// each code length as itself with a 4-bit code-length code, and then its
// symbols.
type dynamicBlock struct {
	w              *bitWriter
	litlen, dist   []uint8
	litlenC, distC []uint64
}

func newDynamicBlock(w *bitWriter, final bool, litlen, dist []uint8) *dynamicBlock {
	finalBit := uint64(0)
	if final {
		finalBit = 1
	}
	w.bits(finalBit, 1).bits(2, 2)
	w.bits(uint64(len(litlen)-257), 5).bits(uint64(len(dist)-1), 5).bits(19-4, 4)
	// Lengths 0-15 get 4-bit codes, a complete code; 16-18 none.
	var precodeLengths [19]uint8
	for sym := range 16 {
		precodeLengths[sym] = 4
	}
	for _, sym := range precodeOrder {
		w.bits(uint64(precodeLengths[sym]), 3)
	}
	precodeC := canonicalCodes(precodeLengths[:])
	for _, n := range append(append([]uint8(nil), litlen...), dist...) {
		w.code(precodeC[n], 4)
	}
	return &dynamicBlock{w, litlen, dist, canonicalCodes(litlen), canonicalCodes(dist)}
}

func (b *dynamicBlock) literal(sym int) *dynamicBlock {
	b.w.code(b.litlenC[sym], uint(b.litlen[sym]))
	return b
}

// match writes a length symbol and a distance symbol, with zero extra bits.
func (b *dynamicBlock) match(lengthSym, distSym int) *dynamicBlock {
	b.literal(lengthSym)
	b.w.bits(0, uint(litlenSymbols[lengthSym]&0xff))
	b.w.code(b.distC[distSym], uint(b.dist[distSym]))
	b.w.bits(0, uint(distSymbols[distSym]&0xff))
	return b
}

// zlibStream wraps DEFLATE data in a zlib header and the Adler-32 checksum
// of what compress/flate decodes it to, so that only the DEFLATE data
// decides whether the stream is valid.
func zlibStream(deflate []byte) []byte {
	out, _ := io.ReadAll(flate.NewReader(bytes.NewReader(deflate)))
	src := append([]byte{0x78, 0x9c}, deflate...)
	return binary.BigEndian.AppendUint32(src, adler32.Checksum(out))
}

// lengthsOf returns n code lengths, all zero but those given as symbol,
// length pairs.
func lengthsOf(n int, pairs ...int) []uint8 {
	lengths := make([]uint8, n)
	for i := 0; i < len(pairs); i += 2 {
		lengths[pairs[i]] = uint8(pairs[i+1])
	}
	return lengths
}

// An edgeCase is a stream at the edge of what compress/zlib accepts.
type edgeCase struct {
	name   string
	src    []byte
	accept bool // whether compress/zlib accepts it
}

func edgeCases() []edgeCase {
	var cases []edgeCase
	add := func(name string, accept bool, src []byte) {
		cases = append(cases, edgeCase{name, src, accept})
	}
	w := func() *bitWriter { return new(bitWriter) }
	fixedEmpty := w().bits(1, 1).bits(1, 2).code(0, 7).bytes()

	// Zlib headers, RFC 1950 section 2.2.
	add("fixed block, end of block only", true, zlibStream(fixedEmpty))
	add("preset dictionary with the empty dictionary's Adler-32", true,
		append([]byte{0x78, 0xbb, 0, 0, 0, 1}, zlibStream(fixedEmpty)[2:]...))
	add("preset dictionary", false, append([]byte{0x78, 0xbb, 0, 0, 0, 2}, zlibStream(fixedEmpty)[2:]...))
	add("method 7", false, append([]byte{0x77, 0x9c}, zlibStream(fixedEmpty)[2:]...))
	add("window log 8+8", false, append([]byte{0x88, 0x98}, zlibStream(fixedEmpty)[2:]...))
	add("window log 0+8", true, append([]byte{0x08, 0x1d}, zlibStream(fixedEmpty)[2:]...))
	add("bad header check", false, append([]byte{0x78, 0x9d}, zlibStream(fixedEmpty)[2:]...))

	// Block types and stored blocks, RFC 1951 section 3.2.3-4.
	add("reserved block type", false, zlibStream(w().bits(1, 1).bits(3, 2).bytes()))
	add("empty stored block", true, zlibStream(w().bits(1, 1).bits(0, 2).align().bits(0, 16).bits(0xffff, 16).bytes()))
	add("stored length mismatch", false, zlibStream(w().bits(1, 1).bits(0, 2).align().bits(1, 16).bits(0xffff, 16).bits('x', 8).bytes()))
	add("stored block after fixed block", true, zlibStream(append(
		w().bits(0, 1).bits(1, 2).code(0x30+'a', 8).code(0, 7).bits(0, 1).bits(0, 2).align().bits(2, 16).bits(0xfffd, 16).bytes(),
		'b', 'c', 3, 0)))
	add("stored block short of data", false, zlibStream(w().bits(1, 1).bits(0, 2).align().bits(5, 16).bits(0xfffa, 16).bits('x', 8).bytes()))

	// Fixed codes, RFC 1951 section 3.2.6: literal/length symbols 286-287
	// and distance symbols 30-31 have codes but no meaning.
	fixedLiteralA := func(w *bitWriter) *bitWriter { return w.code(0x30+'a', 8) }
	add("fixed length symbol 286", false, zlibStream(fixedLiteralA(w().bits(1, 1).bits(1, 2)).code(0xc0+6, 8).code(0, 5).code(0, 7).bytes()))
	add("fixed length symbol 287", false, zlibStream(fixedLiteralA(w().bits(1, 1).bits(1, 2)).code(0xc0+7, 8).code(0, 5).code(0, 7).bytes()))
	add("fixed distance symbol 29 too far", false, zlibStream(fixedLiteralA(w().bits(1, 1).bits(1, 2)).code(1, 7).code(29, 5).bits(0, 13).code(0, 7).bytes()))
	add("fixed distance symbol 30", false, zlibStream(fixedLiteralA(w().bits(1, 1).bits(1, 2)).code(1, 7).code(30, 5).code(0, 7).bytes()))
	add("fixed distance symbol 31", false, zlibStream(fixedLiteralA(w().bits(1, 1).bits(1, 2)).code(1, 7).code(31, 5).code(0, 7).bytes()))
	add("distance 1 with no output", false, zlibStream(w().bits(1, 1).bits(1, 2).code(1, 7).code(0, 5).code(0, 7).bytes()))
	add("distance 1 after one byte", true, zlibStream(fixedLiteralA(w().bits(1, 1).bits(1, 2)).code(1, 7).code(0, 5).code(0, 7).bytes()))
	add("distance 2 after one byte", false, zlibStream(fixedLiteralA(w().bits(1, 1).bits(1, 2)).code(1, 7).code(1, 5).code(0, 7).bytes()))
	add("no end of block", false, zlibStream(fixedLiteralA(w().bits(1, 1).bits(1, 2)).bytes()))
	add("not final", false, zlibStream(w().bits(0, 1).bits(1, 2).code(0, 7).bytes()))

	// Dynamic codes, RFC 1951 section 3.2.7.
	twoLiterals := lengthsOf(257, 'a', 1, 256, 1)
	oneDist := lengthsOf(1, 0, 1)
	block := func(final bool, litlen, dist []uint8) (*bitWriter, *dynamicBlock) {
		w := w()
		return w, newDynamicBlock(w, final, litlen, dist)
	}
	bw, b := block(true, twoLiterals, oneDist)
	b.literal('a').literal(256)
	add("dynamic, two codes of length 1", true, zlibStream(bw.bytes()))

	bw, b = block(true, lengthsOf(257, 256, 1), lengthsOf(1))
	b.literal(256)
	add("dynamic, end of block the only code, no distance codes", true, zlibStream(bw.bytes()))
	bw, _ = block(true, lengthsOf(257, 256, 1), lengthsOf(1))
	bw.bits(1, 1)
	add("dynamic, the missing code of a single-code code", false, zlibStream(bw.bytes()))
	bw, b = block(true, lengthsOf(257, 256, 2), lengthsOf(1))
	b.literal(256)
	add("dynamic, single code of length 2", false, zlibStream(bw.bytes()))
	bw, b = block(true, lengthsOf(258, 'a', 1, 'b', 2, 256, 2, 257, 2), oneDist)
	b.literal(256)
	add("dynamic, over-subscribed", false, zlibStream(bw.bytes()))
	bw, b = block(true, lengthsOf(257, 'a', 2, 'b', 2, 256, 2), oneDist)
	b.literal(256)
	add("dynamic, incomplete", false, zlibStream(bw.bytes()))
	bw, b = block(true, lengthsOf(258, 'a', 1, 256, 2, 257, 2), oneDist)
	b.literal('a').match(257, 0).literal(256)
	add("dynamic, single distance code", true, zlibStream(bw.bytes()))
	bw, b = block(true, lengthsOf(258, 'a', 1, 256, 2, 257, 2), lengthsOf(2, 0, 1, 1, 2))
	b.literal('a').match(257, 0).literal(256)
	add("dynamic, incomplete distance code", false, zlibStream(bw.bytes()))
	bw, b = block(true, lengthsOf(258, 'a', 1, 256, 2, 257, 2), oneDist)
	b.literal('a').literal(257).w.code(1, 1)
	b.literal(256)
	add("dynamic, the missing distance code", false, zlibStream(bw.bytes()))
	bw, b = block(true, lengthsOf(258, 'a', 1, 256, 2, 257, 2), lengthsOf(1))
	b.literal('a').literal(256)
	add("dynamic, no distance codes", true, zlibStream(bw.bytes()))

	// Lengths 1, 2, ..., 15, 15 make a complete code whose long codes need
	// subtables, for literals, lengths and distances alike.
	long := make([]uint8, 286)
	for i, sym := range []int{'a', 'b', 'c', 'd', 256, 257, 265, 'e', 270, 'f', 280, 'g', 284, 'h', 285, 'z'} {
		long[sym] = uint8(min(i+1, 15))
	}
	longDist := make([]uint8, 30)
	for dsym := range 16 {
		longDist[dsym] = uint8(min(dsym+1, 15))
	}
	bw, b = block(true, long, longDist)
	for i := range 400 {
		b.literal(int("abcdefghz"[i%9]))
	}
	for _, sym := range []int{257, 265, 270, 280, 284, 285} {
		for dsym := range 16 {
			b.match(sym, dsym)
		}
	}
	b.literal(256)
	add("dynamic, 15-bit codes", true, zlibStream(bw.bytes()))

	// Code-length counts and repeats. ones gives symbol 0 and end of block
	// length 1, and none to the 255 literals between.
	ones := []int{1, 18, 127, 18, 106, 1}
	add("dynamic, 286 literal/length codes", true, zlibStream(dynamicHeader(29, 0, slices.Concat(ones, []int{18, 18, 1}))))
	add("dynamic, 287 literal/length codes", false, zlibStream(dynamicHeader(30, 0, slices.Concat(ones, []int{18, 19, 1}))))
	add("dynamic, 30 distance codes", true, zlibStream(dynamicHeader(0, 29, slices.Concat(ones, []int{1, 18, 18}))))
	add("dynamic, 31 distance codes", false, zlibStream(dynamicHeader(0, 30, slices.Concat(ones, []int{1, 18, 19}))))
	add("dynamic, zeros to the end", true, zlibStream(dynamicHeader(0, 2, slices.Concat(ones, []int{17, 0}))))
	add("dynamic, repeat first length", false, zlibStream(dynamicHeader(0, 0, []int{16, 0})))
	add("dynamic, repeat across the two codes", true, zlibStream(dynamicHeader(1, 3, []int{2, 2, 18, 127, 18, 105, 2, 16, 0, 2, 2})))
	add("dynamic, repeat past the end", false, zlibStream(dynamicHeader(0, 0, slices.Concat(ones, []int{16, 0}))))
	add("dynamic, zeros past the end", false, zlibStream(dynamicHeader(0, 0, []int{18, 127, 18, 127})))
	return cases
}

// dynamicHeader writes a final dynamic block with hlit and hdist as given,
// whose code lengths are ops: a length below 16 stands for itself, and 16,
// 17 and 18 are followed by their extra bits. If the end-of-block symbol
// then has a code, that code follows.
func dynamicHeader(hlit, hdist int, ops []int) []byte {
	w := new(bitWriter)
	w.bits(1, 1).bits(2, 2).bits(uint64(hlit), 5).bits(uint64(hdist), 5).bits(19-4, 4)
	var precodeLengths [19]uint8
	for sym, n := range map[int]uint8{0: 3, 1: 3, 2: 2, 16: 3, 17: 3, 18: 2} {
		precodeLengths[sym] = n
	}
	for _, sym := range precodeOrder {
		w.bits(uint64(precodeLengths[sym]), 3)
	}
	precodeC := canonicalCodes(precodeLengths[:])
	var lengths []uint8
	for i := 0; i < len(ops); i++ {
		sym := ops[i]
		w.code(precodeC[sym], uint(precodeLengths[sym]))
		switch sym {
		case 16:
			i++
			w.bits(uint64(ops[i]), 2)
			if len(lengths) == 0 {
				break // invalid: nothing to repeat
			}
			for range 3 + ops[i] {
				lengths = append(lengths, lengths[len(lengths)-1])
			}
		case 17, 18:
			i++
			extra, base := uint(3), 3
			if sym == 18 {
				extra, base = 7, 11
			}
			w.bits(uint64(ops[i]), extra)
			lengths = append(lengths, make([]uint8, base+ops[i])...)
		default:
			lengths = append(lengths, uint8(sym))
		}
	}
	if len(lengths) > 256 && lengths[256] != 0 {
		w.code(canonicalCodes(lengths[:min(len(lengths), hlit+257)])[256], uint(lengths[256]))
	}
	return w.bytes()
}

func TestEdgeCases(t *testing.T) {
	var r Reader
	for i, tc := range edgeCases() {
		if got := accepts(tc.src); got != tc.accept {
			t.Errorf("%s: compress/zlib accepts it: %v, want %v", tc.name, got, tc.accept)
		}
		checkParity(t, &r, tc.name, tc.src, i)
		// And every prefix.
		for n := range len(tc.src) {
			checkParity(t, &r, tc.name+" truncated", tc.src[:n], n)
		}
	}
}

// TestDecodeAreaEdge has the decode loop start an iteration just before the
// end of the decode area and write the most an iteration can: three
// literals and a 258-byte match, copied with each kind of distance.
func TestDecodeAreaEdge(t *testing.T) {
	const last = fillLimit - 1 // the last position an iteration starts at
	var r Reader
	for _, distance := range []struct {
		code, extra uint64
		extraBits   uint
	}{{0, 0, 0}, {4, 0, 1}, {5, 1, 1}, {9, 0, 3}} { // distances 1, 5, 8, 25
		for offset := -3; offset <= 3; offset++ {
			w := new(bitWriter)
			w.bits(1, 1).bits(1, 2)
			literal := func() { w.code(0x30+'a', 8) }
			// A literal and a 3-byte match, and from there on literals are
			// decoded three to an iteration: the literals make an iteration
			// start at last+offset.
			literal()
			w.code(257-256, 7).code(0, 5)
			for range last + offset - 4 {
				literal()
			}
			literal()
			literal()
			literal()
			w.code(0xc0+285-280, 8).code(distance.code, 5).bits(distance.extra, distance.extraBits)
			w.code(0, 7)
			src := zlibStream(w.bytes())
			if !accepts(src) {
				t.Fatalf("distance code %d, offset %d: compress/zlib rejects it", distance.code, offset)
			}
			checkParity(t, &r, "three literals and a match at the end of the decode area", src, offset+3)
		}
	}
}
