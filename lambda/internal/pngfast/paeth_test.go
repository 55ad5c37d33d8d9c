// Copyright 2012 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package pngfast

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
)

func slowAbs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// slowPaeth is a slow but simple implementation of the Paeth function.
// It is a straight port of the sample code in the PNG spec, section 9.4.
func slowPaeth(a, b, c uint8) uint8 {
	p := int(a) + int(b) - int(c)
	pa := slowAbs(p - int(a))
	pb := slowAbs(p - int(b))
	pc := slowAbs(p - int(c))
	if pa <= pb && pa <= pc {
		return a
	} else if pb <= pc {
		return b
	}
	return c
}

// slowFilterPaeth is a slow but simple implementation of func filterPaeth.
func slowFilterPaeth(cdat, pdat []byte, bytesPerPixel int) {
	for i := 0; i < bytesPerPixel; i++ {
		cdat[i] += slowPaeth(0, pdat[i], 0)
	}
	for i := bytesPerPixel; i < len(cdat); i++ {
		cdat[i] += slowPaeth(cdat[i-bytesPerPixel], pdat[i], pdat[i-bytesPerPixel])
	}
}

// TestPaeth checks predict against the spec's sample code for every input.
func TestPaeth(t *testing.T) {
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			for c := 0; c < 256; c++ {
				got := uint8(predict(a, b, c))
				want := slowPaeth(uint8(a), uint8(b), uint8(c))
				if got != want {
					t.Errorf("a, b, c = %d, %d, %d: got %d, want %d", a, b, c, got, want)
				}
			}
		}
	}
}

func BenchmarkFilterPaeth(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, bpp := range []int{1, 3, 4} {
		cdat, pdat := make([]byte, 3840*bpp), make([]byte, 3840*bpp)
		r.Read(pdat)
		b.Run(fmt.Sprint(bpp), func(b *testing.B) {
			b.SetBytes(int64(len(cdat)))
			for i := 0; i < b.N; i++ {
				r.Read(cdat[:64])
				filterPaeth(cdat, pdat, bpp)
			}
		})
	}
}

// TestPaethDecode also covers rows that end in a partial pixel, which
// filterPaeth3 and filterPaeth4 handle apart.
func TestPaethDecode(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 8*40; i++ {
		// A row holds at least one pixel.
		bytesPerPixel := i%8 + 1
		n := bytesPerPixel + i/8
		pdat0, pdat1, pdat2 := make([]byte, n), make([]byte, n), make([]byte, n)
		cdat0, cdat1, cdat2 := make([]byte, n), make([]byte, n), make([]byte, n)
		for i := 0; i < 100; i++ {
			for j := range pdat0 {
				pdat0[j] = uint8(r.Uint32())
				cdat0[j] = uint8(r.Uint32())
			}
			copy(pdat1, pdat0)
			copy(pdat2, pdat0)
			copy(cdat1, cdat0)
			copy(cdat2, cdat0)
			filterPaeth(cdat1, pdat1, bytesPerPixel)
			slowFilterPaeth(cdat2, pdat2, bytesPerPixel)
			if !bytes.Equal(cdat1, cdat2) {
				t.Errorf("bytesPerPixel: %d\npdat0: % x\ncdat0: % x\ngot:   % x\nwant:  % x", bytesPerPixel, pdat0, cdat0, cdat1, cdat2)
				break
			}
		}
	}
}
