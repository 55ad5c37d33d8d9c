package pngfast

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"go/build"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// testFiles are PNGs to compare with image/png: Go's own test images (the
// PNG suite's colour types, bit depths, interlacing and palettes, and
// image/png's invalid files) and the photographs and renders that Debian's
// wallpaper packages install, where present.
func testFiles(t testing.TB) []string {
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
	if testing.Short() {
		return files
	}
	for _, root := range []string{"/usr/share/wallpapers", "/usr/share/backgrounds"} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".png") {
				files = append(files, p)
			}
			return nil
		})
	}
	return files
}

// same fails unless Decode and image/png's Decode agree on src: the same
// image (type, bounds, stride, pixels, palette) or the same error.
func same(t *testing.T, name string, src []byte) {
	t.Helper()
	wantCfg, wantErr := png.DecodeConfig(bytes.NewReader(src))
	gotCfg, gotErr := DecodeConfig(bytes.NewReader(src))
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() || !reflect.DeepEqual(gotCfg, wantCfg) {
		t.Fatalf("%s: config %+v, %v; image/png's %+v, %v", name, gotCfg, gotErr, wantCfg, wantErr)
	}
	// A corrupted header can ask for gigabytes, which both decoders would
	// try to allocate.
	if wantErr == nil && wantCfg.Width*wantCfg.Height > 1<<24 {
		return
	}
	want, wantErr := png.Decode(bytes.NewReader(src))
	got, gotErr := Decode(src)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%s: error %v, image/png's %v", name, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: decoded %T %v differs from image/png's %T %v", name, got, boundsOf(got), want, boundsOf(want))
	}
	rows, rowsErr := assembleRows(src)
	if (rowsErr == nil) != (wantErr == nil) || rowsErr != nil && rowsErr.Error() != wantErr.Error() {
		t.Fatalf("%s: DecodeRows error %v, image/png's %v", name, rowsErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(rows, want) {
		t.Fatalf("%s: DecodeRows' rows make %T %v, not image/png's %T %v", name, rows, boundsOf(rows), want, boundsOf(want))
	}
}

// assembleRows puts the rows DecodeRows delivers back together into an image
// of their type, checking that they arrive in order with one-row bounds.
func assembleRows(src []byte) (image.Image, error) {
	var (
		first   image.Image
		pix     []uint8
		palette color.Palette
		next    int
		bad     error
	)
	err := DecodeRows(src, func(y int, row image.Image) {
		if bad != nil {
			return
		}
		if y != next || row.Bounds().Min.Y != y || row.Bounds().Dy() != 1 || row.Bounds().Min.X != 0 {
			bad = fmt.Errorf("row %d has bounds %v, want row %d", y, row.Bounds(), next)
			return
		}
		next++
		if first == nil {
			first = row
		}
		rowPix, stride := pixOf(row)
		pix = append(pix, rowPix[:stride]...)
		if p, ok := row.(*image.Paletted); ok {
			palette = p.Palette
		}
	})
	if err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, bad
	}
	if first == nil {
		return nil, fmt.Errorf("no rows")
	}
	_, stride := pixOf(first)
	pix, r := slices.Clip(pix), image.Rect(0, 0, first.Bounds().Dx(), next)
	switch first.(type) {
	case *image.Gray:
		return &image.Gray{Pix: pix, Stride: stride, Rect: r}, nil
	case *image.RGBA:
		return &image.RGBA{Pix: pix, Stride: stride, Rect: r}, nil
	case *image.NRGBA:
		return &image.NRGBA{Pix: pix, Stride: stride, Rect: r}, nil
	case *image.Paletted:
		return &image.Paletted{Pix: pix, Stride: stride, Rect: r, Palette: palette}, nil
	case *image.Gray16:
		return &image.Gray16{Pix: pix, Stride: stride, Rect: r}, nil
	case *image.RGBA64:
		return &image.RGBA64{Pix: pix, Stride: stride, Rect: r}, nil
	case *image.NRGBA64:
		return &image.NRGBA64{Pix: pix, Stride: stride, Rect: r}, nil
	}
	return nil, fmt.Errorf("row of type %T", first)
}

