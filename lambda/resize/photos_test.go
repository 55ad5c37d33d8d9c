package resize

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// Real photographs come from Debian packages, installed by the test setup and
// never committed:
//
//	apt-get install plasma-workspace-wallpapers mate-backgrounds
const photosHint = "real photos not installed; run: apt-get install plasma-workspace-wallpapers mate-backgrounds"

type photo struct {
	path          string
	srcW, srcH    int // as displayed
	insideW       int // thumbnail in a 200x200 box, Inside
	insideH       int
	minDecodeDiv  int // smallest DCT scale denominator expected (JPEG)
	transparentPx bool
}

// photos is the golden dimension table: sizes read from the files by other
// tools (file(1)), thumbnail sizes by hand from the rounding rule.
var photos = []photo{
	{path: "/usr/share/wallpapers/Flow/contents/images/5120x2880.jpg", srcW: 5120, srcH: 2880, insideW: 200, insideH: 113, minDecodeDiv: 8},
	{path: "/usr/share/wallpapers/Shell/contents/images/720x1440.jpg", srcW: 720, srcH: 1440, insideW: 100, insideH: 200, minDecodeDiv: 4},
	{path: "/usr/share/wallpapers/SafeLanding/contents/images/1622x2880.jpg", srcW: 1622, srcH: 2880, insideW: 113, insideH: 200, minDecodeDiv: 8},
	{path: "/usr/share/wallpapers/PastelHills/contents/images/3200x2000.jpg", srcW: 3200, srcH: 2000, insideW: 200, insideH: 125, minDecodeDiv: 8},
	{path: "/usr/share/wallpapers/Autumn/contents/images/2560x1600.jpg", srcW: 2560, srcH: 1600, insideW: 200, insideH: 125, minDecodeDiv: 8},
	{path: "/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg", srcW: 5640, srcH: 3172, insideW: 200, insideH: 112, minDecodeDiv: 8},
	{path: "/usr/share/backgrounds/mate/abstract/Elephants.jpg", srcW: 1920, srcH: 1080, insideW: 200, insideH: 113, minDecodeDiv: 4}, // progressive
	{path: "/usr/share/backgrounds/mate/nature/FreshFlower.jpg", srcW: 1600, srcH: 1203, insideW: 200, insideH: 150, minDecodeDiv: 4}, // progressive; 1/8 would be within decodeGap
	{path: "/usr/share/backgrounds/mate/nature/Wood.jpg", srcW: 2560, srcH: 1920, insideW: 200, insideH: 150, minDecodeDiv: 8},
	{path: "/usr/share/wallpapers/Kay/contents/images/1080x1920.png", srcW: 1080, srcH: 1920, insideW: 113, insideH: 200},
	{path: "/usr/share/wallpapers/Canopee/contents/images/3840x2160.png", srcW: 3840, srcH: 2160, insideW: 200, insideH: 113},
	{path: "/usr/share/backgrounds/mate/abstract/Arc-Colors-Transparent-Wallpaper.png", srcW: 2140, srcH: 1200, insideW: 200, insideH: 112, transparentPx: true},
	{path: "/usr/share/backgrounds/mate/desktop/Stripes.png", srcW: 1920, srcH: 1200, insideW: 200, insideH: 125}, // gray+alpha
}

func availablePhotos(t *testing.T) []photo {
	t.Helper()
	var have []photo
	for _, p := range photos {
		if _, err := os.Stat(p.path); err == nil {
			have = append(have, p)
		}
	}
	if len(have) == 0 {
		t.Skip(photosHint)
	}
	if len(have) < len(photos) {
		t.Logf("%d of %d photos present; %s", len(have), len(photos), photosHint)
	}
	return have
}

// photoName is the package's folder and the file, e.g. "Flow/5120x2880.jpg".
func photoName(p photo) string {
	dir := filepath.Dir(p.path)
	if filepath.Base(dir) == "images" {
		dir = filepath.Dir(filepath.Dir(dir))
	}
	return filepath.Base(dir) + "/" + filepath.Base(p.path)
}

