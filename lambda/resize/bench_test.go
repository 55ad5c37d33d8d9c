package resize

import (
	"os"
	"testing"
)

// BenchmarkThumbnail times the whole path per image, for tuning decodeGap and
// reduceGap; the comparison with Pillow and vipsthumbnail is make bench.
//
//	go test ./lambda/resize -run '^$' -bench Thumbnail -benchmem
func BenchmarkThumbnail(b *testing.B) {
	inputs := []struct {
		name string
		data []byte
	}{
		{"synthetic-jpeg-1600x1200", encJPEG(b, noise(1600, 1200), 90)},
		{"synthetic-png-1600x1200", encPNG(b, noise(1600, 1200))},
	}
	for _, p := range photos {
		if data, err := os.ReadFile(p.path); err == nil {
			inputs = append(inputs, struct {
				name string
				data []byte
			}{photoName(p), data})
		}
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			for i := 0; i < b.N; i++ {
				if _, err := Thumbnail(in.name, in.data, DefaultOptions()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
