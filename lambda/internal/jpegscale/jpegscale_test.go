package jpegscale

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
)

// toRGBA converts any image to an *image.RGBA with its origin at (0, 0).
func toRGBA(m image.Image) *image.RGBA {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), m, b.Min, draw.Src)
	return dst
}

// boxDown averages denom x denom blocks of m (clipped at the right and bottom
// edges), giving ceil(w/denom) x ceil(h/denom) pixels: the reference for a
// scaled decode.
func boxDown(m *image.RGBA, denom int) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	dw, dh := (w+denom-1)/denom, (h+denom-1)/denom
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var s [4]int
			n := 0
			for yy := y * denom; yy < min(h, (y+1)*denom); yy++ {
				for xx := x * denom; xx < min(w, (x+1)*denom); xx++ {
					o := m.PixOffset(xx, yy)
					for c := 0; c < 4; c++ {
						s[c] += int(m.Pix[o+c])
					}
					n++
				}
			}
			o := dst.PixOffset(x, y)
			for c := 0; c < 4; c++ {
				dst.Pix[o+c] = uint8((s[c] + n/2) / n)
			}
		}
	}
	return dst
}

// psnr compares the RGB channels of two same-sized images.
func psnr(a, b *image.RGBA) float64 {
	if a.Rect.Size() != b.Rect.Size() {
		return math.Inf(-1)
	}
	var se float64
	n := 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			oa, ob := a.PixOffset(x, y), b.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				d := float64(a.Pix[oa+c]) - float64(b.Pix[ob+c])
				se += d * d
				n++
			}
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

type testFile struct {
	name string
	data []byte
	// minPSNR is the PSNR a scaled decode must reach against a full decode
	// box-averaged to the same size. Tiny, heavily quantized test images
	// have more energy near the block-edge frequencies the reduced IDCT
	// removes than photos do.
	minPSNR float64
}

// goroot is the GOROOT of the go command on PATH (go test puts its own
// first), or "" if there is none.
var goroot = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})

// stdlibTestdata returns Go's own JPEG test images, which cover every chroma
// subsampling image/jpeg supports, progressive and sequential, grayscale,
// CMYK, RGB and restart intervals.
func stdlibTestdata(t testing.TB) []testFile {
	root := goroot()
	if root == "" {
		t.Logf("go env GOROOT failed; JPEG test images covered by the synthetic ones only")
		return nil
	}
	dir := filepath.Join(root, "src", "image", "testdata")
	names, _ := filepath.Glob(filepath.Join(dir, "video-00*.jpeg"))
	var out []testFile
	for _, n := range names {
		if strings.Contains(n, "truncated") {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		minPSNR := 24.0
		if strings.HasSuffix(n, ".rgb.jpeg") {
			// RGB stored with G and B subsampled 2x2: G carries most of the
			// detail, and at a reduced scale it is halved again relative
			// to the box-averaged full decode (libjpeg behaves the same).
			minPSNR = 18
		}
		out = append(out, testFile{filepath.Base(n), b, minPSNR})
	}
	if len(out) == 0 {
		t.Logf("no JPEG test images under %s; covered by the synthetic ones only", dir)
	}
	return out
}

// synthetic makes a photo-like test image: smooth gradients, a few sharp
// edges and mild noise.
func synthetic(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewSource(1))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 128 + 100*math.Sin(6*fx+2*fy)
			g := 128 + 90*math.Cos(5*fy-3*fx)
			b := 60 + 150*fx*fy
			if (x/37+y/53)%2 == 0 {
				r, b = r*0.8, b*0.8+30
			}
			n := rng.Float64()*6 - 3
			m.Pix[m.PixOffset(x, y)+0] = uint8(math.Max(0, math.Min(255, r+n)))
			m.Pix[m.PixOffset(x, y)+1] = uint8(math.Max(0, math.Min(255, g+n)))
			m.Pix[m.PixOffset(x, y)+2] = uint8(math.Max(0, math.Min(255, b+n)))
			m.Pix[m.PixOffset(x, y)+3] = 255
		}
	}
	return m
}

