package resize

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"runtime"
	"strings"
	"testing"
)

// storedFor builds the stored pixels that an EXIF orientation displays as
// upright. It follows the EXIF 2.3 definitions of tag 0x0112 (which stored
// row and column become the displayed top and left), written independently
// of the code under test so the two cannot share a mistake.
func storedFor(upright *image.NRGBA, o int) *image.NRGBA {
	uw, uh := upright.Bounds().Dx(), upright.Bounds().Dy()
	sw, sh := uw, uh
	if o >= 5 {
		sw, sh = uh, uw
	}
	stored := image.NewNRGBA(image.Rect(0, 0, sw, sh))
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			var dx, dy int // where stored (x, y) is displayed
			switch o {
			case 1:
				dx, dy = x, y
			case 2: // row 0 at top, column 0 at right
				dx, dy = sw-1-x, y
			case 3: // row 0 at bottom, column 0 at right
				dx, dy = sw-1-x, sh-1-y
			case 4: // row 0 at bottom, column 0 at left
				dx, dy = x, sh-1-y
			case 5: // row 0 at left, column 0 at top
				dx, dy = y, x
			case 6: // row 0 at right, column 0 at top
				dx, dy = sh-1-y, x
			case 7: // row 0 at right, column 0 at bottom
				dx, dy = sh-1-y, sw-1-x
			case 8: // row 0 at left, column 0 at bottom
				dx, dy = y, sw-1-x
			}
			stored.SetNRGBA(x, y, upright.NRGBAAt(dx, dy))
		}
	}
	return stored
}

func TestOrientation(t *testing.T) {
	upright := quadrants(96, 48)
	for o := 1; o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			t.Run(fmt.Sprintf("%d/%v", o, bo), func(t *testing.T) {
				src := withOrientation(encJPEG(t, storedFor(upright, o), 95), o, bo)
				if got := jpegOrientation(src); got != o {
					t.Fatalf("orientation read as %d, want %d", got, o)
				}
				// Unscaled: the whole image, upright.
				res := mustThumb(t, src, DefaultOptions())
				if res.Width != 96 || res.Height != 48 || res.SourceWidth != 96 || res.SourceHeight != 48 {
					t.Fatalf("got %dx%d from %dx%d, want 96x48 from 96x48", res.Width, res.Height, res.SourceWidth, res.SourceHeight)
				}
				img, _ := decodeImage(t, res.Data)
				checkQuadrants(t, img)
				// Scaled: the box applies to the displayed shape.
				res = mustThumb(t, src, opts(func(o *Options) { o.MaxWidth, o.MaxHeight = 48, 48 }))
				if res.Width != 48 || res.Height != 24 {
					t.Fatalf("scaled: got %dx%d, want 48x24", res.Width, res.Height)
				}
				img, _ = decodeImage(t, res.Data)
				checkQuadrants(t, img)
				// Cover crops the centre of the displayed image.
				res = mustThumb(t, src, opts(func(o *Options) { o.MaxWidth, o.MaxHeight, o.Fit = 32, 24, FitCover }))
				if res.Width != 32 || res.Height != 24 {
					t.Fatalf("cover: got %dx%d, want 32x24", res.Width, res.Height)
				}
				img, _ = decodeImage(t, res.Data)
				checkQuadrants(t, img)
			})
		}
	}
}

// TestOrientationMalformed: a broken EXIF block leaves the image as stored
// rather than failing it.
func TestOrientationMalformed(t *testing.T) {
	jpg := encJPEG(t, quadrants(64, 32), 90)
	good := withOrientation(jpg, 6, binary.BigEndian)
	for name, data := range map[string][]byte{
		"value 9":        withOrientation(jpg, 9, binary.BigEndian),
		"value 0":        withOrientation(jpg, 0, binary.BigEndian),
		"bad byte order": bytes.Replace(good, []byte("MM\x00*"), []byte("XX\x00*"), 1),
		"segment cut":    good[:30],
		"not a JPEG":     []byte("\x89PNG"),
		"no EXIF":        jpg,
	} {
		if got := jpegOrientation(data); got != 1 {
			t.Errorf("%s: orientation %d, want 1", name, got)
		}
	}
}