func readPhoto(t *testing.T, p photo) []byte {
	t.Helper()
	data, err := os.ReadFile(p.path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPhotosGoldenSizes(t *testing.T) {
	for _, p := range availablePhotos(t) {
		t.Run(photoName(p), func(t *testing.T) {
			src := readPhoto(t, p)
			for _, c := range []struct {
				fit  Fit
				w, h int
			}{{FitInside, p.insideW, p.insideH}, {FitCover, 200, 200}, {FitFill, 200, 200}} {
				res := mustThumb(t, src, opts(func(o *Options) { o.Fit = c.fit }))
				img, format := decodeImage(t, res.Data)
				if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h || res.Width != c.w || res.Height != c.h {
					t.Errorf("%s: %v (result %dx%d), want %dx%d", c.fit, b.Size(), res.Width, res.Height, c.w, c.h)
				}
				if res.SourceWidth != p.srcW || res.SourceHeight != p.srcH {
					t.Errorf("source %dx%d, want %dx%d", res.SourceWidth, res.SourceHeight, p.srcW, p.srcH)
				}
				if format != res.SourceFormat {
					t.Errorf("wrote %s for a %s source with Format=Source", format, res.SourceFormat)
				}
				if c.fit == FitInside && p.minDecodeDiv > 0 && res.DecodeScale < p.minDecodeDiv {
					t.Errorf("decoded at 1/%d, expected at least 1/%d for a %dx%d thumbnail", res.DecodeScale, p.minDecodeDiv, c.w, c.h)
				}
			}
		})
	}
}

// TestPhotosQuality compares each thumbnail (written as PNG, so only the
// resampling is measured) with a reference made the slow way: full-size
// decode and one Lanczos pass. Scaled JPEG decoding must not cost visible
// quality.
func TestPhotosQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size reference decodes are slow")
	}
	for _, p := range availablePhotos(t) {
		src := readPhoto(t, p)
		res := mustThumb(t, src, opts(func(o *Options) { o.Format = FormatPNG }))
		got, _ := decodeImage(t, res.Data)
		full, _, err := image.Decode(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		ref := imaging.Resize(full, res.Width, res.Height, imaging.Lanczos)
		db := psnr(got, ref)
		t.Logf("%s: %dx%d at 1/%d, PSNR %.1f dB", photoName(p), res.Width, res.Height, res.DecodeScale, db)
		if db < 35 {
			t.Errorf("%s: PSNR %.1f dB against the full-resolution Lanczos reference, want >= 35", p.path, db)
		}
	}
}

// TestPhotosJPEGChroma: a JPEG thumbnail of a 4:2:0 photo, made with the
// source's chroma left subsampled, is as close to the full-resolution
// reference as one made with the chroma reconstructed at full resolution:
// image/jpeg subsamples it again on writing.
func TestPhotosJPEGChroma(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size reference decodes are slow")
	}
	tested := 0
	for _, p := range availablePhotos(t) {
		src := readPhoto(t, p)
		h, err := readHeader(p.path, src, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if h.format != formatJPEG {
			continue
		}
		plan := PlanSize(h.width, h.height, 200, 200, FitInside)
		full, _, err := image.Decode(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		if yc, ok := full.(*image.YCbCr); !ok || yc.SubsampleRatio != image.YCbCrSubsampleRatio420 {
			continue
		}
		ref := imaging.Resize(full, plan.Width, plan.Height, imaging.Lanczos)
		var db [2]float64
		var ratio image.YCbCrSubsampleRatio
		for i, keep := range []bool{false, true} {
			img, denom, err := decodeJPEG(src, plan, keep)
			if err != nil {
				t.Fatal(err)
			}
			if keep && denom > 1 {
				ratio = img.(*image.YCbCr).SubsampleRatio
			}
			enc, err := encodePlanes(resamplePlanes(img, plan, orientNormal), formatJPEG, 85)
			if err != nil {
				t.Fatal(err)
			}
			thumb, _ := decodeImage(t, enc.data)
			db[i] = psnr(thumb, ref)
		}
		t.Logf("%s: JPEG thumbnail PSNR %.2f dB with full-resolution chroma, %.2f dB with it kept 4:2:0", photoName(p), db[0], db[1])
		if ratio != image.YCbCrSubsampleRatio420 {
			t.Errorf("%s: scaled decode for a JPEG thumbnail is %v, want 4:2:0 kept", photoName(p), ratio)
		}
		if db[1] < db[0]-0.2 {
			t.Errorf("%s: keeping the chroma subsampled cost %.2f dB", photoName(p), db[0]-db[1])
		}
		tested++
	}
	if tested == 0 {
		t.Skip("no 4:2:0 photo installed; " + photosHint)
	}
}

// TestPhotoOrientation tags a real camera photo as rotated (orientation 6,
// what a phone held upright writes) and expects the upright thumbnail.
func TestPhotoOrientation(t *testing.T) {
	const path = "/usr/share/backgrounds/mate/nature/Wood.jpg"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Skip(photosHint)
	}
	plain := mustThumb(t, src, opts(func(o *Options) { o.Format = FormatPNG }))
	rotated := mustThumb(t, withOrientation(src, 6, binary.BigEndian), opts(func(o *Options) { o.Format = FormatPNG }))
	if rotated.Width != 150 || rotated.Height != 200 || rotated.SourceWidth != 1920 || rotated.SourceHeight != 2560 {
		t.Fatalf("got %dx%d from %dx%d, want 150x200 from 1920x2560", rotated.Width, rotated.Height, rotated.SourceWidth, rotated.SourceHeight)
	}
	a, _ := decodeImage(t, plain.Data)
	b, _ := decodeImage(t, rotated.Data)
	// Orientation 6 is displayed by turning the stored image 90° clockwise.
	if db := psnr(imaging.Rotate270(a), b); db < 40 {
		t.Errorf("rotated thumbnail differs from the turned plain one: PSNR %.1f dB", db)
	}
}

func TestPhotoAlpha(t *testing.T) {
	var p photo
	for _, c := range availablePhotos(t) {
		if c.transparentPx {
			p = c
		}
	}
	if p.path == "" {
		t.Skip(photosHint)
	}
	src := readPhoto(t, p)
	res := mustThumb(t, src, DefaultOptions())
	img, err := png.Decode(bytes.NewReader(res.Data))
	if err != nil {
		t.Fatal(err)
	}
	if opaque(img) {
		t.Errorf("PNG thumbnail of %s lost its transparency", p.path)
	}
	res = mustThumb(t, src, opts(func(o *Options) { o.Format = FormatJPEG }))
	if _, err := jpeg.Decode(bytes.NewReader(res.Data)); err != nil || res.ContentType != "image/jpeg" {
		t.Errorf("JPEG thumbnail: %v, %s", err, res.ContentType)
	}
}

func opaque(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}

// psnr over the RGB channels (alpha-premultiplied, as the images would be
// shown on black), in dB.
func psnr(a, b image.Image) float64 {
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Size() != bb.Size() {
		return 0
	}
	var sum float64
	n := 0
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range []float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				sum += d * d
				n++
			}
		}
	}
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(sum/float64(n)))
}