// syntheticFiles encodes the synthetic image with image/jpeg (4:2:0 and
// grayscale) and, when libjpeg-turbo's cjpeg is installed, with every chroma
// subsampling, progressive or not, and with restart markers.
func syntheticFiles(t *testing.T) []testFile {
	// Odd sizes exercise partial MCUs and the ceil rounding of scaled sizes.
	src := synthetic(613, 419)
	var out []testFile
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	out = append(out, testFile{"synthetic-go-420", bytes.Clone(buf.Bytes()), 33})
	gray := image.NewGray(src.Bounds())
	draw.Draw(gray, gray.Bounds(), src, image.Point{}, draw.Src)
	buf.Reset()
	if err := jpeg.Encode(&buf, gray, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	out = append(out, testFile{"synthetic-go-gray", bytes.Clone(buf.Bytes()), 33})

	cjpeg, err := exec.LookPath("cjpeg")
	if err != nil {
		t.Logf("cjpeg not installed (apt-get install libjpeg-turbo-progs): other subsamplings covered by Go's testdata only")
		return out
	}
	// cjpeg reads PPM: write the source once.
	var ppm bytes.Buffer
	fmt.Fprintf(&ppm, "P6\n%d %d\n255\n", src.Rect.Dx(), src.Rect.Dy())
	for i := 0; i < len(src.Pix); i += 4 {
		ppm.Write(src.Pix[i : i+3])
	}
	for _, sampling := range []string{"1x1", "2x1", "2x2", "1x2", "4x1", "4x2"} {
		for _, extra := range [][]string{nil, {"-progressive"}, {"-restart", "3"}, {"-progressive", "-restart", "2"}} {
			args := append([]string{"-quality", "90", "-sample", sampling}, extra...)
			cmd := exec.Command(cjpeg, args...)
			cmd.Stdin = bytes.NewReader(ppm.Bytes())
			b, err := cmd.Output()
			if err != nil {
				t.Fatalf("cjpeg %v: %v", args, err)
			}
			minPSNR := 33.0
			if sampling[0] == '4' {
				// Chroma is at 1/32 horizontal resolution at 1/8 scale;
				// the synthetic image's saturated checkerboard makes that
				// costlier than photos do.
				minPSNR = 30
			}
			out = append(out, testFile{"synthetic-cjpeg-" + strings.Join(args[2:], ""), b, minPSNR})
		}
	}
	args := []string{"-quality", "90", "-grayscale", "-progressive"}
	cmd := exec.Command(cjpeg, args...)
	cmd.Stdin = bytes.NewReader(ppm.Bytes())
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("cjpeg %v: %v", args, err)
	}
	out = append(out, testFile{"synthetic-cjpeg-gray-progressive", b, 33})
	return out
}

// photoDirs are where the Debian wallpaper packages put their photos.
var photoDirs = []string{"/usr/share/wallpapers", "/usr/share/backgrounds"}

// photos returns up to n real photos from the Debian wallpaper packages,
// smallest first, so that the tests stay quick.
func photos(t *testing.T, n int) []testFile {
	type cand struct {
		path string
		size int64
	}
	var cands []cand
	for _, dir := range photoDirs {
		// Missing or unreadable directories are skipped: the callback never
		// fails, so neither does Walk.
		_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && (strings.HasSuffix(p, ".jpg") || strings.HasSuffix(p, ".jpeg")) {
				cands = append(cands, cand{p, fi.Size()})
			}
			return nil
		})
	}
	if len(cands) == 0 {
		t.Logf("no photos found under %v (apt-get install -y plasma-workspace-wallpapers mate-backgrounds); real photos not tested", photoDirs)
		return nil
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].size < cands[j].size })
	// Take a spread of sizes, not just the smallest.
	var out []testFile
	step := max(1, len(cands)/n)
	for i := 0; i < len(cands) && len(out) < n; i += step {
		b, err := os.ReadFile(cands[i].path)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, testFile{cands[i].path, b, 35})
	}
	return out
}

