package resize

import (
	"image"
	"math"

	"github.com/disintegration/imaging"
)

// Result is a thumbnail and what was learnt making it.
type Result struct {
	Data        []byte
	ContentType string
	// Width x Height is the thumbnail's size.
	Width, Height int
	// SourceFormat is "jpeg", "png" or "gif".
	SourceFormat string
	// SourceWidth x SourceHeight is the source's size as displayed, that is
	// after its EXIF orientation.
	SourceWidth, SourceHeight int
	// Orientation is the EXIF orientation that was applied (1 = none).
	Orientation int
	// DecodeScale is the DCT scale denominator the JPEG was decoded at
	// (1 = full size; always 1 for PNG and GIF).
	DecodeScale int
}

// Thumbnail makes the thumbnail of the encoded image src, stored under key
// (used in error messages only). Invalid opts and a src over MaxSourceBytes
// are refused here too, though a caller that downloads src should refuse an
// oversized object before reading it. Every error is an *Error.
func Thumbnail(key string, src []byte, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, newError(key, ReasonInvalidRequest, err, "invalid options")
	}
	if int64(len(src)) > opts.MaxSourceBytes {
		return nil, newError(key, ReasonTooLarge, nil, "object is %d bytes, more than the limit of %d (%s)",
			len(src), opts.MaxSourceBytes, EnvMaxSourceBytes)
	}
	h, err := readHeader(key, src, opts.MaxSourcePixels)
	if err != nil {
		return nil, err
	}

	// Plan in display orientation (that is what the box is for), then turn
	// the plan back to the stored orientation: resampling happens before the
	// orientation is applied, so the transform only touches the small result.
	dispW, dispH := h.width, h.height
	if swapsAxes(h.orientation) {
		dispW, dispH = dispH, dispW
	}
	plan := PlanSize(dispW, dispH, opts.MaxWidth, opts.MaxHeight, opts.Fit)
	stored := plan
	if swapsAxes(h.orientation) {
		stored = plan.transposed()
	}

	format := outputFormat(opts.Format, h.format)
	d, err := decode(key, h, src, stored, format)
	if err != nil {
		return nil, err
	}
	var out encoded
	if planes := resamplePlanes(d.img, d.plan, h.orientation); planes != nil {
		out, err = encodePlanes(planes, format, opts.Quality)
	} else {
		out, err = encode(orient(resample(d.img, d.plan), h.orientation), format, opts.Quality, d.img)
	}
	if err != nil {
		return nil, newError(key, ReasonCorrupt, err, "cannot encode the thumbnail")
	}
	return &Result{
		Data:         out.data,
		ContentType:  out.contentType,
		Width:        plan.Width,
		Height:       plan.Height,
		SourceFormat: h.format,
		SourceWidth:  dispW,
		SourceHeight: dispH,
		Orientation:  h.orientation,
		DecodeScale:  d.denom,
	}, nil
}

// decodeGap is how much larger than the thumbnail a DCT-scaled decode must
// be. A 1/8 decode is an 8x8 box average; when it lands just above the target
// size, the Lanczos pass has almost nothing left to filter and the box's
// softness shows (33.6 dB against a full-resolution Lanczos reference on a
// 1600x1203 photo at gap 1.0, 45.9 dB at 1.25). Pillow's thumbnail uses 2.0;
// 1.25 keeps every test photo above 35 dB while large photos still decode at
// 1/8, which is where the time goes.
const decodeGap = 1.25

func decodeMin(n int) int { return int(math.Ceil(float64(n) * decodeGap)) }

// resample brings the decoded image (which may be DCT-scaled, so not at the
// source's size) to the plan's size: for Cover it first takes the centre
// region that the crop keeps, so the filter never works on discarded pixels.
func resample(img image.Image, p Plan) *image.NRGBA {
	if r := cropRegion(img.Bounds(), p); r != img.Bounds() {
		img = subImage(img, r)
	}
	img = boxReduce(img, p.Width, p.Height)
	// Lanczos (a = 3): the sharpest of imaging's filters without ringing
	// artefacts that show at thumbnail size.
	return imaging.Resize(img, p.Width, p.Height, imaging.Lanczos)
}

// cropRegion is the part of an image with bounds b that the plan's Cover crop
// keeps: the centre, in whole pixels, with the thumbnail's aspect ratio.
func cropRegion(b image.Rectangle, p Plan) image.Rectangle {
	if p.Width == p.ScaledWidth && p.Height == p.ScaledHeight {
		return b
	}
	cw := clamp(int(roundDiv(int64(b.Dx())*int64(p.Width), int64(p.ScaledWidth))), 1, b.Dx())
	ch := clamp(int(roundDiv(int64(b.Dy())*int64(p.Height), int64(p.ScaledHeight))), 1, b.Dy())
	x0 := b.Min.X + (b.Dx()-cw)/2
	y0 := b.Min.Y + (b.Dy()-ch)/2
	return image.Rect(x0, y0, x0+cw, y0+ch)
}

// subImage views a region without copying; every decoder's image type has
// SubImage, the copy is only a fallback.
func subImage(img image.Image, r image.Rectangle) image.Image {
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	return imaging.Crop(img, r)
}

// orient applies an EXIF orientation so the result is upright.
func orient(img *image.NRGBA, o int) *image.NRGBA {
	switch o {
	case orientFlipH:
		return imaging.FlipH(img)
	case orientRotate180:
		return imaging.Rotate180(img)
	case orientFlipV:
		return imaging.FlipV(img)
	case orientTranspose:
		return imaging.Transpose(img)
	case orientRotate270:
		return imaging.Rotate270(img)
	case orientTransverse:
		return imaging.Transverse(img)
	case orientRotate90:
		return imaging.Rotate90(img)
	}
	return img
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }
