package inflate

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"go/build"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	kpflate "github.com/klauspost/compress/flate"
	kpzlib "github.com/klauspost/compress/zlib"
)

// A stream is a zlib stream to test or benchmark with.
type stream struct {
	name string
	data []byte
}

// wallpaperRoots hold the photographs and renders that Debian's wallpaper
// packages install (plasma-workspace-wallpapers, mate-backgrounds), where
// present.
var wallpaperRoots = []string{"/usr/share/wallpapers", "/usr/share/backgrounds"}

// pngStreams returns the IDAT streams of Go's image/png test images (the PNG
// suite among them) and, unless short, of the installed wallpapers. Files
// with the same IDAT data are listed once.
func pngStreams(t testing.TB, short bool) []stream {
	t.Helper()
	dir := filepath.Join(build.Default.GOROOT, "src", "image", "png", "testdata")
	files, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	suite, err := filepath.Glob(filepath.Join(dir, "pngsuite", "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(suite) == 0 {
		t.Fatalf("no PNG suite under %s", dir)
	}
	files = append(files, suite...)
	if !short {
		files = append(files, wallpaperFiles()...)
	}
	return idatStreams(t, files)
}

// wallpaperStreams returns the installed wallpapers' IDAT streams.
func wallpaperStreams(t testing.TB) []stream {
	t.Helper()
	return idatStreams(t, wallpaperFiles())
}

func wallpaperFiles() []string {
	var files []string
	for _, root := range wallpaperRoots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".png") {
				files = append(files, p)
			}
			return nil
		})
	}
	return files
}

func idatStreams(t testing.TB, files []string) []stream {
	t.Helper()
	var streams []stream
	seen := make(map[[32]byte]bool)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data := idat(src)
		key := sha256.Sum256(data)
		if len(data) == 0 || seen[key] {
			continue
		}
		seen[key] = true
		streams = append(streams, stream{name: f, data: data})
	}
	return streams
}

// idat returns the concatenated payloads of a PNG file's first run of
// consecutive IDAT chunks, which is the image's zlib stream, or nil.
func idat(png []byte) []byte {
	const signatureLen = 8
	var data []byte
	inRun := false
	for i := signatureLen; i+12 <= len(png); {
		n := int(binary.BigEndian.Uint32(png[i:]))
		if n < 0 || n > len(png)-i-12 {
			break
		}
		if string(png[i+4:i+8]) == "IDAT" {
			data = append(data, png[i+8:i+8+n]...)
			inRun = true
		} else if inRun {
			break
		}
		i += 12 + n
	}
	return data
}

// syntheticData is data with the statistics that exercise different parts
// of a decoder: stored blocks for random bytes, literals for text, long
// matches for runs, overlapping copies for short periods, and matches at
// the greatest distance.
func syntheticData() []stream {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}

	words := strings.Fields("the quick brown fox jumps over a lazy dog while image rows inflate into thumbnails " +
		"window distance length literal huffman code block stored fixed dynamic checksum adler zlib deflate")
	var text []byte
	for len(text) < 300_000 {
		text = append(text, words[rng.IntN(len(words))]...)
		text = append(text, " \n,."[rng.IntN(4)])
	}

	var runs []byte
	for len(runs) < 200_000 {
		runs = append(runs, bytes.Repeat([]byte{byte(rng.IntN(4))}, 1+rng.IntN(2000))...)
	}

	var periods []byte
	for len(periods) < 200_000 {
		period := random(1 + rng.IntN(8))
		for range rng.IntN(100) {
			periods = append(periods, period...)
		}
		periods = append(periods, random(rng.IntN(5))...)
	}

	window := random(maxMatchDistance)
	farMatches := slices.Concat(window, window, random(1000), window[:5000], window)

	var mixed []byte
	for _, part := range [][]byte{text[:100_000], random(50_000), runs[:100_000], periods[:100_000], farMatches} {
		mixed = append(mixed, part...)
	}

	return []stream{
		{"empty", nil},
		{"one byte", []byte{'x'}},
		{"random", random(100_000)},
		{"text", text},
		{"runs", runs},
		{"periods 1-8", periods},
		{"32 KiB distances", farMatches},
		{"mixed", mixed},
	}
}

// A compressor makes a zlib stream of data.
type compressor struct {
	name     string
	compress func(data []byte) []byte
}