// pixOf is an image's pixel bytes from its first pixel, and its stride.
func pixOf(m image.Image) ([]uint8, int) {
	switch m := m.(type) {
	case *image.Gray:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride
	case *image.RGBA:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride
	case *image.NRGBA:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride
	case *image.Paletted:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride
	case *image.Gray16:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride
	case *image.RGBA64:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride
	case *image.NRGBA64:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride
	}
	return nil, 0
}

func boundsOf(m image.Image) any {
	if m == nil {
		return nil
	}
	return m.Bounds()
}

func TestMatchesImagePNG(t *testing.T) {
	files := testFiles(t)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		same(t, f, src)
	}
	t.Logf("%d files", len(files))
}

// TestCorruptMatchesImagePNG truncates and corrupts the PNG suite's files:
// errors (and the images of inputs that still decode) must match image/png's.
func TestCorruptMatchesImagePNG(t *testing.T) {
	dir := filepath.Join(build.Default.GOROOT, "src", "image", "png", "testdata", "pngsuite")
	files, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, len(src)/97)
		for n := 0; n < len(src); n += step {
			same(t, f+" truncated", src[:n])
			bad := bytes.Clone(src)
			bad[n] ^= 0x5a
			same(t, f+" corrupted", bad)
			// Chunk CRCs catch most corruption before the pixels are read;
			// skipping them (as some encoders' broken files need) exercises
			// inflate and the filters on damaged data.
			same(t, f+" corrupted, CRCs fixed", fixCRCs(bad))
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, p := range testFiles(f) {
		if strings.Contains(p, "pngsuite") {
			src, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := png.DecodeConfig(bytes.NewReader(src))
		if err != nil || cfg.Width*cfg.Height > 1<<20 {
			return
		}
		same(t, "input", src)
		// Most mutations only break a chunk's CRC; with the CRCs fixed they
		// reach the inflater and the filters.
		same(t, "input, CRCs fixed", fixCRCs(bytes.Clone(src)))
	})
}

// fixCRCs rewrites every complete chunk's CRC to match its contents.
func fixCRCs(src []byte) []byte {
	for i := len(pngHeader); i+12 <= len(src); {
		n := int(binary.BigEndian.Uint32(src[i:]))
		if n < 0 || n > len(src)-i-12 {
			break
		}
		binary.BigEndian.PutUint32(src[i+8+n:], crc32.ChecksumIEEE(src[i+4:i+8+n]))
		i += 12 + n
	}
	return src
}

// TestTrailingIDATBytes: bytes after the zlib stream inside the last IDAT
// chunk. image/png accepts a few of them and rejects many, depending on its
// buffered reads; Decode and DecodeRows must agree with it either way.
func TestTrailingIDATBytes(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7 / 3)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	accepted, rejected := 0, 0
	for _, extra := range []int{1, 3, 17, 4000, 5000, 9000} {
		src := withIDATTrailer(t, buf.Bytes(), extra)
		same(t, fmt.Sprintf("%d trailing bytes", extra), src)
		if _, err := png.Decode(bytes.NewReader(src)); err == nil {
			accepted++
		} else {
			rejected++
		}
	}
	if accepted == 0 || rejected == 0 {
		t.Errorf("image/png accepted %d and rejected %d of the files: both verdicts should be tested", accepted, rejected)
	}
}

// withIDATTrailer appends n bytes to the payload of src's last IDAT chunk.
func withIDATTrailer(t *testing.T, src []byte, n int) []byte {
	t.Helper()
	last := -1
	for i := len(pngHeader); i+12 <= len(src); {
		l := int(binary.BigEndian.Uint32(src[i:]))
		if string(src[i+4:i+8]) == "IDAT" {
			last = i
		}
		i += 12 + l
	}
	if last < 0 {
		t.Fatal("no IDAT chunk")
	}
	l := int(binary.BigEndian.Uint32(src[last:]))
	end := last + 8 + l
	out := append(bytes.Clone(src[:end]), bytes.Repeat([]byte{0x5a}, n)...)
	out = append(out, 0, 0, 0, 0)
	out = append(out, src[end+4:]...)
	binary.BigEndian.PutUint32(out[last:], uint32(l+n))
	return fixCRCs(out)
}
