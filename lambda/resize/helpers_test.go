package resize

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

var (
	red    = color.NRGBA{255, 0, 0, 255}
	green  = color.NRGBA{0, 255, 0, 255}
	blue   = color.NRGBA{0, 0, 255, 255}
	yellow = color.NRGBA{255, 255, 0, 255}
	white  = color.NRGBA{255, 255, 255, 255}
)

// quadrants is an upright test card: red top-left, green top-right, blue
// bottom-left, yellow bottom-right. Any flip or rotation changes which colour
// sits where.
func quadrants(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = yellow
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func encJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encPNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encGIF writes an animated GIF whose frames are filled with the given
// colours.
func encGIF(t testing.TB, w, h int, colors ...color.Color) []byte {
	t.Helper()
	pal := color.Palette{color.Transparent, red, green, blue, yellow, white}
	g := &gif.GIF{}
	for _, c := range colors {
		f := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		draw.Draw(f, f.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		g.Image = append(g.Image, f)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withOrientation inserts an EXIF APP1 segment carrying the orientation tag
// right after the SOI marker of a JPEG, in either TIFF byte order.
func withOrientation(jpg []byte, orientation int, bo binary.ByteOrder) []byte {
	var tiff bytes.Buffer
	if bo == binary.LittleEndian {
		tiff.WriteString("II*\x00")
	} else {
		tiff.WriteString("MM\x00*")
	}
	u16 := func(v uint16) { _ = binary.Write(&tiff, bo, v) }
	u32 := func(v uint32) { _ = binary.Write(&tiff, bo, v) }
	u32(8)      // IFD0 offset
	u16(2)      // two entries: an unrelated one first, so the search is exercised
	u16(0x010F) // Make, ASCII, 4 bytes inline
	u16(2)
	u32(4)
	tiff.WriteString("Go\x00\x00")
	u16(0x0112) // Orientation, SHORT, 1 value
	u16(3)
	u32(1)
	u16(uint16(orientation))
	u16(0)
	u32(0) // no next IFD

	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)

	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func decodeImage(t testing.TB, data []byte) (image.Image, string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	return img, format
}

// near compares colours channel by channel with a tolerance for JPEG loss.
func near(a, b color.Color, tol int) bool {
	ca, cb := color.NRGBAModel.Convert(a).(color.NRGBA), color.NRGBAModel.Convert(b).(color.NRGBA)
	d := func(x, y uint8) bool { return abs(int(x)-int(y)) <= tol }
	return d(ca.R, cb.R) && d(ca.G, cb.G) && d(ca.B, cb.B) && d(ca.A, cb.A)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// checkQuadrants asserts that img shows the upright test card.
func checkQuadrants(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	at := func(fx, fy float64) color.Color {
		return img.At(b.Min.X+int(fx*float64(b.Dx())), b.Min.Y+int(fy*float64(b.Dy())))
	}
	for _, q := range []struct {
		name   string
		fx, fy float64
		want   color.Color
	}{
		{"top-left", 0.25, 0.25, red},
		{"top-right", 0.75, 0.25, green},
		{"bottom-left", 0.25, 0.75, blue},
		{"bottom-right", 0.75, 0.75, yellow},
	} {
		if got := at(q.fx, q.fy); !near(got, q.want, 40) {
			t.Errorf("%s quadrant is %v, want %v", q.name, color.NRGBAModel.Convert(got), q.want)
		}
	}
}

func mustThumb(t *testing.T, src []byte, opts Options) *Result {
	t.Helper()
	res, err := Thumbnail("test.img", src, opts)
	if err != nil {
		t.Fatalf("Thumbnail: %v", err)
	}
	return res
}

func opts(mod func(*Options)) Options {
	o := DefaultOptions()
	if mod != nil {
		mod(&o)
	}
	return o
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
