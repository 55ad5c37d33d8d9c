package inflate

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPNGStreams(t *testing.T) {
	streams := pngStreams(t, testing.Short())
	var r Reader
	for i, s := range streams {
		if !accepts(s.data) {
			// image/png's invalid-*.png test files include a truncated
			// stream; parity covers them all the same.
			t.Logf("%s: compress/zlib rejects it", s.name)
		}
		checkParity(t, &r, s.name, s.data, i)
	}
}

func TestSyntheticStreams(t *testing.T) {
	var r Reader
	for _, s := range syntheticStreams() {
		if !accepts(s.data) {
			t.Fatalf("%s: compress/zlib rejects it", s.name)
		}
		for first := range readSizes {
			checkParity(t, &r, s.name, s.data, first)
		}
	}
}

// mutationStreams are the streams small enough to decode many times over:
// the synthetic ones, the PNG suite's, and unless short the wallpapers'
// small previews.
func mutationStreams(t *testing.T) []stream {
	streams := syntheticStreams()
	for _, s := range pngStreams(t, testing.Short()) {
		if len(s.data) < 150_000 {
			streams = append(streams, s)
		}
	}
	return streams
}

// mutationPoints returns where to cut or damage a stream of n bytes: every
// byte of a short stream, else the header, the end, and points spread over
// the rest.
func mutationPoints(n int, rng *rand.Rand) []int {
	spread := 150
	if n > 50_000 {
		spread = 40
	}
	if testing.Short() {
		spread /= 4
	}
	if n <= spread+64 {
		points := make([]int, n)
		for i := range points {
			points[i] = i
		}
		return points
	}
	var points []int
	for i := range 24 {
		points = append(points, i, n-1-i)
	}
	for range spread {
		points = append(points, rng.IntN(n))
	}
	return points
}

func TestTruncated(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var r Reader
	for _, s := range mutationStreams(t) {
		for i, n := range mutationPoints(len(s.data), rng) {
			checkParity(t, &r, s.name+" truncated", s.data[:n], i)
		}
	}
}

func TestCorrupted(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var r Reader
	for _, s := range mutationStreams(t) {
		damaged := slices.Clone(s.data)
		for i, n := range mutationPoints(len(s.data), rng) {
			// One bit, which may leave the stream valid up to the checksum,
			// or a whole byte.
			mask := byte(1) << rng.IntN(8)
			if i%2 == 1 {
				mask = byte(1 + rng.IntN(255))
			}
			damaged[n] ^= mask
			checkParity(t, &r, s.name+" damaged", damaged, i)
			damaged[n] = s.data[n]
		}
	}
}

func TestTrailingBytes(t *testing.T) {
	var r Reader
	for _, s := range syntheticStreams() {
		for _, trailer := range [][]byte{{0}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, bytes.Repeat([]byte{0xff}, 100)} {
			src := slices.Concat(s.data, trailer)
			checkParity(t, &r, s.name+" with trailing bytes", src, len(trailer))
			if got := inflate(&r, src, 0); got.err != nil || got.used != len(s.data) {
				t.Fatalf("%s with %d trailing bytes: used %d of %d, %v", s.name, len(trailer), got.used, len(s.data), got.err)
			}
		}
	}
}

// TestReset reuses one Reader across streams, including after stopping part
// way through one and after an error.
func TestReset(t *testing.T) {
	streams := syntheticStreams()
	want := make([]result, len(streams))
	for i, s := range streams {
		want[i] = stdlibInflate(s.data)
	}
	var r Reader
	buf := make([]byte, 1000)
	for i, s := range streams {
		// Part of this stream, then damaged input, then the next stream.
		r.Reset(s.data)
		_, _ = r.Read(buf)
		r.Reset(s.data[:len(s.data)/2])
		_, _ = io.ReadAll(&r)
		next := (i + 1) % len(streams)
		got := inflate(&r, streams[next].data, i)
		if got.err != nil || !bytes.Equal(got.out, want[next].out) || got.used != want[next].used {
			t.Fatalf("%s after reuse: %d bytes, used %d, %v; want %d bytes, used %d",
				streams[next].name, len(got.out), got.used, got.err, len(want[next].out), want[next].used)
		}
	}
}

// TestBoundedMemory checks that decoding allocates nothing once the Reader
// exists, however long the output, so that its memory is the fixed buffer.
func TestBoundedMemory(t *testing.T) {
	var src []byte
	for _, s := range syntheticStreams() {
		if len(src) < len(s.data) && accepts(s.data) {
			src = s.data
		}
	}
	r := NewReader(src)
	buf := make([]byte, 4096)
	allocs := testing.AllocsPerRun(3, func() {
		r.Reset(src)
		for {
			_, err := r.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("decoding allocates %v times", allocs)
	}
	if len(r.buf) != bufSize {
		t.Errorf("buffer grew to %d bytes", len(r.buf))
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"bad header", []byte{0x78, 0x9d, 3, 0}, ErrHeader},
		{"preset dictionary", []byte{0x78, 0xbb, 0, 0, 0, 2, 3, 0}, ErrDictionary},
		{"bad checksum", []byte{0x78, 0x9c, 3, 0, 0, 0, 0, 2}, ErrChecksum},
		{"truncated checksum", []byte{0x78, 0x9c, 3, 0, 0, 0, 0}, io.ErrUnexpectedEOF},
	} {
		_, err := io.ReadAll(NewReader(tc.src))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	_, err := io.ReadAll(NewReader([]byte{0x78, 0x9c, 7, 0}))
	var corrupt *CorruptInputError
	if !errors.As(err, &corrupt) {
		t.Errorf("reserved block type: %v, want a CorruptInputError", err)
	}
}

// TestReadAfterEnd checks that Read keeps returning its result.
func TestReadAfterEnd(t *testing.T) {
	s := syntheticStreams()[len(syntheticStreams())-1]
	r := NewReader(s.data)
	if _, err := io.ReadAll(r); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Fatalf("Read after the end: %d, %v", n, err)
		}
	}
	if n, err := r.Read(nil); n != 0 || err != io.EOF {
		t.Fatalf("empty Read after the end: %d, %v", n, err)
	}
}
