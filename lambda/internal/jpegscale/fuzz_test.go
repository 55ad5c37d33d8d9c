package jpegscale

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

// FuzzDecode checks that no input makes Decode panic, at any scale, and that
// what it decodes has the size it promises. Crashers the fuzzer finds are
// kept in testdata/fuzz/FuzzDecode and rerun by plain go test.
func FuzzDecode(f *testing.F) {
	for _, tf := range stdlibTestdata(f) {
		f.Add(tf.data, uint16(0))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, synthetic(40, 24), &jpeg.Options{Quality: 60}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), uint16(20))

	f.Fuzz(func(t *testing.T, b []byte, min uint16) {
		cfg, err := DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Keep allocations small; a pixel limit is the caller's job.
		if cfg.Width*cfg.Height > 1e6 {
			return
		}
		for _, m := range []int{int(min), 0, 1 << 20} {
			img, denom, err := Decode(bytes.NewReader(b), m, m)
			if err != nil {
				continue
			}
			want := image.Rect(0, 0, (cfg.Width+denom-1)/denom, (cfg.Height+denom-1)/denom)
			if img.Bounds() != want {
				t.Errorf("Decode(min %d) at 1/%d: bounds %v, want %v", m, denom, img.Bounds(), want)
			}
		}
	})
}
