package resize

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"testing"
)

// FuzzDecode feeds arbitrary bytes through the whole path (sniffing, EXIF,
// limits, decoding, resampling, encoding). Whatever the input, Thumbnail must
// not panic, must return either a decodable thumbnail within the box or an
// *Error with a known reason. The pixel limit is lowered so the fuzzer
// explores parsers rather than allocating large images.
//
// Run: go test ./lambda/resize -run '^$' -fuzz FuzzDecode -fuzztime 2m
// Inputs that once failed are kept in testdata/fuzz/FuzzDecode and run as
// regression tests by a plain go test.
func FuzzDecode(f *testing.F) {
	card := quadrants(40, 24)
	jpg := encJPEG(f, card, 80)
	f.Add(jpg)
	f.Add(withOrientation(jpg, 6, binary.BigEndian))
	f.Add(withOrientation(jpg, 3, binary.LittleEndian))
	f.Add(encJPEG(f, image.NewGray(image.Rect(0, 0, 17, 9)), 50))
	f.Add(encJPEG(f, image.NewCMYK(image.Rect(0, 0, 16, 16)), 50))
	f.Add(encPNG(f, card))
	f.Add(encPNG(f, halfTransparent(20, 10)))
	f.Add(encPNG(f, image.NewPaletted(image.Rect(0, 0, 8, 8), color.Palette{color.Black, color.White})))
	f.Add(encGIF(f, 20, 10, red, green))
	f.Add(pngHeader(4000, 4000))
	f.Add(gifHeader(3, 3))
	f.Add(jpg[:len(jpg)/2])
	f.Add([]byte("GIF89a"))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0})

	o := DefaultOptions()
	o.MaxWidth, o.MaxHeight = 32, 32
	o.MaxSourcePixels = 1 << 20
	known := map[Reason]bool{ReasonNotImage: true, ReasonCorrupt: true, ReasonTooManyPixels: true, ReasonTooLarge: true}

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fit := range []Fit{FitInside, FitCover} {
			o.Fit = fit
			res, err := Thumbnail("fuzz", data, o)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || !known[e.Reason] || e.Key != "fuzz" {
					t.Fatalf("unexpected error %T: %v", err, err)
				}
				continue
			}
			if res.Width < 1 || res.Height < 1 || res.Width > o.MaxWidth || res.Height > o.MaxHeight {
				t.Fatalf("thumbnail %dx%d outside the box", res.Width, res.Height)
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(res.Data))
			if err != nil || cfg.Width != res.Width || cfg.Height != res.Height {
				t.Fatalf("output %dx%d does not match the result %dx%d: %v", cfg.Width, cfg.Height, res.Width, res.Height, err)
			}
		}
	})
}
