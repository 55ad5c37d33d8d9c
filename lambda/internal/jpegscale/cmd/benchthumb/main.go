// Command benchthumb times 200x200 thumbnails of image files through the Go
// path, one process per call so that the caller can measure its peak RSS, and
// measures thumbnail quality against a full-resolution Lanczos reference.
// hack/bench-lambda/run.sh drives it.
//
//	benchthumb time -path jpegscale|resize -iters N -out DIR FILE...
//	benchthumb psnr SOURCE THUMB...
//	benchthumb methods -iters N FILE...
//
// "time" prints one line per file: name, median milliseconds, thumbnail
// width and height, the DCT scale denominator used, and the median CPU
// milliseconds of the process (all threads, including the garbage
// collector's), which a shared machine disturbs less than wall time. "psnr" prints, per
// thumbnail file, its PSNR against the reference: the source decoded at full
// size and resized with imaging's Lanczos filter to the thumbnail's size.
// "methods" compares ways of making the thumbnail from a JPEG (decode scale
// and resampling filter) by median CPU time and PSNR before encoding.
// Its first line, named "resample", is the PSNR of the Go path's thumbnail
// before encoding (scaled decode and Lanczos), which measures what scaled
// decoding costs in quality apart from JPEG compression.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/disintegration/imaging"

	"github.com/resize-operator/resize-operator/lambda/internal/jpegscale"
	"github.com/resize-operator/resize-operator/lambda/resize"
)

const box = 200

// decodeGap is how much larger than the thumbnail the DCT-scaled decode must
// be, as in lambda/resize: a 1/8 decode is an 8x8 box average, and Lanczos
// needs some room above the target size to filter well.
var decodeGap = 1.25

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "time":
		err = timeCmd(os.Args[2:])
	case "psnr":
		err = psnrCmd(os.Args[2:])
	case "methods":
		err = methodsCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchthumb:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchthumb time -path jpegscale|resize -iters N -out DIR FILE...\n       benchthumb psnr SOURCE THUMB...")
	os.Exit(2)
}

