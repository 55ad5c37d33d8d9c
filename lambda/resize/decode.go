package resize

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	_ "image/jpeg" // registers JPEG for header sniffing
	_ "image/png"  // registers PNG for header sniffing

	"github.com/resize-operator/resize-operator/lambda/internal/jpegscale"
	"github.com/resize-operator/resize-operator/lambda/internal/pngfast"
)

// Source formats as named by the image package's registry.
const (
	formatJPEG = "jpeg"
	formatPNG  = "png"
	formatGIF  = "gif"
)

// header is what is known about a source image before any pixel is decoded.
type header struct {
	format        string
	width, height int // as stored
	orientation   int
}

// readHeader sniffs the format and size from the first bytes of src and
// enforces the pixel limit. Decoders allocate their buffers from the header's
// claims, so this check is what stops a decompression bomb.
func readHeader(key string, src []byte, maxPixels int64) (header, error) {
	var h header
	if len(src) == 0 {
		return h, newError(key, ReasonNotImage, nil, "object is empty")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(src))
	if errors.Is(err, image.ErrFormat) {
		return h, newError(key, ReasonNotImage, nil, "not a JPEG, PNG or GIF (%s)", describeMagic(src))
	}
	if err != nil {
		return h, newError(key, ReasonCorrupt, err, "cannot read the %s header", formatOf(src))
	}
	switch format {
	case formatJPEG, formatPNG, formatGIF:
	default:
		// The registry also knows formats that imaging's dependencies
		// register (BMP, TIFF); they are refused rather than trusted.
		return h, newError(key, ReasonNotImage, nil, "format %s is not supported; use JPEG, PNG or GIF", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return h, newError(key, ReasonCorrupt, nil, "%s header claims %dx%d pixels", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return h, newError(key, ReasonTooManyPixels, nil,
			"%s header claims %dx%d = %d pixels, more than the limit of %d (%s)",
			format, cfg.Width, cfg.Height, px, maxPixels, EnvMaxSourcePixels)
	}
	h = header{format: format, width: cfg.Width, height: cfg.Height, orientation: orientNormal}
	if format == formatJPEG {
		h.orientation = jpegOrientation(src)
	}
	return h, nil
}

// decode decodes the pixels. minW x minH (in stored orientation) is the
// smallest size the caller can use; JPEG decoding may stop at a DCT scale
// that still covers it. It returns the image and the scale denominator used.
func decode(key string, h header, src []byte, minW, minH int) (image.Image, int, error) {
	var (
		img   image.Image
		denom = 1
		err   error
	)
	switch h.format {
	case formatJPEG:
		img, denom, err = decodeJPEG(src, minW, minH)
	case formatPNG:
		// pngfast decodes exactly as image/png does, in less CPU time.
		img, err = pngfast.Decode(src)
	case formatGIF:
		img, err = decodeGIFFirstFrame(src, h)
	}
	if err != nil {
		return nil, 0, newError(key, ReasonCorrupt, err, "cannot decode the %s image (%dx%d)", h.format, h.width, h.height)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, 0, newError(key, ReasonCorrupt, nil, "%s image decodes to %dx%d pixels", h.format, b.Dx(), b.Dy())
	}
	return img, denom, nil
}

// decodeJPEG decodes at the smallest DCT scale (1/1, 1/2, 1/4, 1/8) whose
// result still covers minW x minH: the scaled inverse DCT averages each 8x8
// block's frequencies instead of producing pixels the resampler would only
// average away, which is most of the time and memory of a full decode.
func decodeJPEG(src []byte, minW, minH int) (image.Image, int, error) {
	return jpegscale.Decode(bytes.NewReader(src), minW, minH)
}

// decodeGIFFirstFrame returns the first frame of a (possibly animated) GIF on
// a canvas of the GIF's logical size. gif.Decode stops after the first frame,
// whose rectangle may be smaller than the canvas; the rest stays transparent,
// as a viewer shows it. The canvas keeps the frame's palette so a GIF
// thumbnail is quantised to the source's own colours.
func decodeGIFFirstFrame(src []byte, h header) (image.Image, error) {
	img, err := gif.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	canvas := image.Rect(0, 0, h.width, h.height)
	frame, ok := img.(*image.Paletted)
	if !ok || frame.Bounds() == canvas {
		return img, nil
	}
	pal := frame.Palette
	transparent := -1
	for i, c := range pal {
		if _, _, _, a := c.RGBA(); a == 0 {
			transparent = i
			break
		}
	}
	if transparent < 0 {
		if len(pal) == 256 {
			dst := image.NewNRGBA(canvas)
			draw.Draw(dst, frame.Bounds().Intersect(canvas), frame, frame.Bounds().Min, draw.Src)
			return dst, nil
		}
		pal = append(append(color.Palette{}, pal...), color.Transparent)
		transparent = len(pal) - 1
	}
	dst := image.NewPaletted(canvas, pal)
	for i := range dst.Pix {
		dst.Pix[i] = uint8(transparent)
	}
	r := frame.Bounds().Intersect(canvas)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(dst.Pix[dst.PixOffset(r.Min.X, y):dst.PixOffset(r.Max.X, y)], frame.Pix[frame.PixOffset(r.Min.X, y):])
	}
	return dst, nil
}

// formatOf names the format a corrupt header was sniffed as, for messages.
func formatOf(src []byte) string {
	switch {
	case bytes.HasPrefix(src, []byte("\xFF\xD8")):
		return "JPEG"
	case bytes.HasPrefix(src, []byte("\x89PNG")):
		return "PNG"
	case bytes.HasPrefix(src, []byte("GIF8")):
		return "GIF"
	}
	return "image"
}

// describeMagic shows the first bytes of an unrecognised object, which is
// usually enough to tell an HTML error page or a HEIC from a truncated file.
func describeMagic(src []byte) string {
	n := min(len(src), 8)
	var b bytes.Buffer
	b.WriteString("starts with")
	for _, c := range src[:n] {
		b.WriteString(" ")
		const hex = "0123456789abcdef"
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
