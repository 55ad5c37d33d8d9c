package inflate

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomCompleteCode returns code lengths for numSymbols symbols, codes
// of some of which make a complete code no longer than 15 bits. It grows
// a random binary tree, mostly by splitting its deepest leaves, so that
// there are many long codes, which need subtables.
func randomCompleteCode(rng *rand.Rand, numSymbols int) []uint8 {
	leaves := []uint8{0} // depths
	numCodes := 1 + rng.IntN(numSymbols)
	for len(leaves) < numCodes {
		i := rng.IntN(len(leaves))
		if rng.IntN(4) != 0 {
			for j, depth := range leaves {
				if depth > leaves[i] && depth < maxCodeLength {
					i = j
				}
			}
		}
		if leaves[i] == maxCodeLength {
			continue
		}
		leaves[i]++
		leaves = append(leaves, leaves[i])
	}
	if numCodes == 1 {
		leaves[0] = 1 // the single-code code compress/flate accepts
	}
	lengths := make([]uint8, numSymbols)
	for i, sym := range rng.Perm(numSymbols)[:numCodes] {
		lengths[sym] = leaves[i]
	}
	return lengths
}

// TestBuildTable decodes every code of random complete codes through the
// tables buildTable makes, and checks that the subtables fit in the space
// zlib's enough.c computes for the worst case, which the table sizes rely
// on.
func TestBuildTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var symbols [numLitlenSymbols]uint32
	for sym := range symbols {
		symbols[sym] = uint32(sym) << entryValueShift
	}
	for _, code := range []struct {
		name       string
		numSymbols int
		mainBits   uint
		enough     int // zlib's enough.c, for codes up to 15 bits
		tableSize  int
	}{
		{"literal/length", maxLitlenCodes, litlenTableBits, 2342, litlenTableSize},
		{"distance", maxDistCodes, distTableBits, 402, distTableSize},
	} {
		if code.enough > code.tableSize {
			t.Fatalf("%s table of %d entries is smaller than %d", code.name, code.tableSize, code.enough)
		}
		for range 3000 {
			lengths := randomCompleteCode(rng, code.numSymbols)
			// Every entry the table uses starts out invalid: one left
			// so is a hole in the table.
			table := make([]uint32, code.tableSize)
			for i := range table {
				table[i] = entryInvalid
			}
			if !buildTable(table, code.mainBits, lengths, symbols[:]) {
				t.Fatalf("%s code %v rejected", code.name, lengths)
			}
			used := 1 << code.mainBits
			codes := canonicalCodes(lengths)
			for sym, n := range lengths {
				if n == 0 {
					continue
				}
				reversed := uint32(bits.Reverse16(uint16(codes[sym])) >> (16 - n))
				entry := table[reversed&(1<<code.mainBits-1)]
				consumed := uint(0)
				if entry&entryLink != 0 {
					consumed = uint(entry & entryConsumeMask)
					subBits := entry >> 8 & entryLengthMask
					index := entry>>entryValueShift + reversed>>code.mainBits&(1<<subBits-1)
					used = max(used, int(entry>>entryValueShift)+1<<subBits)
					entry = table[index]
				}
				consumed += uint(entry & entryConsumeMask)
				if entry&entryExceptional != 0 || int(entry>>entryValueShift) != sym || consumed != uint(n) {
					t.Fatalf("%s code %v: symbol %d's %d-bit code decodes to entry %#x", code.name, lengths, sym, n, entry)
				}
			}
			if used > code.enough {
				t.Fatalf("%s code %v uses %d table entries, more than %d", code.name, lengths, used, code.enough)
			}
			// A single code of length 1 leaves half the table to
			// invalid input, as it should.
			if slices.Max(lengths) > 1 {
				for i, entry := range table[:used] {
					if entry == entryInvalid {
						t.Fatalf("%s code %v leaves entry %d unset", code.name, lengths, i)
					}
				}
			}
		}
	}
}