func TestFitModes(t *testing.T) {
	src := encPNG(t, quadrants(400, 200))
	for _, c := range []struct {
		fit  Fit
		w, h int
	}{{FitInside, 100, 50}, {FitCover, 100, 100}, {FitFill, 100, 100}} {
		res := mustThumb(t, src, opts(func(o *Options) { o.MaxWidth, o.MaxHeight, o.Fit = 100, 100, c.fit }))
		img, _ := decodeImage(t, res.Data)
		if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h || res.Width != c.w || res.Height != c.h {
			t.Errorf("%s: got %v (result says %dx%d), want %dx%d", c.fit, b, res.Width, res.Height, c.w, c.h)
		}
		checkQuadrants(t, img) // all three keep the card's layout
	}
	// Cover crops the centre: a wide card with a centre stripe keeps only
	// the stripe's surroundings in the middle.
	wide := image.NewNRGBA(image.Rect(0, 0, 300, 100))
	draw.Draw(wide, wide.Bounds(), image.NewUniform(blue), image.Point{}, draw.Src)
	draw.Draw(wide, image.Rect(100, 0, 200, 100), image.NewUniform(red), image.Point{}, draw.Src)
	res := mustThumb(t, encPNG(t, wide), opts(func(o *Options) { o.MaxWidth, o.MaxHeight, o.Fit = 50, 50, FitCover }))
	img, _ := decodeImage(t, res.Data)
	for _, p := range []image.Point{{2, 2}, {25, 25}, {47, 47}} {
		if !near(img.At(p.X, p.Y), red, 8) {
			t.Errorf("cover crop at %v is %v, want the red centre", p, img.At(p.X, p.Y))
		}
	}
}

func TestNoUpscale(t *testing.T) {
	for _, fit := range []Fit{FitInside, FitCover, FitFill} {
		res := mustThumb(t, encPNG(t, quadrants(60, 40)), opts(func(o *Options) { o.Fit = fit }))
		if res.Width != 60 || res.Height != 40 {
			t.Errorf("%s: a 60x40 image became %dx%d", fit, res.Width, res.Height)
		}
	}
}

func TestFormats(t *testing.T) {
	card := quadrants(300, 200)
	sources := map[string][]byte{
		"jpeg": encJPEG(t, card, 90),
		"png":  encPNG(t, card),
		"gif":  encGIF(t, 300, 200, red, green),
	}
	for srcFormat, src := range sources {
		for _, c := range []struct {
			format      Format
			wantFormat  string
			contentType string
		}{
			{FormatSource, srcFormat, "image/" + srcFormat},
			{FormatJPEG, "jpeg", "image/jpeg"},
			{FormatPNG, "png", "image/png"},
		} {
			res := mustThumb(t, src, opts(func(o *Options) { o.Format = c.format }))
			_, got := decodeImage(t, res.Data)
			if got != c.wantFormat || res.ContentType != c.contentType || res.SourceFormat != srcFormat {
				t.Errorf("%s as %s: wrote %s with Content-Type %s (source %s), want %s / %s",
					srcFormat, c.format, got, res.ContentType, res.SourceFormat, c.wantFormat, c.contentType)
			}
		}
	}
}

func TestJPEGQuality(t *testing.T) {
	src := encPNG(t, noise(400, 400))
	low := mustThumb(t, src, opts(func(o *Options) { o.Format, o.Quality = FormatJPEG, 20 }))
	high := mustThumb(t, src, opts(func(o *Options) { o.Format, o.Quality = FormatJPEG, 95 }))
	if len(low.Data) >= len(high.Data) {
		t.Errorf("quality 20 gave %d bytes, quality 95 %d: quality is not applied", len(low.Data), len(high.Data))
	}
}