func allFiles(t *testing.T) []testFile {
	files := stdlibTestdata(t)
	files = append(files, syntheticFiles(t)...)
	n := 12
	if testing.Short() {
		n = 3
	}
	return append(files, photos(t, n)...)
}

// djpeg decodes with libjpeg-turbo's djpeg, for files image/jpeg rejects.
func djpeg(t *testing.T, data []byte) *image.RGBA {
	path, err := exec.LookPath("djpeg")
	if err != nil {
		t.Skipf("djpeg not installed (apt-get install libjpeg-turbo-progs)")
	}
	cmd := exec.Command(path, "-ppm")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("djpeg: %v", err)
	}
	var w, h, maxv int
	var magic string
	r := bytes.NewReader(out)
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil || magic != "P6" || maxv != 255 {
		t.Fatalf("djpeg: unexpected output header %q", out[:min(20, len(out))])
	}
	if _, err := r.ReadByte(); err != nil { // the whitespace after the header
		t.Fatalf("djpeg: short output")
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	px := make([]byte, 3)
	for i := 0; i < len(m.Pix); i += 4 {
		if _, err := r.Read(px); err != nil {
			t.Fatalf("djpeg: short output")
		}
		copy(m.Pix[i:], px)
		m.Pix[i+3] = 255
	}
	return m
}

// reference decodes f at full size with image/jpeg or, for files image/jpeg
// cannot decode (progressive scans of subsampled components with restart
// markers), with djpeg; exact reports whether the result came from
// image/jpeg.
func reference(t *testing.T, f testFile) (m image.Image, exact bool) {
	m, err := jpeg.Decode(bytes.NewReader(f.data))
	if err == nil {
		return m, true
	}
	t.Logf("%s: image/jpeg: %v; comparing with djpeg", f.name, err)
	return djpeg(t, f.data), false
}

func TestDenom1MatchesImageJPEG(t *testing.T) {
	for _, f := range allFiles(t) {
		want, exact := reference(t, f)
		if !exact {
			got, _, err := Decode(bytes.NewReader(f.data), want.Bounds().Dx(), want.Bounds().Dy())
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			// A different IDCT: close, not identical.
			if p := psnr(toRGBA(got), want.(*image.RGBA)); p < 45 {
				t.Errorf("%s: PSNR %.1f dB vs djpeg, want >= 45", f.name, p)
			}
			continue
		}
		b := want.Bounds()
		got, denom, err := Decode(bytes.NewReader(f.data), b.Dx(), b.Dy())
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if denom != 1 {
			t.Fatalf("%s: denom %d, want 1", f.name, denom)
		}
		if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) || got.Bounds() != b {
			t.Fatalf("%s: got %T %v, want %T %v", f.name, got, got.Bounds(), want, b)
		}
		if !bytes.Equal(toRGBA(got).Pix, toRGBA(want).Pix) {
			t.Errorf("%s: pixels differ from image/jpeg", f.name)
		}
		if g, ok := got.(*image.YCbCr); ok {
			w := want.(*image.YCbCr)
			if g.SubsampleRatio != w.SubsampleRatio {
				t.Errorf("%s: subsample ratio %v, want %v", f.name, g.SubsampleRatio, w.SubsampleRatio)
			}
		}
	}
}