var compressors = []compressor{
	stdlibLevel(flate.HuffmanOnly),
	stdlibLevel(flate.NoCompression),
	stdlibLevel(flate.BestSpeed),
	stdlibLevel(flate.DefaultCompression),
	stdlibLevel(flate.BestCompression),
	{"compress/zlib level 6 with flushes", func(data []byte) []byte {
		// Each Flush ends a block with an empty stored block.
		var buf bytes.Buffer
		w, _ := zlib.NewWriterLevel(&buf, 6)
		for chunk := range slices.Chunk(data, 10_000) {
			_, _ = w.Write(chunk)
			_ = w.Flush()
		}
		_ = w.Close()
		return buf.Bytes()
	}},
	klauspostLevel(kpflate.HuffmanOnly),
	klauspostLevel(1),
	klauspostLevel(3),
	klauspostLevel(5),
	klauspostLevel(7),
	klauspostLevel(9),
}

func stdlibLevel(level int) compressor {
	return compressor{fmt.Sprintf("compress/zlib level %d", level), func(data []byte) []byte {
		var buf bytes.Buffer
		w, err := zlib.NewWriterLevel(&buf, level)
		if err != nil {
			panic(err)
		}
		_, _ = w.Write(data)
		_ = w.Close()
		return buf.Bytes()
	}}
}

func klauspostLevel(level int) compressor {
	return compressor{fmt.Sprintf("klauspost zlib level %d", level), func(data []byte) []byte {
		var buf bytes.Buffer
		w, err := kpzlib.NewWriterLevel(&buf, level)
		if err != nil {
			panic(err)
		}
		_, _ = w.Write(data)
		_ = w.Close()
		return buf.Bytes()
	}}
}

// syntheticStreams compresses every syntheticData with every compressor.
var syntheticStreams = sync.OnceValue(func() []stream {
	var streams []stream
	for _, d := range syntheticData() {
		for _, c := range compressors {
			streams = append(streams, stream{d.name + ", " + c.name, c.compress(d.data)})
		}
	}
	return streams
})

// result is what decoding a stream came to.
type result struct {
	out  []byte
	used int // bytes of input consumed, for accepted streams
	err  error
}

// stdlibInflate decodes src with compress/zlib.
func stdlibInflate(src []byte) result {
	in := bytes.NewReader(src)
	zr, err := zlib.NewReader(in)
	if err != nil {
		return result{err: err}
	}
	out, err := io.ReadAll(zr)
	return result{out: out, used: len(src) - in.Len(), err: err}
}

// readSizes are the buffer sizes inflate reads with in turn: odd sizes, to
// cut the output anywhere, and some as large as the decode area.
var readSizes = []int{1, 7, 300, 4093, 1, 65_537, 13, 250_000}

// inflate decodes src with r (reset to src) or a new Reader, reading with
// buffers of readSizes in turn starting at readSizes[first].
func inflate(r *Reader, src []byte, first int) result {
	if r == nil {
		r = NewReader(src)
	} else {
		r.Reset(src)
	}
	var out []byte
	buf := make([]byte, slices.Max(readSizes))
	for i := first; ; i++ {
		n, err := r.Read(buf[:readSizes[i%len(readSizes)]])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return result{out: out, used: r.InputUsed()}
		}
		if err != nil {
			return result{out: out, err: err}
		}
	}
}

// checkParity fails unless the Reader and compress/zlib agree on src: both
// reject it, or both accept it with the same output from the same number of
// input bytes.
func checkParity(t testing.TB, r *Reader, name string, src []byte, first int) {
	t.Helper()
	want := stdlibInflate(src)
	got := inflate(r, src, first)
	switch {
	case (got.err == nil) != (want.err == nil):
		t.Fatalf("%s: error %v, compress/zlib's %v", name, got.err, want.err)
	case want.err != nil:
	case !bytes.Equal(got.out, want.out):
		t.Fatalf("%s: %d bytes of output differ from compress/zlib's %d from byte %d", name,
			len(got.out), len(want.out), mismatch(got.out, want.out))
	case got.used != want.used:
		t.Fatalf("%s: used %d bytes of input, compress/zlib %d", name, got.used, want.used)
	}
}

func mismatch(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// accepts reports whether compress/zlib decodes src without error.
func accepts(src []byte) bool {
	return stdlibInflate(src).err == nil
}