func timeCmd(args []string) error {
	fs := flag.NewFlagSet("time", flag.ExitOnError)
	path := fs.String("path", "jpegscale", "jpegscale: jpegscale.Decode + imaging Lanczos + encode; resize: lambda/resize.Thumbnail")
	iters := fs.Int("iters", 5, "thumbnails per file; the median is reported")
	out := fs.String("out", "", "directory for the thumbnails (for the PSNR step)")
	fs.Float64Var(&decodeGap, "gap", decodeGap, "jpegscale path: minimum decoded size as a multiple of the thumbnail's")
	gcEach := fs.Bool("gc", false, "run resize.Collect after each thumbnail, outside the timing, as the Lambda handler does before each invocation")
	_ = fs.Parse(args) // ExitOnError: Parse exits rather than return an error
	var thumb func([]byte) ([]byte, int, int, int, error)
	switch *path {
	case "jpegscale":
		thumb = thumbJPEGScale
	case "resize":
		opts := resize.DefaultOptions()
		opts.MaxWidth, opts.MaxHeight = box, box
		thumb = func(src []byte) ([]byte, int, int, int, error) {
			r, err := resize.Thumbnail("bench", src, opts)
			if err != nil {
				return nil, 0, 0, 0, err
			}
			return r.Data, r.Width, r.Height, r.DecodeScale, nil
		}
	default:
		return fmt.Errorf("unknown -path %q", *path)
	}
	for _, f := range fs.Args() {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var ts, cpu []float64
		var data []byte
		var w, h, denom int
		for i := 0; i < *iters; i++ {
			c0, t0 := processCPU(), time.Now()
			data, w, h, denom, err = thumb(src)
			if err != nil {
				return fmt.Errorf("%s: %v", f, err)
			}
			ts = append(ts, float64(time.Since(t0).Microseconds())/1000)
			cpu = append(cpu, float64((processCPU()-c0).Microseconds())/1000)
			if *gcEach {
				resize.Collect()
			}
		}
		sort.Float64s(ts)
		sort.Float64s(cpu)
		fmt.Printf("%s\t%.1f\t%d\t%d\t%d\t%.1f\n", filepath.Base(f), ts[len(ts)/2], w, h, denom, cpu[len(cpu)/2])
		if *out != "" {
			if err := os.WriteFile(filepath.Join(*out, filepath.Base(f)+".thumb"), data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// processCPU is the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fitInside is the size of a w x h image fitted inside the box, keeping its
// aspect ratio and never upscaling.
func fitInside(w, h int) (int, int) {
	if w <= box && h <= box {
		return w, h
	}
	if w*box >= h*box && w >= h {
		return box, max(1, int(math.Round(float64(h)*box/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*box/float64(h)))), box
}

// thumbJPEGScale is the Go thumbnail path measured when lambda/resize is not
// used: JPEGs decoded at the smallest DCT scale that still covers the
// thumbnail, PNGs decoded in full, then imaging's Lanczos to the fitted size
// and encoding in the source's format (JPEG at quality 85).
func thumbJPEGScale(src []byte) ([]byte, int, int, int, error) {
	t, err := resampleJPEGScale(src)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	var buf bytes.Buffer
	if bytes.HasPrefix(src, []byte("\x89PNG")) {
		err = png.Encode(&buf, t)
	} else {
		err = jpeg.Encode(&buf, t, &jpeg.Options{Quality: 85})
	}
	return buf.Bytes(), t.Rect.Dx(), t.Rect.Dy(), lastDenom, err
}

// lastDenom is the scale denominator of the last resampleJPEGScale call.
var lastDenom int

// resampleJPEGScale is thumbJPEGScale without the encoding.
func resampleJPEGScale(src []byte) (*image.NRGBA, error) {
	var img image.Image
	denom := 1
	isPNG := bytes.HasPrefix(src, []byte("\x89PNG"))
	if isPNG {
		m, err := png.Decode(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		img = m
	} else {
		cfg, err := jpegscale.DecodeConfig(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		w, h := fitInside(cfg.Width, cfg.Height)
		img, denom, err = jpegscale.Decode(bytes.NewReader(src), int(math.Ceil(float64(w)*decodeGap)), int(math.Ceil(float64(h)*decodeGap)))
		if err != nil {
			return nil, err
		}
	}
	lastDenom = denom
	b := img.Bounds()
	w, h := fitInside(b.Dx()*denom, b.Dy()*denom)
	return imaging.Resize(img, w, h, imaging.Lanczos), nil
}

func psnrCmd(args []string) error {
	if len(args) < 2 {
		usage()
	}
	src, err := decodeFile(args[0])
	if err != nil {
		return err
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	ours, err := resampleJPEGScale(data)
	if err != nil {
		return err
	}
	ob := ours.Bounds()
	fmt.Printf("resample\t%.1f\n", psnr(imaging.Resize(src, ob.Dx(), ob.Dy(), imaging.Lanczos), ours))
	for _, t := range args[1:] {
		thumb, err := decodeFile(t)
		if err != nil {
			return err
		}
		tb := thumb.Bounds()
		ref := imaging.Resize(src, tb.Dx(), tb.Dy(), imaging.Lanczos)
		fmt.Printf("%s\t%.1f\n", filepath.Base(t), psnr(ref, thumb))
	}
	return nil
}

func decodeFile(p string) (image.Image, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // opened for reading only
	m, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return m, nil
}

// psnr compares the RGB channels, with both images composited onto white
// (as a JPEG thumbnail of a transparent PNG would be).
func psnr(a, b image.Image) float64 {
	ra, rb := flatten(a), flatten(b)
	var se float64
	for i := 0; i < len(ra.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			d := float64(ra.Pix[i+c]) - float64(rb.Pix[i+c])
			se += d * d
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	n := float64(len(ra.Pix) / 4 * 3)
	return 10 * math.Log10(255*255/(se/n))
}

func flatten(m image.Image) *image.RGBA {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), m, b.Min, draw.Over)
	return dst
}

func methodsCmd(args []string) error {
	fs := flag.NewFlagSet("methods", flag.ExitOnError)
	iters := fs.Int("iters", 5, "runs per file and method; the median CPU time is reported")
	_ = fs.Parse(args) // ExitOnError: Parse exits rather than return an error
	type method struct {
		name   string
		gap    float64
		filter imaging.ResampleFilter
	}
	methods := []method{
		{"Lanczos, gap 1.0", 1.0, imaging.Lanczos},
		{"Lanczos, gap 1.25", 1.25, imaging.Lanczos},
		{"Lanczos, gap 2.0", 2.0, imaging.Lanczos},
		{"CatmullRom, gap 1.25", 1.25, imaging.CatmullRom},
		{"CatmullRom, gap 2.0", 2.0, imaging.CatmullRom},
		{"Linear, gap 1.25", 1.25, imaging.Linear},
		{"Box, gap 1.25", 1.25, imaging.Box},
	}
	fmt.Println("| image | method | denom | CPU ms | PSNR dB |")
	fmt.Println("|---|---|---|---|---|")
	for _, f := range fs.Args() {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		full, _, err := image.Decode(bytes.NewReader(src))
		if err != nil {
			return fmt.Errorf("%s: %v", f, err)
		}
		fb := full.Bounds()
		w, h := fitInside(fb.Dx(), fb.Dy())
		ref := imaging.Resize(full, w, h, imaging.Lanczos)
		full = nil
		for _, m := range methods {
			var cpu []float64
			var t *image.NRGBA
			var denom int
			for i := 0; i < *iters; i++ {
				c0 := processCPU()
				var img image.Image
				img, denom, err = jpegscale.Decode(bytes.NewReader(src), int(math.Ceil(float64(w)*m.gap)), int(math.Ceil(float64(h)*m.gap)))
				if err != nil {
					return fmt.Errorf("%s: %v", f, err)
				}
				t = imaging.Resize(img, w, h, m.filter)
				cpu = append(cpu, float64((processCPU()-c0).Microseconds())/1000)
			}
			sort.Float64s(cpu)
			fmt.Printf("| %s | %s | 1/%d | %.1f | %.1f |\n", filepath.Base(f), m.name, denom, cpu[len(cpu)/2], psnr(ref, t))
		}
	}
	return nil
}
