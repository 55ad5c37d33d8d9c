package inflate

import (
	"encoding/binary"
	"io"
)

// decodeHuffman decodes the current Huffman block's symbols (RFC 1951 section
// 3.2.5) into buf until the block ends or the decode area is full.
//
// The loop keeps the bit buffer and positions in locals, which the compiler
// keeps in registers, and refills the bit buffer once per iteration: 56 bits
// cover the longest literal/length code with its extra bits and the longest
// distance code with its extra bits (15+5+15+13 = 48), so a match never
// waits for input. Literals are the common case in image data; up to three
// are decoded per refill while their codes are short enough.
func (r *Reader) decodeHuffman() error {
	var (
		src    = r.src
		out    = r.buf[:bufSize]
		litlen = r.litlen
		dist   = r.dist
		b      = r.bitbuf
		nb     = r.nbits
		pos    = r.pos
		wpos   = r.wpos
		ok     = true
		// problem says what is wrong with invalid input.
		problem string
	)
	for wpos < fillLimit {
		if b, nb, pos, ok = refill(src, b, nb, pos); !ok {
			break
		}
		entry := litlen[b&(1<<litlenTableBits-1)]
		if entry&entryLiteral != 0 {
			// After a refill there are at least 56 bits: room for three
			// literal codes, and the fourth entry's lookup uses 11 bits
			// that are all present.
			n := uint(entry & entryConsumeMask)
			b >>= n
			nb -= n
			out[wpos] = byte(entry >> entryValueShift)
			wpos++
			entry = litlen[b&(1<<litlenTableBits-1)]
			if entry&entryLiteral != 0 {
				n := uint(entry & entryConsumeMask)
				b >>= n
				nb -= n
				out[wpos] = byte(entry >> entryValueShift)
				wpos++
				entry = litlen[b&(1<<litlenTableBits-1)]
				if entry&entryLiteral != 0 {
					n := uint(entry & entryConsumeMask)
					b >>= n
					nb -= n
					out[wpos] = byte(entry >> entryValueShift)
					wpos++
					continue
				}
			}
			// The entry is still valid after a refill, which only adds bits
			// above the ones it was looked up with.
			if b, nb, pos, ok = refill(src, b, nb, pos); !ok {
				break
			}
		}

		if entry&entryExceptional != 0 {
			if entry&entryLink != 0 {
				b >>= litlenTableBits
				nb -= litlenTableBits
				subBits := entry >> 8 & entryLengthMask
				entry = litlen[(entry>>entryValueShift+uint32(b)&(1<<subBits-1))&(litlenTableSize-1)]
				if entry&entryLiteral != 0 {
					n := uint(entry & entryConsumeMask)
					b >>= n
					nb -= n
					out[wpos] = byte(entry >> entryValueShift)
					wpos++
					continue
				}
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
		}

		// A length: its base, plus the extra bits that follow its code.
		saved := b
		n := uint(entry & entryConsumeMask)
		b >>= n
		nb -= n
		length := int(entry>>entryValueShift) + int(saved&(1<<n-1)>>(entry>>8&entryLengthMask))

		entry = dist[b&(1<<distTableBits-1)]
		if entry&entryExceptional != 0 {
			if entry&entryLink != 0 {
				b >>= distTableBits
				nb -= distTableBits
				subBits := entry >> 8 & entryLengthMask
				entry = dist[(entry>>entryValueShift+uint32(b)&(1<<subBits-1))&(distTableSize-1)]
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

		// Without a preset dictionary, buf[:wpos] is all the output there is
		// or, once the window has slid, at least a full window of it.
		if distance > wpos {
			problem = problemDistanceTooFar
			break
		}
		copyMatch(out, wpos, distance, length)
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

// copyMatch copies length bytes from distance bytes back to out[at:], RFC
// 1951 section 3.2.3: when the distance is shorter than the length, the copy
// repeats the bytes it has just written. It may store up to copyOverrun bytes
// past the match; they are overwritten before anything reads them.
func copyMatch(out []byte, at, distance, length int) {
	from := at - distance
	switch {
	case distance >= 8:
		// Each 8-byte step reads only bytes written before it.
		for i := 0; i < length; i += 8 {
			binary.LittleEndian.PutUint64(out[at+i:], binary.LittleEndian.Uint64(out[from+i:]))
		}
	case distance == 1:
		v := uint64(out[from]) * 0x0101010101010101
		for i := 0; i < length; i += 8 {
			binary.LittleEndian.PutUint64(out[at+i:], v)
		}
	default:
		for i := range length {
			out[at+i] = out[from+i]
		}
	}
}
