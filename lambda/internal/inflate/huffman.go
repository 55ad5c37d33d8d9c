package inflate

import "math/bits"

// A decode table maps the next bits of input (least significant bit first,
// as RFC 1951 section 3.1.1 packs Huffman codes) to an entry: a uint32 that
// says what the code means and how many bits to consume for it. The table's
// first 1<<mainBits entries are indexed by the next mainBits bits; a code
// longer than mainBits has a link entry there pointing at a subtable that the
// following bits index. The layout, shared by all three codes:
//
//	bits  0-7   bits to consume: the code's length at this table level, plus
//	            the extra bits of a length or distance symbol (RFC 1951
//	            section 3.2.5) so that one shift drops both; for a link, the
//	            main table's bits
//	bits  8-11  the code's length at this level, which is where the extra bits
//	            start; for a link, the subtable's index bits
//	bits 12-15  flags (entryLiteral and so on)
//	bits 16-31  a literal byte, a length or distance base, a code-length
//	            symbol, or a link's subtable offset
//
// Packing the base and both bit counts into one entry turns a length or
// distance with its extra bits into one table load and one shift.
const (
	entryLiteral = 1 << 15
	// entryExceptional marks what the decode loop cannot use as a length or
	// distance: a link, end of block or an invalid code.
	entryExceptional = 1 << 14
	entryLink        = 1 << 13
	entryEndOfBlock  = 1 << 12

	// entryInvalid is what bits that are no code decode to; compress/flate
	// accepts two incomplete codes (see buildTable) and some codes in the
	// fixed tables that stand for no symbol.
	entryInvalid = entryExceptional

	entryValueShift  = 16
	entryLengthMask  = 15
	entryConsumeMask = 63 // consumed bits are at most 15+13, and the mask lets shifts compile to one instruction
)

// Table sizes. The main tables' index widths trade table-building time per
// block against how often a symbol needs a subtable. With 11 bits nearly all
// literal/length codes in real data resolve in one load. The sizes are
// powers of two, at least zlib's "enough" bound for the code (2342 entries
// for 288 symbols, 11 main bits and 15-bit codes; 402 for 32 symbols, 8 bits
// and 15-bit codes), so that the decode loop can index them through a mask
// and the compiler drops the bounds checks.
const (
	litlenTableBits  = 11
	litlenTableSize  = 4096
	distTableBits    = 8
	distTableSize    = 512
	precodeTableBits = 7 // code-length codes are at most 7 bits long: no subtables
	precodeTableSize = 1 << precodeTableBits
)

const (
	maxCodeLength      = 15  // RFC 1951 section 3.2.7
	numLitlenSymbols   = 288 // 286 and 287 only appear in the fixed code, where they are invalid
	numDistSymbols     = 32  // 30 and 31 likewise
	numPrecodeSymbols  = 19
	maxLitlenCodes     = 286 // HLIT + 257 above this is corrupt
	maxDistCodes       = 30  // HDIST + 1 above this is corrupt (compress/flate's rule)
	endOfBlockSymbol   = 256
	maxMatchLength     = 258
	maxMatchDistance   = 1 << 15
	maxLengthExtraBits = 5
	maxDistExtraBits   = 13
)

// litlenSymbols, distSymbols and precodeSymbols are each symbol's entry
// without its code length: flags, value, and in bits 0-7 the extra bits that
// follow the code (RFC 1951 section 3.2.5). buildTable adds the code length.
var (
	litlenSymbols  [numLitlenSymbols]uint32
	distSymbols    [numDistSymbols]uint32
	precodeSymbols [numPrecodeSymbols]uint32
)

// blockTables are the decode tables of a Huffman block's two codes. They
// are kept together so that the decode loop reaches both through one
// pointer: it has more live values than the CPU has registers.
type blockTables struct {
	litlen [litlenTableSize]uint32
	dist   [distTableSize]uint32
}

// fixedTables are those of the fixed codes, RFC 1951 section 3.2.6.
var fixedTables blockTables

