package inflate

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

// Errors for a stream that is not valid zlib data. Truncated input is
// reported as io.ErrUnexpectedEOF and invalid DEFLATE data as a
// *CorruptInputError.
var (
	// ErrHeader is returned for a zlib header (RFC 1950 section 2.2) that
	// does not describe a DEFLATE stream with a window of at most 32 KiB.
	ErrHeader = errors.New("inflate: invalid zlib header")
	// ErrDictionary is returned for a stream that needs a preset dictionary.
	ErrDictionary = errors.New("inflate: zlib stream needs a preset dictionary")
	// ErrChecksum is returned when the decompressed data does not match the
	// stream's Adler-32 checksum.
	ErrChecksum = errors.New("inflate: Adler-32 checksum mismatch")
)

// A CorruptInputError reports invalid DEFLATE data: what is wrong and about
// where in the zlib stream (the byte holding the last bit read).
type CorruptInputError struct {
	Offset  int
	Problem string
}

func (e *CorruptInputError) Error() string {
	return "inflate: corrupt input at offset " + strconv.Itoa(e.Offset) + ": " + e.Problem
}

// The problems a CorruptInputError can report.
const (
	problemBlockType      = "reserved block type"
	problemStoredLength   = "stored block length does not match its complement"
	problemCodeCounts     = "too many literal/length or distance codes"
	problemPrecode        = "invalid code-length code"
	problemRepeatFirst    = "code length repeated before any was given"
	problemRepeatTooLong  = "code lengths repeated past the end"
	problemLitlenCode     = "invalid literal/length code"
	problemDistCode       = "invalid distance code"
	problemInvalidSymbol  = "invalid literal/length or distance symbol"
	problemDistanceTooFar = "distance reaches before the start of the output"
)

const (
	windowSize = maxMatchDistance

	// decodeAreaSize is how much output one fill decodes before handing it
	// out: large enough that the decode loop runs long and the window is
	// rarely slid, small enough that the buffer stays in a core's L2 cache.
	decodeAreaSize = 96 << 10

	// fillLimit is where the decode loop stops. It checks for room once per
	// iteration, and an iteration writes at most three literals and a match
	// (decodeHuffman).
	fillLimit = windowSize + decodeAreaSize

	// copyOverrun bounds how far past a match's end its word-at-a-time copy
	// may store: a 3-byte match copies 32 bytes.
	copyOverrun = 32 - 3

	bufSize = fillLimit + 3 + maxMatchLength + copyOverrun
)

// state is where decoding continues in the stream.
type state uint8

const (
	stateBlockHeader state = iota
	stateStored            // copying a stored block's data
	stateHuffman           // decoding a block with r.tables
	stateEnd               // the final block is done; the checksum is next
	stateDone              // Read returns r.err for good
)

// Reader decompresses a zlib stream held in memory. Make one with NewReader,
// or Reset a zero Reader before use. Its methods are not safe for concurrent
// use.
type Reader struct {
	src []byte

	// The bit buffer holds nbits bits of src, least significant first, that
	// precede src[pos]; the bits above nbits are zero or the input's next
	// bits. pos runs past len(src) when the stream's end is near, the missing
	// bytes reading as zeros (see refillSlow).
	bitbuf uint64
	nbits  uint
	pos    int

	// buf[:wpos] is output: its last windowSize bytes at least (all of it
	// while it is shorter), of which buf[rpos:wpos] is not yet read.
	buf        []byte
	rpos, wpos int

	state      state
	final      bool // the current block is the stream's last
	storedLeft int  // bytes of the current stored block still to copy

	tables *blockTables // the current Huffman block's

	adler     uint32 // of the output so far
	inputUsed int
	err       error

	// The tables of the current dynamic block, and the code lengths they
	// are built from.
	dynamic blockTables
	precode [precodeTableSize]uint32
	lengths [maxLitlenCodes + maxDistCodes]uint8
}

// NewReader returns a reader of the data zlib-compressed in src.
func NewReader(src []byte) *Reader {
	r := new(Reader)
	r.Reset(src)
	return r
}

// Reset reuses the reader (and its buffers) for another stream.
func (r *Reader) Reset(src []byte) {
	if r.buf == nil {
		r.buf = make([]byte, bufSize)
	}
	r.src = src
	r.bitbuf, r.nbits, r.pos = 0, 0, 0
	r.rpos, r.wpos = 0, 0
	r.state, r.final, r.storedLeft = stateBlockHeader, false, 0
	r.tables = nil
	r.adler, r.inputUsed, r.err = 1, 0, nil
	r.readZlibHeader()
}

