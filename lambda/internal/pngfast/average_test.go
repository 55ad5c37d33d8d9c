package pngfast

import (
	"bytes"
	"math/rand"
	"testing"
)

// slowFilterAverage is image/png's Average filter.
func slowFilterAverage(cdat, pdat []byte, bytesPerPixel int) {
	for i := 0; i < bytesPerPixel; i++ {
		cdat[i] += pdat[i] / 2
	}
	for i := bytesPerPixel; i < len(cdat); i++ {
		cdat[i] += uint8((int(cdat[i-bytesPerPixel]) + int(pdat[i])) / 2)
	}
}

func TestFilterAverage(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 8*40; i++ {
		// A row holds at least one pixel.
		bytesPerPixel := i%8 + 1
		n := bytesPerPixel + i/8
		pdat, cdat := make([]byte, n), make([]byte, n)
		for k := 0; k < 100; k++ {
			r.Read(pdat)
			r.Read(cdat)
			got, want := bytes.Clone(cdat), bytes.Clone(cdat)
			filterAverage(got, pdat, bytesPerPixel)
			slowFilterAverage(want, pdat, bytesPerPixel)
			if !bytes.Equal(got, want) {
				t.Fatalf("bytesPerPixel %d\npdat: % x\ncdat: % x\ngot:  % x\nwant: % x", bytesPerPixel, pdat, cdat, got, want)
			}
		}
	}
}