func init() {
	for sym := range 256 {
		litlenSymbols[sym] = entryLiteral | uint32(sym)<<entryValueShift
	}
	litlenSymbols[endOfBlockSymbol] = entryExceptional | entryEndOfBlock
	// Lengths 3-258 (RFC 1951 section 3.2.5): symbols 257-264 have no extra
	// bits, then each group of four has one more, up to 284; 285 is 258.
	length := uint32(3)
	for sym := 257; sym < 285; sym++ {
		extra := uint32(0)
		if sym >= 265 {
			extra = uint32(sym-261) / 4
		}
		litlenSymbols[sym] = length<<entryValueShift | extra
		length += 1 << extra
	}
	litlenSymbols[285] = maxMatchLength << entryValueShift
	litlenSymbols[286] = entryInvalid
	litlenSymbols[287] = entryInvalid

	// Distances 1-32768: symbols 0-3 have no extra bits, then each pair has
	// one more, up to 29.
	dist := uint32(1)
	for sym := range 30 {
		extra := uint32(0)
		if sym >= 4 {
			extra = uint32(sym-2) / 2
		}
		distSymbols[sym] = dist<<entryValueShift | extra
		dist += 1 << extra
	}
	distSymbols[30] = entryInvalid
	distSymbols[31] = entryInvalid

	for sym := range numPrecodeSymbols {
		precodeSymbols[sym] = uint32(sym) << entryValueShift
	}

	var lengths [numLitlenSymbols]uint8
	for sym := range lengths {
		switch {
		case sym < 144:
			lengths[sym] = 8
		case sym < 256:
			lengths[sym] = 9
		case sym < 280:
			lengths[sym] = 7
		default:
			lengths[sym] = 8
		}
	}
	if !buildTable(fixedTables.litlen[:], litlenTableBits, lengths[:], litlenSymbols[:]) {
		panic("inflate: fixed literal/length code rejected")
	}
	for sym := range numDistSymbols {
		lengths[sym] = 5
	}
	if !buildTable(fixedTables.dist[:], distTableBits, lengths[:numDistSymbols], distSymbols[:]) {
		panic("inflate: fixed distance code rejected")
	}
}

// buildTable fills table with the decode table (see the layout above) of the
// canonical Huffman code that lengths, indexed by symbol, describe (RFC 1951
// section 3.2.2). symbols holds each symbol's entry without its code length.
//
// It reports whether compress/flate would accept the code, mirroring its
// huffmanDecoder.init: a code must be complete (every bit sequence starts
// some code) and not over-subscribed, except that it may be empty (no
// symbol has a length) or have a single code of length 1, which zlib also
// accepts. Bits that start no code in those two decode to entryInvalid, so
// that using them is an error, as it is for compress/flate.
func buildTable(table []uint32, mainBits uint, lengths []uint8, symbols []uint32) bool {
	var count [maxCodeLength + 1]int
	for _, n := range lengths {
		count[n]++
	}
	count[0] = 0
	maxLen := 0
	for n := maxCodeLength; n > 0; n-- {
		if count[n] != 0 {
			maxLen = n
			break
		}
	}

	// unused counts the bit sequences of the current length that no code
	// starts: Kraft's inequality, one length at a time.
	unused := 1
	for n := 1; n <= maxLen; n++ {
		unused = unused<<1 - count[n]
		if unused < 0 {
			return false // over-subscribed
		}
	}
	mainSize := 1 << mainBits
	if unused != 0 {
		singleCode := maxLen == 1 && count[1] == 1
		if maxLen != 0 && !singleCode {
			return false // incomplete
		}
		for i := range table[:mainSize] {
			table[i] = entryInvalid
		}
		if maxLen == 0 {
			return true
		}
	}

	// Sort the symbols by code length, then by value: canonical order.
	var offset [maxCodeLength + 2]int
	for n := 1; n <= maxCodeLength; n++ {
		offset[n+1] = offset[n] + count[n]
	}
	var sorted [numLitlenSymbols]uint16
	for sym, n := range lengths {
		if n != 0 {
			sorted[offset[n]] = uint16(sym)
			offset[n]++
		}
	}

	// Assign codes in canonical order. A code's bits go into the table
	// reversed, since the decoder sees its first bit as the least
	// significant. Codes that share their first mainBits bits are
	// consecutive in canonical order, so one subtable is open at a time.
	remaining := count // codes of each length not yet placed
	code := 0          // the next code, most significant bit first
	next := 0          // index into sorted
	subStart, subBits := 0, uint(0)
	subPrefix := -1    // the main-table index that links to the open subtable
	subEnd := mainSize // where the next subtable goes
	for n := 1; n <= maxLen; n++ {
		for ; remaining[n] > 0; remaining[n]-- {
			sym := sorted[next]
			next++
			reversed := int(bits.Reverse16(uint16(code)) >> (16 - n))
			code++
			if uint(n) <= mainBits {
				entry := symbols[sym] + uint32(n)<<8 + uint32(n)
				for i := reversed; i < mainSize; i += 1 << n {
					table[i] = entry
				}
				continue
			}
			prefix := reversed & (mainSize - 1)
			if prefix != subPrefix {
				// The subtable needs room for every remaining code with
				// this prefix; as in zlib's inflate_table, grow it until
				// the codes of some length fill it.
				subBits = uint(n) - mainBits
				room := 1 << subBits
				for {
					room -= remaining[mainBits+subBits]
					if room <= 0 || int(mainBits+subBits) == maxLen {
						break
					}
					subBits++
					room <<= 1
				}
				subStart = subEnd
				subEnd += 1 << subBits
				subPrefix = prefix
				table[prefix] = entryExceptional | entryLink | uint32(subStart)<<entryValueShift | uint32(subBits)<<8 | uint32(mainBits)
			}
			subLen := uint(n) - mainBits
			entry := symbols[sym] + uint32(subLen)<<8 + uint32(subLen)
			for i := reversed >> mainBits; i < 1<<subBits; i += 1 << subLen {
				table[subStart+i] = entry
			}
		}
		code <<= 1
	}
	return true
}