func TestScaledMatchesBoxDownscale(t *testing.T) {
	for _, f := range allFiles(t) {
		full, exact := reference(t, f)
		fullRGBA := toRGBA(full)
		w, h := full.Bounds().Dx(), full.Bounds().Dy()
		for _, denom := range []int{2, 4, 8} {
			// Ask for exactly the scaled size, which must select denom.
			sw, sh := (w+denom-1)/denom, (h+denom-1)/denom
			wantDenom := denom
			if denom < 8 && ((w+2*denom-1)/(2*denom) >= sw && (h+2*denom-1)/(2*denom) >= sh) {
				wantDenom = 2 * denom // only for degenerate 1-pixel images.
			}
			got, d, err := Decode(bytes.NewReader(f.data), sw, sh)
			if err != nil {
				t.Fatalf("%s 1/%d: %v", f.name, denom, err)
			}
			if d != wantDenom {
				t.Fatalf("%s: Decode(%d, %d) chose 1/%d, want 1/%d", f.name, sw, sh, d, wantDenom)
			}
			if got.Bounds() != image.Rect(0, 0, sw, sh) {
				t.Fatalf("%s 1/%d: bounds %v, want %dx%d", f.name, denom, got.Bounds(), sw, sh)
			}
			if exact && fmt.Sprintf("%T", got) != fmt.Sprintf("%T", full) {
				t.Fatalf("%s 1/%d: got %T, want %T", f.name, denom, got, full)
			}
			p := psnr(toRGBA(got), boxDown(fullRGBA, denom))
			if p < f.minPSNR {
				t.Errorf("%s 1/%d: PSNR %.1f dB vs box-downscaled full decode, want >= %.0f", f.name, denom, p, f.minPSNR)
			} else {
				t.Logf("%s 1/%d: PSNR %.1f dB", f.name, denom, p)
			}
		}
	}
}

