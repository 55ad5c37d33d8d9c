package inflate

import (
	"bytes"
	"hash/adler32"
	"math/rand/v2"
	"testing"
)

func TestAdler32(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	check := func(name string, p []byte) {
		t.Helper()
		want := adler32.Checksum(p)
		if got := adler32Update(1, p); got != want {
			t.Fatalf("%s, %d bytes: %08x, hash/adler32 %08x", name, len(p), got, want)
		}
		// In pieces, as the reader sums its output.
		sum := uint32(1)
		for rest := p; len(rest) > 0; {
			n := min(len(rest), rng.IntN(300))
			sum = adler32Update(sum, rest[:n])
			rest = rest[n:]
		}
		if sum != want {
			t.Fatalf("%s, %d bytes in pieces: %08x, hash/adler32 %08x", name, len(p), sum, want)
		}
	}
	for n := range 1000 {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		check("random", p)
		// All 0xff bytes fill the lanes and sums the most.
		check("0xff", bytes.Repeat([]byte{0xff}, n))
	}
	// Past the reduction interval.
	check("0xff", bytes.Repeat([]byte{0xff}, 3*adlerReduceEvery+77))
}

func BenchmarkAdler32(b *testing.B) {
	// A decode area's worth, in cache as it is when the reader sums it.
	p := make([]byte, decodeAreaSize)
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	b.Run("impl=hash-adler32", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			adler32.Checksum(p)
		}
	})
	b.Run("impl=inflate", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			adler32Update(1, p)
		}
	})
}
