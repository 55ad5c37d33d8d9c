package inflate

import "encoding/binary"

const adlerModulus = 65521 // the largest prime below 1<<16, RFC 1950 section 8.2

// adlerReduceEvery is how many bytes adler32Update sums before reducing
// modulo adlerModulus: with 64-bit sums, s2 stays below 2**49 after 1 MiB.
const adlerReduceEvery = 1 << 20

// adlerBlockWords is how many 8-byte words adler32Update sums in 16-bit
// lanes before folding them: p's lanes (see adler32Update) reach
// 255*k*(k+1)/2 after k words, which must stay below 1<<16.
const adlerBlockWords = 16

const evenBytes = 0x00ff_00ff_00ff_00ff

// adler32Update returns the Adler-32 checksum adler (RFC 1950 section 8.2)
// updated with p. It equals hash/adler32's, faster.
//
// Adler-32 keeps s1, the sum of the bytes, and s2, the sum of s1 after each
// byte. Summed one byte at a time that is a chain of dependent additions;
// instead, for a block of n bytes x[0..n),
//
//	s1' = s1 + sum x[i]
//	s2' = s2 + n*s1 + sum (n-i)*x[i]
//
// and the weighted sum splits by a byte's position l in its 8-byte word j,
// i = 8j+l, into 8*sum (k-j)*x[j,l] - sum l*x[j,l] over k words. Each word's
// bytes are spread into 16-bit lanes of two uint64s (even and odd bytes);
// v sums the words lane by lane and p sums v after each word, which is
// sum (k-j)*x[j,l] per lane. Eight bytes cost seven instructions, and the
// lanes are folded into s1 and s2 once per block.
func adler32Update(adler uint32, p []byte) uint32 {
	s1, s2 := uint64(adler&0xffff), uint64(adler>>16)
	for len(p) > 0 {
		chunk := p[:min(len(p), adlerReduceEvery)]
		p = p[len(chunk):]
		for len(chunk) >= 8 {
			words := min(len(chunk)/8, adlerBlockWords)
			var vEven, vOdd, pEven, pOdd uint64
			if words == adlerBlockWords {
				vEven, vOdd, pEven, pOdd = adlerBlock((*[8 * adlerBlockWords]byte)(chunk))
			} else {
				for i := range words {
					w := binary.LittleEndian.Uint64(chunk[8*i:])
					vEven += w & evenBytes
					vOdd += w >> 8 & evenBytes
					pEven += vEven
					pOdd += vOdd
				}
			}
			chunk = chunk[8*words:]

			// Fold the lanes. v's lanes are at most 255*16 each, so the
			// lanes of vEven+vOdd and their (weighted) totals fit in 16
			// bits and a multiplication sums them into the top lane. p's
			// lanes are too large for that and are widened to 32 bits.
			const (
				sumLanes      = 0x0001_0001_0001_0001 // top lane: t0+t1+t2+t3
				weightedLanes = 0x0000_0001_0002_0003 // top lane: 0*t0+1*t1+2*t2+3*t3
				halves        = 0x0000_ffff_0000_ffff
			)
			v := vEven + vOdd
			sumV := v * sumLanes >> 48
			// sum l*v[l] over byte positions l = 2m (even) and 2m+1 (odd)
			weightedV := 2*(v*weightedLanes>>48) + vOdd*sumLanes>>48
			wide := pEven&halves + pEven>>16&halves + pOdd&halves + pOdd>>16&halves
			sumP := wide&0xffff_ffff + wide>>32
			s2 += uint64(words)*8*s1 + 8*sumP - weightedV
			s1 += sumV
		}
		for _, x := range chunk {
			s1 += uint64(x)
			s2 += s1
		}
		s1 %= adlerModulus
		s2 %= adlerModulus
	}
	return uint32(s2<<16 | s1)
}

// adlerBlock is adler32Update's lane sums for a full block, written out so
// that it has no loop and no bounds checks.
func adlerBlock(b *[8 * adlerBlockWords]byte) (vEven, vOdd, pEven, pOdd uint64) {
	word := func(i int) {
		w := binary.LittleEndian.Uint64(b[8*i:])
		vEven += w & evenBytes
		vOdd += w >> 8 & evenBytes
		pEven += vEven
		pOdd += vOdd
	}
	word(0)
	word(1)
	word(2)
	word(3)
	word(4)
	word(5)
	word(6)
	word(7)
	word(8)
	word(9)
	word(10)
	word(11)
	word(12)
	word(13)
	word(14)
	word(15)
	return
}