func TestChooseDenom(t *testing.T) {
	for _, tc := range []struct{ w, h, minW, minH, want int }{
		{4000, 3000, 200, 150, 8},
		{4000, 3000, 0, 0, 8},
		{1600, 1200, 300, 200, 4},
		{1600, 1200, 401, 1, 2},
		{1600, 1200, 1600, 1200, 1},
		{1601, 1201, 201, 151, 8}, // ceil(1601/8) = 201.
		{1601, 1201, 202, 151, 4},
		{100, 100, 200, 200, 1}, // never upscales.
	} {
		if got := Denom(tc.w, tc.h, tc.minW, tc.minH); got != tc.want {
			t.Errorf("Denom(%d, %d, %d, %d) = %d, want %d", tc.w, tc.h, tc.minW, tc.minH, got, tc.want)
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	for _, f := range stdlibTestdata(t) {
		got, err := DecodeConfig(bytes.NewReader(f.data))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		want, err := jpeg.DecodeConfig(bytes.NewReader(f.data))
		if err != nil {
			t.Fatalf("%s: image/jpeg: %v", f.name, err)
		}
		if got != want {
			t.Errorf("%s: got %+v, want %+v", f.name, got, want)
		}
	}
}

// TestTruncated checks that every prefix of a few files either decodes or
// fails with an error, at every scale, without panicking.
func TestTruncated(t *testing.T) {
	files := syntheticFiles(t)
	if testing.Short() {
		files = files[:2]
	}
	for _, f := range files {
		step := max(1, len(f.data)/150)
		for n := 0; n < len(f.data); n += step {
			for _, min := range []int{0, 100, 200, 10000} {
				// Either outcome is fine; only a panic fails the test.
				_, _, _ = Decode(bytes.NewReader(f.data[:n]), min, min)
			}
		}
		if _, _, err := Decode(bytes.NewReader(f.data[:len(f.data)/2]), 0, 0); err == nil {
			t.Errorf("%s: half the file decoded without error", f.name)
		}
	}
}

// TestGrayIsGray checks that a grayscale JPEG decodes to a scaled *image.Gray
// whose size is rounded up.
func TestGrayIsGray(t *testing.T) {
	var buf bytes.Buffer
	src := image.NewGray(image.Rect(0, 0, 64, 40))
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	if err := jpeg.Encode(&buf, src, nil); err != nil {
		t.Fatal(err)
	}
	m, denom, err := Decode(&buf, 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*image.Gray); !ok || denom != 4 || m.Bounds() != image.Rect(0, 0, 16, 10) {
		t.Fatalf("got %T %v 1/%d", m, m.Bounds(), denom)
	}
}

// TestChromaScale checks the output subsampling: 4:2:0 chroma is
// reconstructed at twice the luma's reduced scale, so scaled output is 4:4:4,
// while 1/1 keeps image/jpeg's 4:2:0.
func TestChromaScale(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, synthetic(100, 60), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		min   int
		ratio image.YCbCrSubsampleRatio
	}{
		{1000, image.YCbCrSubsampleRatio420},
		{50, image.YCbCrSubsampleRatio444},
		{0, image.YCbCrSubsampleRatio444},
	} {
		m, denom, err := Decode(bytes.NewReader(buf.Bytes()), tc.min, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r := m.(*image.YCbCr).SubsampleRatio; r != tc.ratio {
			t.Errorf("1/%d: subsample ratio %v, want %v", denom, r, tc.ratio)
		}
	}
}

// TestKeep420: with Keep420 a scaled 4:2:0 JPEG stays 4:2:0, its luma the
// same as without, its chroma at the luma's scale and close to the average
// of the full-resolution chroma Decode gives.
func TestKeep420(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, synthetic(100, 60), nil); err != nil {
		t.Fatal(err)
	}
	for _, min := range []int{50, 25, 13, 0} {
		full, denom, err := Decode(bytes.NewReader(buf.Bytes()), min, 0)
		if err != nil {
			t.Fatal(err)
		}
		m, kdenom, err := DecodeWith(bytes.NewReader(buf.Bytes()), Options{MinWidth: min, Keep420: true})
		if err != nil {
			t.Fatal(err)
		}
		f, k := full.(*image.YCbCr), m.(*image.YCbCr)
		if kdenom != denom || k.Rect != f.Rect || k.SubsampleRatio != image.YCbCrSubsampleRatio420 {
			t.Fatalf("min %d: 1/%d %v %v, want 1/%d %v 4:2:0", min, kdenom, k.Rect, k.SubsampleRatio, denom, f.Rect)
		}
		if denom == 1 {
			if !reflect.DeepEqual(k, f) {
				t.Errorf("min %d: the full-size decode changed", min)
			}
			continue
		}
		for y := f.Rect.Min.Y; y < f.Rect.Max.Y; y++ {
			for x := f.Rect.Min.X; x < f.Rect.Max.X; x++ {
				if a, b := k.Y[k.YOffset(x, y)], f.Y[f.YOffset(x, y)]; a != b {
					t.Fatalf("min %d: luma at (%d,%d) is %d, without Keep420 %d", min, x, y, a, b)
				}
			}
		}
		// Each kept chroma sample against the mean of the 2x2 full-resolution
		// samples it covers: the scaled IDCT of one block against the average
		// of a larger one's, so close but not equal.
		var worst int
		for y := f.Rect.Min.Y; y < f.Rect.Max.Y; y += 2 {
			for x := f.Rect.Min.X; x < f.Rect.Max.X; x += 2 {
				for _, pl := range [][2][]uint8{{k.Cb, f.Cb}, {k.Cr, f.Cr}} {
					var sum, n int
					for dy := 0; dy < 2 && y+dy < f.Rect.Max.Y; dy++ {
						for dx := 0; dx < 2 && x+dx < f.Rect.Max.X; dx++ {
							sum += int(pl[1][f.COffset(x+dx, y+dy)])
							n++
						}
					}
					d := int(pl[0][k.COffset(x, y)]) - (sum+n/2)/n
					worst = max(worst, d, -d)
				}
			}
		}
		if worst > 8 {
			t.Errorf("min %d (1/%d): a kept chroma sample is %d from the mean of the full-resolution ones", min, denom, worst)
		}
	}
}
