package inflate

import (
	"bytes"
	"compress/zlib"
	"io"
	"testing"

	kpzlib "github.com/klauspost/compress/zlib"
)

// BenchmarkInflate inflates the installed wallpapers' IDAT streams with
// compress/zlib, klauspost/compress/zlib and this package, reading a
// 3840-pixel RGBA row at a time as pngfast does.
func BenchmarkInflate(b *testing.B) {
	streams := wallpaperStreams(b)
	if len(streams) == 0 {
		b.Skip("no wallpapers installed; apt-get install plasma-workspace-wallpapers mate-backgrounds")
	}
	var size int64
	for _, s := range streams {
		got := inflate(nil, s.data, 0)
		if got.err != nil {
			b.Fatalf("%s: %v", s.name, got.err)
		}
		size += int64(len(got.out))
	}
	row := make([]byte, 3840*4+1)
	drain := func(b *testing.B, r io.Reader) {
		for {
			_, err := r.Read(row)
			if err == io.EOF {
				return
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}

	b.Run("decoder=compress-zlib", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, s := range streams {
				zr, err := zlib.NewReader(bytes.NewReader(s.data))
				if err != nil {
					b.Fatal(err)
				}
				drain(b, zr)
			}
		}
	})
	b.Run("decoder=klauspost", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, s := range streams {
				zr, err := kpzlib.NewReader(bytes.NewReader(s.data))
				if err != nil {
					b.Fatal(err)
				}
				drain(b, zr)
			}
		}
	})
	b.Run("decoder=inflate", func(b *testing.B) {
		b.SetBytes(size)
		r := NewReader(nil)
		for b.Loop() {
			for _, s := range streams {
				r.Reset(s.data)
				drain(b, r)
			}
		}
	})
}