// noise is a deterministic texture that JPEG cannot compress well.
func noise(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	s := uint32(1)
	for i := range img.Pix {
		s = s*1664525 + 1013904223
		img.Pix[i] = uint8(s >> 24)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// halfTransparent: left half opaque red, right half fully transparent (with
// black colour values, which must not show through).
func halfTransparent(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, image.Rect(0, 0, w/2, h), image.NewUniform(red), image.Point{}, draw.Src)
	return img
}

func TestAlpha(t *testing.T) {
	src := encPNG(t, halfTransparent(400, 200))
	// PNG keeps the transparency.
	res := mustThumb(t, src, DefaultOptions())
	img, format := decodeImage(t, res.Data)
	if format != "png" {
		t.Fatalf("format %s", format)
	}
	if _, _, _, a := img.At(150, 50).RGBA(); a != 0 {
		t.Errorf("transparent side has alpha %d in the PNG thumbnail", a>>8)
	}
	if !near(img.At(50, 50), red, 2) {
		t.Errorf("opaque side is %v", img.At(50, 50))
	}
	// JPEG flattens onto white.
	res = mustThumb(t, src, opts(func(o *Options) { o.Format = FormatJPEG }))
	img, _ = decodeImage(t, res.Data)
	if !near(img.At(150, 50), white, 12) {
		t.Errorf("transparent side is %v in the JPEG thumbnail, want white", img.At(150, 50))
	}
	if !near(img.At(50, 50), red, 40) {
		t.Errorf("opaque side is %v in the JPEG thumbnail", img.At(50, 50))
	}
}

func TestAnimatedGIFFirstFrame(t *testing.T) {
	res := mustThumb(t, encGIF(t, 400, 400, blue, red, green), DefaultOptions())
	img, format := decodeImage(t, res.Data)
	if format != "gif" || res.Width != 200 || res.Height != 200 {
		t.Fatalf("got %s %dx%d", format, res.Width, res.Height)
	}
	if g, err := gif.DecodeAll(bytes.NewReader(res.Data)); err != nil || len(g.Image) != 1 {
		t.Errorf("thumbnail has %d frames (%v), want 1", len(g.Image), err)
	}
	if !near(img.At(100, 100), blue, 0) {
		t.Errorf("thumbnail shows %v, want the first frame's blue", img.At(100, 100))
	}
}

// TestGIFFrameSmallerThanCanvas: a first frame covering part of the logical
// screen is placed on a transparent canvas of the screen's size.
func TestGIFFrameSmallerThanCanvas(t *testing.T) {
	pal := color.Palette{color.Transparent, red}
	frame := image.NewPaletted(image.Rect(10, 10, 30, 30), pal)
	draw.Draw(frame, frame.Bounds(), image.NewUniform(red), image.Point{}, draw.Src)
	var b bytes.Buffer
	err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{ColorModel: pal, Width: 40, Height: 40}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{FormatPNG, FormatSource} {
		res := mustThumb(t, b.Bytes(), opts(func(o *Options) { o.Format = f }))
		img, _ := decodeImage(t, res.Data)
		if res.Width != 40 || res.Height != 40 || !near(img.At(20, 20), red, 0) {
			t.Errorf("%s: got %dx%d with %v at the centre", f, res.Width, res.Height, img.At(20, 20))
		}
		if _, _, _, a := img.At(2, 2).RGBA(); a != 0 {
			t.Errorf("%s: outside the frame alpha is %d, want transparent", f, a>>8)
		}
		if p, ok := img.(*image.Paletted); ok && len(p.Palette) != 2 {
			t.Errorf("GIF thumbnail has %d colours, want the source's 2", len(p.Palette))
		}
	}
}

func TestErrors(t *testing.T) {
	jpg := encJPEG(t, quadrants(300, 200), 90)
	pngData := encPNG(t, quadrants(300, 200))
	gifData := encGIF(t, 300, 200, red, blue)
	for name, c := range map[string]struct {
		src    []byte
		opts   Options
		reason Reason
		text   string
	}{
		"empty":            {nil, DefaultOptions(), ReasonNotImage, "object is empty"},
		"text":             {[]byte("hello, world"), DefaultOptions(), ReasonNotImage, "starts with 68 65 6c 6c"},
		"html error page":  {[]byte("<html><body>403</body></html>"), DefaultOptions(), ReasonNotImage, "not a JPEG, PNG or GIF"},
		"bmp is refused":   {bmpHeader(), DefaultOptions(), ReasonNotImage, "format bmp is not supported"},
		"jpeg truncated":   {jpg[:len(jpg)/2], DefaultOptions(), ReasonCorrupt, "cannot decode the jpeg image (300x200)"},
		"jpeg header only": {jpg[:20], DefaultOptions(), ReasonCorrupt, "cannot read the JPEG header"},
		"png truncated":    {pngData[:len(pngData)/2], DefaultOptions(), ReasonCorrupt, "cannot decode the png image"},
		"png bad crc":      {corruptAt(pngData, 40), DefaultOptions(), ReasonCorrupt, ""},
		"gif truncated":    {gifData[:len(gifData)/3], DefaultOptions(), ReasonCorrupt, "gif"},
		"jpeg pixel bomb":  {jpegWithSize(t, jpg, 65000, 65000), DefaultOptions(), ReasonTooManyPixels, "65000x65000 = 4225000000 pixels, more than the limit of 100000000 (MAX_SOURCE_PIXELS)"},
		"png pixel bomb":   {pngHeader(100000, 100000), DefaultOptions(), ReasonTooManyPixels, "100000x100000"},
		"gif pixel bomb":   {gifHeader(65535, 65535), DefaultOptions(), ReasonTooManyPixels, "65535x65535"},
		"low pixel limit":  {jpg, opts(func(o *Options) { o.MaxSourcePixels = 300*200 - 1 }), ReasonTooManyPixels, "limit of 59999"},
		"too large":        {jpg, opts(func(o *Options) { o.MaxSourceBytes = 100 }), ReasonTooLarge, "more than the limit of 100 (MAX_SOURCE_BYTES)"},
		"zero-size header": {pngHeader(0, 10), DefaultOptions(), ReasonCorrupt, ""},
		"invalid options":  {jpg, opts(func(o *Options) { o.Quality = 0 }), ReasonInvalidRequest, "Quality=0"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := Thumbnail("photos/été.jpg", c.src, c.opts)
			if err == nil {
				t.Fatalf("no error; got a %dx%d thumbnail", res.Width, res.Height)
			}
			if got := ReasonOf(err); got != c.reason {
				t.Errorf("reason %q, want %q (%v)", got, c.reason, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"photos/été.jpg"`) || !strings.Contains(msg, c.text) {
				t.Errorf("message %q should name the key and contain %q", msg, c.text)
			}
		})
	}
}

// TestPixelBombRefusedBeforeAllocation: refusing a header that claims four
// billion pixels must cost almost nothing, not the 16 GB a decoder would ask for.
func TestPixelBombRefusedBeforeAllocation(t *testing.T) {
	bomb := pngHeader(65535, 65535)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		if _, err := Thumbnail("bomb.png", bomb, DefaultOptions()); ReasonOf(err) != ReasonTooManyPixels {
			t.Fatalf("got %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if perCall := (after.TotalAlloc - before.TotalAlloc) / 10; perCall > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes per call", perCall)
	}
}

// jpegWithSize rewrites the SOF dimensions of a JPEG, leaving the scan data
// as it was: what a decompression bomb looks like from the header.
func jpegWithSize(t *testing.T, jpg []byte, w, h int) []byte {
	out := append([]byte{}, jpg...)
	for i := 2; i+9 < len(out); {
		if out[i] != 0xFF {
			t.Fatal("lost sync while looking for SOF")
		}
		m := out[i+1]
		if m == 0xC0 || m == 0xC2 {
			binary.BigEndian.PutUint16(out[i+5:], uint16(h))
			binary.BigEndian.PutUint16(out[i+7:], uint16(w))
			return out
		}
		i += 2 + int(binary.BigEndian.Uint16(out[i+2:]))
	}
	t.Fatal("no SOF")
	return nil
}

// pngHeader is a PNG signature and an IHDR for a w x h RGBA image, with a
// correct CRC, and no pixel data.
func pngHeader(w, h int) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	writeChunk(&b, "IHDR", ihdr)
	writeChunk(&b, "IEND", nil)
	return b.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, data []byte) {
	_ = binary.Write(b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	_ = binary.Write(b, binary.BigEndian, crc32IEEE(append([]byte(typ), data...)))
}

// gifHeader is a GIF whose logical screen is w x h, with one 1x1 frame.
func gifHeader(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("GIF89a")
	_ = binary.Write(&b, binary.LittleEndian, uint16(w))
	_ = binary.Write(&b, binary.LittleEndian, uint16(h))
	b.Write([]byte{0x80, 0, 0, 0, 0, 0, 255, 255, 255}) // 2-entry global palette
	b.Write([]byte{0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0, 0x3B})
	return b.Bytes()
}

func bmpHeader() []byte {
	b := make([]byte, 54)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[2:], 54)
	binary.LittleEndian.PutUint32(b[10:], 54)
	binary.LittleEndian.PutUint32(b[14:], 40)
	binary.LittleEndian.PutUint32(b[18:], 1)
	binary.LittleEndian.PutUint32(b[22:], 1)
	binary.LittleEndian.PutUint16(b[26:], 1)
	binary.LittleEndian.PutUint16(b[28:], 24)
	return b
}

func corruptAt(data []byte, i int) []byte {
	out := append([]byte{}, data...)
	out[i] ^= 0xFF
	return out
}