// readZlibHeader checks the stream header, RFC 1950 section 2.2, as
// compress/zlib does.
func (r *Reader) readZlibHeader() {
	if len(r.src) < 2 {
		r.fail(io.ErrUnexpectedEOF)
		return
	}
	cmf, flg := r.src[0], r.src[1]
	const (
		methodDeflate = 8
		maxWindowLog  = 7 // CINFO: the window is 1<<(CINFO+8) bytes, at most 32 KiB
		presetDict    = 0x20
	)
	if cmf&0x0f != methodDeflate || cmf>>4 > maxWindowLog || binary.BigEndian.Uint16(r.src)%31 != 0 {
		r.fail(ErrHeader)
		return
	}
	r.pos = 2
	if flg&presetDict != 0 {
		// compress/zlib, given no dictionary, compares DICTID with the
		// Adler-32 of an empty one, which is 1, and then decodes as if
		// there were no dictionary.
		if len(r.src) < 6 {
			r.fail(io.ErrUnexpectedEOF)
			return
		}
		if binary.BigEndian.Uint32(r.src[2:]) != 1 {
			r.fail(ErrDictionary)
			return
		}
		r.pos = 6
	}
}

// Read implements io.Reader. It returns io.EOF only after the stream's
// final block and a matching Adler-32 checksum.
func (r *Reader) Read(p []byte) (int, error) {
	for r.rpos == r.wpos {
		if r.state == stateDone || len(p) == 0 {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.buf[r.rpos:r.wpos])
	r.rpos += n
	return n, nil
}

// InputUsed is how many bytes of src the stream took, including the 2-byte
// header and the 4-byte checksum; valid once Read returned io.EOF.
func (r *Reader) InputUsed() int {
	return r.inputUsed
}

// fill decodes the next part of the stream into buf after the bytes already
// read, until the decode area is full or the stream ends, and checks the
// stream's checksum once it has all the output.
func (r *Reader) fill() {
	if r.wpos >= fillLimit {
		// Keep the last window of output for matches to refer to.
		copy(r.buf, r.buf[r.wpos-windowSize:r.wpos])
		r.wpos, r.rpos = windowSize, windowSize
	}
	start := r.wpos
	var err error
	for err == nil && r.wpos < fillLimit && r.state != stateEnd {
		switch r.state {
		case stateBlockHeader:
			err = r.readBlockHeader()
		case stateStored:
			err = r.copyStored()
		case stateHuffman:
			err = r.decodeHuffman()
		}
	}
	r.adler = adler32Update(r.adler, r.buf[start:r.wpos])
	switch {
	case err != nil:
		r.fail(err)
	case r.state == stateEnd:
		r.readTrailer()
	}
}

// fail ends the stream with err.
func (r *Reader) fail(err error) {
	r.state, r.err = stateDone, err
}

// corrupt returns a CorruptInputError for problem at the current input.
func (r *Reader) corrupt(problem string) error {
	return &CorruptInputError{Offset: min(r.consumed(), len(r.src)), Problem: problem}
}

// consumed is how many bytes of src the bits taken from the bit buffer came
// from, counting a partly used byte; it exceeds len(src) if the stream
// needed bits past the input's end.
func (r *Reader) consumed() int {
	return r.pos - int(r.nbits/8)
}

// readTrailer checks the Adler-32 checksum that follows the final block
// (RFC 1950 section 2.2), aligned to a byte.
func (r *Reader) readTrailer() {
	end := r.consumed()
	if end > len(r.src)-4 {
		r.fail(io.ErrUnexpectedEOF)
		return
	}
	if binary.BigEndian.Uint32(r.src[end:]) != r.adler {
		r.fail(ErrChecksum)
		return
	}
	r.inputUsed = end + 4
	r.fail(io.EOF)
}

// endBlock moves on after a block's last symbol or byte.
func (r *Reader) endBlock() {
	if r.final {
		r.state = stateEnd
	} else {
		r.state = stateBlockHeader
	}
}

// refill tops the bit buffer up to at least 56 bits.
func (r *Reader) refill() error {
	var ok bool
	r.bitbuf, r.nbits, r.pos, ok = refill(r.src, r.bitbuf, r.nbits, r.pos)
	if !ok {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// refill tops the bit buffer b, holding nb bits that precede src[pos], up to
// at least 56 bits. While 8 bytes of input remain it loads them at once and
// takes as many whole bytes as fit; past that, refillSlow takes one byte at a
// time. ok is false if the stream has already used bits past src's end.
func refill(src []byte, b uint64, nb uint, pos int) (_ uint64, _ uint, _ int, ok bool) {
	if pos <= len(src)-8 {
		b |= binary.LittleEndian.Uint64(src[pos:]) << (nb & 63)
		return b, nb | 56, pos + int((63-nb)>>3), true
	}
	return refillSlow(src, b, nb, pos)
}

// refillSlow is refill near the end of src. Missing bytes read as zeros,
// counted by pos running past len(src), so that the decoder needs no
// input-length checks of its own: a valid stream never uses those bits, and
// a stream that does is caught here at the next refill, at the end of the
// final block, or at a stored block, whichever comes first.
//
// It is kept out of line so that the decode loop, which calls it only near
// the input's end, stays small.
//
//go:noinline
func refillSlow(src []byte, b uint64, nb uint, pos int) (_ uint64, _ uint, _ int, ok bool) {
	if pos > len(src) && (pos-len(src))*8 > int(nb) {
		return b, nb, pos, false
	}
	for nb < 56 {
		if pos < len(src) {
			b |= uint64(src[pos]) << (nb & 63)
		}
		pos++
		nb += 8
	}
	return b, nb, pos, true
}

// take removes and returns the next n bits; the buffer must hold them.
func (r *Reader) take(n uint) uint32 {
	v := uint32(r.bitbuf & (1<<(n&63) - 1))
	r.bitbuf >>= n & 63
	r.nbits -= n
	return v
}

// readBlockHeader reads a block's 3-bit header, RFC 1951 section 3.2.3, and
// what follows it up to the block's data.
func (r *Reader) readBlockHeader() error {
	if err := r.refill(); err != nil {
		return err
	}
	header := r.take(3)
	r.final = header&1 != 0
	switch header >> 1 {
	case 0:
		return r.readStoredHeader()
	case 1:
		r.tables = &fixedTables
		r.state = stateHuffman
		return nil
	case 2:
		return r.readDynamicTables()
	default:
		return r.corrupt(problemBlockType)
	}
}

// readStoredHeader starts a stored block, RFC 1951 section 3.2.4: its length
// and the length's complement follow at the next byte boundary, then the
// data.
func (r *Reader) readStoredHeader() error {
	r.take(r.nbits & 7)
	start := r.consumed()
	if start > len(r.src)-4 {
		return io.ErrUnexpectedEOF
	}
	length := binary.LittleEndian.Uint16(r.src[start:])
	if binary.LittleEndian.Uint16(r.src[start+2:]) != ^length {
		return r.corrupt(problemStoredLength)
	}
	r.bitbuf, r.nbits, r.pos = 0, 0, start+4
	if int(length) > len(r.src)-r.pos {
		return io.ErrUnexpectedEOF
	}
	r.storedLeft = int(length)
	r.state = stateStored
	if length == 0 {
		r.endBlock()
	}
	return nil
}

// copyStored copies as much of a stored block's data as fits in the decode
// area.
func (r *Reader) copyStored() error {
	n := copy(r.buf[r.wpos:fillLimit], r.src[r.pos:r.pos+r.storedLeft])
	r.wpos += n
	r.pos += n
	r.storedLeft -= n
	if r.storedLeft == 0 {
		r.endBlock()
	}
	return nil
}

// precodeOrder is the order of the code-length code's lengths, RFC 1951
// section 3.2.7.
var precodeOrder = [numPrecodeSymbols]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// readDynamicTables reads a dynamic block's code descriptions, RFC 1951
// section 3.2.7, and builds its decode tables.
func (r *Reader) readDynamicTables() error {
	if err := r.refill(); err != nil {
		return err
	}
	numLitlen := int(r.take(5)) + 257
	numDist := int(r.take(5)) + 1
	numPrecode := int(r.take(4)) + 4
	if numLitlen > maxLitlenCodes || numDist > maxDistCodes {
		return r.corrupt(problemCodeCounts)
	}

	var precodeLengths [numPrecodeSymbols]uint8
	for _, sym := range precodeOrder[:numPrecode] {
		if r.nbits < 3 {
			if err := r.refill(); err != nil {
				return err
			}
		}
		precodeLengths[sym] = uint8(r.take(3))
	}
	if !buildTable(r.precode[:], precodeTableBits, precodeLengths[:], precodeSymbols[:]) {
		return r.corrupt(problemPrecode)
	}

	lengths := r.lengths[:numLitlen+numDist]
	for i := 0; i < len(lengths); {
		const maxBits = 7 + 7 // the longest code-length code and its extra bits
		if r.nbits < maxBits {
			if err := r.refill(); err != nil {
				return err
			}
		}
		entry := r.precode[r.bitbuf&(precodeTableSize-1)]
		if entry&entryExceptional != 0 {
			return r.corrupt(problemPrecode)
		}
		r.take(uint(entry & entryConsumeMask))
		sym := entry >> entryValueShift
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var repeat int
		var value uint8
		switch sym {
		case 16: // the previous length 3-6 times
			if i == 0 {
				return r.corrupt(problemRepeatFirst)
			}
			repeat, value = 3+int(r.take(2)), lengths[i-1]
		case 17: // zero 3-10 times
			repeat = 3 + int(r.take(3))
		default: // zero 11-138 times
			repeat = 11 + int(r.take(7))
		}
		if repeat > len(lengths)-i {
			return r.corrupt(problemRepeatTooLong)
		}
		for range repeat {
			lengths[i] = value
			i++
		}
	}

	if !buildTable(r.dynamic.litlen[:], litlenTableBits, lengths[:numLitlen], litlenSymbols[:]) {
		return r.corrupt(problemLitlenCode)
	}
	if !buildTable(r.dynamic.dist[:], distTableBits, lengths[numLitlen:], distSymbols[:]) {
		return r.corrupt(problemDistCode)
	}
	r.tables = &r.dynamic
	r.state = stateHuffman
	return nil
}
