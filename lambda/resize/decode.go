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

// decoded is a source's pixels and what is left to do to them.
type decoded struct {
	img image.Image
	// plan is the geometry still to apply to img. A PNG arrives already
	// cropped to the Cover region and box-reduced, so its plan has no crop.
	plan Plan
	// denom is the JPEG's DCT scale denominator (1 for other formats).
	denom int
}

// decode decodes the pixels for plan p (in stored orientation) and a
// thumbnail in the format out, without producing those that would only be
// averaged away: JPEGs decode at a reduced DCT scale (keeping 4:2:0 chroma
// subsampled when the thumbnail is a JPEG, which subsamples it again), PNGs
// are box-reduced row by row as they are inflated.
func decode(key string, h header, src []byte, p Plan, out string) (decoded, error) {
	d := decoded{plan: p, denom: 1}
	var err error
	switch h.format {
	case formatJPEG:
		d.img, d.denom, err = decodeJPEG(src, p, out == formatJPEG)
	case formatPNG:
		d.img, err = decodePNGReduced(src, h, p)
		d.plan = p.cropped()
	case formatGIF:
		d.img, err = decodeGIFFirstFrame(src, h)
	}
	if err != nil {
		return decoded{}, newError(key, ReasonCorrupt, err, "cannot decode the %s image (%dx%d)", h.format, h.width, h.height)
	}
	if b := d.img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return decoded{}, newError(key, ReasonCorrupt, nil, "%s image decodes to %dx%d pixels", h.format, b.Dx(), b.Dy())
	}
	return d, nil
}

// decodePNGReduced feeds the decoder's rows straight into the box reduction
// of the Cover region: a PNG has no reduced-scale decoding, and most of the
// cost beyond inflating it was writing and reading back a full-size image
// (33 MB for a 4K photo) that the reduction only averages.
func decodePNGReduced(src []byte, h header, p Plan) (image.Image, error) {
	region := cropRegion(image.Rect(0, 0, h.width, h.height), p)
	fx, fy := reduceFactors(region.Dx(), region.Dy(), p.Width, p.Height)
	r := newBoxReducer(region, fx, fy)
	if err := pngfast.DecodeRows(src, r.addRow); err != nil {
		return nil, err
	}
	return r.result(), nil
}

// decodeJPEG decodes at the smallest DCT scale (1/1, 1/2, 1/4, 1/8) whose
// result still covers the plan's scaled size with decodeGap to spare: the
// scaled inverse DCT averages each 8x8 block's frequencies instead of
// producing pixels the resampler would only average away, which is most of
// the time and memory of a full decode. For a JPEG thumbnail, which image/jpeg
// writes 4:2:0, a 4:2:0 source's chroma stays at half the luma's resolution
// (at least 0.625 of the thumbnail's, more than the 0.5 the encoder keeps):
// 12-18% less time on 4:2:0 photos than reconstructing it at full resolution.
func decodeJPEG(src []byte, p Plan, forJPEG bool) (image.Image, int, error) {
	return jpegscale.DecodeWith(bytes.NewReader(src), jpegscale.Options{
		MinWidth:  decodeMin(p.ScaledWidth),
		MinHeight: decodeMin(p.ScaledHeight),
		Keep420:   forJPEG,
	})
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
