package inflate

import (
	"encoding/binary"
	"io"
)

// decodeHuffman decodes the current Huffman block's symbols (RFC 1951 section
// 3.2.5) into buf until the block ends or the decode area is full.
//
// The loop keeps the bit buffer and positions in locals, which the compiler
// keeps in registers as long as the loop calls no function (Go's calling
// convention saves no registers across a call), so the refill and the match
// copy are written out in place. The bit buffer holds at least 56 bits after
// a refill, which covers a whole match: the longest literal/length code
// with its extra bits and the longest distance code with its extra bits
// take 15+5+15+13 = 48 bits.
//
// The next symbol's table entry is looked up before the work on the current
// one is finished, so that the load overlaps that work: before a match's
// copy, and before the refill after a run of literals.
func (r *Reader) decodeHuffman() error {
	var (
		src    = r.src
		out    = r.buf[:bufSize]
		tables = r.tables
		b      = r.bitbuf
		nb     = r.nbits
		pos    = r.pos
		wpos   = r.wpos
		ok     bool
		// problem says what is wrong with invalid input.
		problem string
	)
	if b, nb, pos, ok = refill(src, b, nb, pos); !ok {
		return io.ErrUnexpectedEOF
	}
	entry := tables.litlen[b&(1<<litlenTableBits-1)]

	// (Compared as unsigned, wpos is known not to be negative, which spares
	// the first literal's store a bounds check.)
	for uint(wpos) < fillLimit {
		// Here the bit buffer holds at least 56 bits and entry is the next
		// symbol's main-table entry.
		if entry&entryLiteral != 0 {
			// A literal in the main table has a code of at most 11 bits,
			// so after three of them 23 bits are left: enough to look up
			// the next entry before the refill.
			n := uint(entry & entryConsumeMask)
			b >>= n
			nb -= n
			out[wpos] = byte(entry >> entryValueShift)
			wpos++
			entry = tables.litlen[b&(1<<litlenTableBits-1)]
			if entry&entryLiteral != 0 {
				n := uint(entry & entryConsumeMask)
				b >>= n
				nb -= n
				out[wpos] = byte(entry >> entryValueShift)
				wpos++
				entry = tables.litlen[b&(1<<litlenTableBits-1)]
				if entry&entryLiteral != 0 {
					n := uint(entry & entryConsumeMask)
					b >>= n
					nb -= n
					out[wpos] = byte(entry >> entryValueShift)
					wpos++
					entry = tables.litlen[b&(1<<litlenTableBits-1)]
				}
			}
			// A refill only adds bits above those entry was looked up with.
			if pos <= len(src)-8 {
				b |= binary.LittleEndian.Uint64(src[pos:]) << (nb & 63)
				pos += int((63 - nb) >> 3)
				nb |= 56
			} else if b, nb, pos, ok = refillSlow(src, b, nb, pos); !ok {
				break
			}
			if entry&entryLiteral != 0 {
				continue
			}
		}

		if entry&entryExceptional != 0 {
			if entry&entryLink != 0 {
				b >>= litlenTableBits
				nb -= litlenTableBits
				subBits := entry >> 8 & entryLengthMask
				entry = tables.litlen[(entry>>entryValueShift+uint32(b)&(1<<subBits-1))&(litlenTableSize-1)]
			}
			if entry&entryLiteral != 0 {
				// A literal with a long code, from a subtable.
				n := uint(entry & entryConsumeMask)
				b >>= n
				nb -= n
				out[wpos] = byte(entry >> entryValueShift)
				wpos++
				if pos <= len(src)-8 {
					b |= binary.LittleEndian.Uint64(src[pos:]) << (nb & 63)
					pos += int((63 - nb) >> 3)
					nb |= 56
				} else if b, nb, pos, ok = refillSlow(src, b, nb, pos); !ok {
					break
				}
				entry = tables.litlen[b&(1<<litlenTableBits-1)]
				continue
			}
			if entry&entryEndOfBlock != 0 {
				n := uint(entry & entryConsumeMask)
				b >>= n
				nb -= n
				r.endBlock()
				break
			}
			if entry&entryExceptional != 0 {
				problem = problemInvalidSymbol
				break
			}
			// A length with a long code, from a subtable.
		}

		// A length: its base, plus the extra bits after its code.
		saved := b
		n := uint(entry & entryConsumeMask)
		b >>= n
		nb -= n
		length := int(entry>>entryValueShift) + int(saved&(1<<n-1)>>(entry>>8&entryLengthMask))

		entry = tables.dist[b&(1<<distTableBits-1)]
		if entry&entryExceptional != 0 {
			if entry&entryLink != 0 {
				b >>= distTableBits
				nb -= distTableBits
				subBits := entry >> 8 & entryLengthMask
				entry = tables.dist[(entry>>entryValueShift+uint32(b)&(1<<subBits-1))&(distTableSize-1)]
			}
			if entry&entryExceptional != 0 {
				problem = problemInvalidSymbol
				break
			}
		}
		saved = b
		n = uint(entry & entryConsumeMask)
		b >>= n
		nb -= n
		distance := int(entry>>entryValueShift) + int(saved&(1<<n-1)>>(entry>>8&entryLengthMask))

		// Without a preset dictionary, buf[:wpos] is all the output
		// there is or, once the window has slid, a full window of it.
		if distance > wpos {
			problem = problemDistanceTooFar
			break
		}

		if pos <= len(src)-8 {
			b |= binary.LittleEndian.Uint64(src[pos:]) << (nb & 63)
			pos += int((63 - nb) >> 3)
			nb |= 56
		} else if b, nb, pos, ok = refillSlow(src, b, nb, pos); !ok {
			break
		}
		entry = tables.litlen[b&(1<<litlenTableBits-1)]

		// Copy the match, RFC 1951 section 3.2.3: where the distance is
		// shorter than the length, the copy repeats the bytes it has
		// just written. The word-at-a-time copies may store up to
		// copyOverrun bytes past the match, which later output
		// overwrites.
		start := wpos - distance
		switch {
		case distance >= 8:
			// Each 8-byte step reads only bytes written before it. Most
			// matches are short: copy 32 bytes before testing the length.
			to, from := out[wpos:wpos+32], out[start:start+32]
			binary.LittleEndian.PutUint64(to, binary.LittleEndian.Uint64(from))
			binary.LittleEndian.PutUint64(to[8:], binary.LittleEndian.Uint64(from[8:]))
			binary.LittleEndian.PutUint64(to[16:], binary.LittleEndian.Uint64(from[16:]))
			binary.LittleEndian.PutUint64(to[24:], binary.LittleEndian.Uint64(from[24:]))
			for i := 32; i < length; i += 16 {
				to, from := out[wpos+i:wpos+i+16], out[start+i:start+i+16]
				binary.LittleEndian.PutUint64(to, binary.LittleEndian.Uint64(from))
				binary.LittleEndian.PutUint64(to[8:], binary.LittleEndian.Uint64(from[8:]))
			}
		case distance == 1:
			v := uint64(out[start]) * 0x0101010101010101
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(out[wpos+i:], v)
			}
		default:
			for i := range length {
				out[wpos+i] = out[start+i]
			}
		}
		wpos += length
	}
	r.bitbuf, r.nbits, r.pos, r.wpos = b, nb, pos, wpos
	switch {
	case !ok:
		return io.ErrUnexpectedEOF
	case problem != "":
		return r.corrupt(problem)
	}
	return nil
}
