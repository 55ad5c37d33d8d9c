package resize

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"sync"

	"github.com/resize-operator/resize-operator/lambda/internal/pngfast"
)

// outputFormat resolves the configured format against the source's.
func outputFormat(f Format, source string) string {
	switch f {
	case FormatJPEG:
		return formatJPEG
	case FormatPNG:
		return formatPNG
	}
	return source
}

type encoded struct {
	data        []byte
	contentType string
}

// encode writes the thumbnail in the output format. src is the decoded source,
// whose palette a GIF thumbnail reuses.
func encode(img *image.NRGBA, format string, quality int, src image.Image) (encoded, error) {
	var buf bytes.Buffer
	switch format {
	case formatJPEG:
		// JPEG has no alpha: composite onto white, as a browser shows a
		// transparent PNG on a white page, rather than letting the encoder
		// drop alpha and reveal whatever colour transparent pixels carry.
		if err := jpeg.Encode(&buf, flattenOnWhite(img), &jpeg.Options{Quality: quality}); err != nil {
			return encoded{}, err
		}
		return encoded{buf.Bytes(), "image/jpeg"}, nil
	case formatGIF:
		if err := gif.Encode(&buf, toPaletted(img, src), nil); err != nil {
			return encoded{}, err
		}
		return encoded{buf.Bytes(), "image/gif"}, nil
	default:
		// The PNG encoder writes RGB instead of RGBA when every pixel is
		// opaque, so photos do not pay for an alpha channel.
		if err := pngEncoder.Encode(&buf, img); err != nil {
			return encoded{}, err
		}
		return encoded{buf.Bytes(), "image/png"}, nil
	}
}

// pngEncoder is image/png's encoder with klauspost's deflate (pngfast): at
// the same level it compresses a photo thumbnail in a fifth of the time, to
// within 4% of the size. It keeps its compressor's state (about 1 MB of
// tables) from one thumbnail to the next, as a warm Lambda reuses it.
var pngEncoder = pngfast.Encoder{BufferPool: &encoderPool{}}

// encoderPool holds one encoder state; concurrent encodes beyond it make
// their own.
type encoderPool struct {
	mu  sync.Mutex
	buf *pngfast.EncoderBuffer
}

func (p *encoderPool) Get() *pngfast.EncoderBuffer {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buf
	p.buf = nil
	return b
}

func (p *encoderPool) Put(b *pngfast.EncoderBuffer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = b
}

func flattenOnWhite(img *image.NRGBA) *image.RGBA {
	dst := image.NewRGBA(img.Bounds())
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, img.Bounds().Min, draw.Over)
	return dst
}

// toPaletted quantises to the source GIF's own palette when it has one (its
// colours are the right ones, and a transparent entry stays transparent),
// otherwise to the web-safe Plan 9 palette, with Floyd-Steinberg dithering.
func toPaletted(img *image.NRGBA, src image.Image) *image.Paletted {
	pal := color.Palette(palette.Plan9)
	if p, ok := src.(*image.Paletted); ok && len(p.Palette) > 0 {
		pal = p.Palette
	}
	dst := image.NewPaletted(img.Bounds(), pal)
	draw.FloydSteinberg.Draw(dst, dst.Bounds(), img, img.Bounds().Min)
	return dst
}

// encodePlanes writes a thumbnail made by resamplePlanes (a JPEG source, so
// opaque and never GIF output). image/jpeg reads *image.YCbCr and *image.Gray
// without a colour conversion; PNG output needs RGB, converted here only at
// thumbnail size.
func encodePlanes(img image.Image, format string, quality int) (encoded, error) {
	var buf bytes.Buffer
	if format == formatJPEG {
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
			return encoded{}, err
		}
		return encoded{buf.Bytes(), "image/jpeg"}, nil
	}
	if yc, ok := img.(*image.YCbCr); ok {
		rgba := image.NewRGBA(yc.Rect)
		for y := yc.Rect.Min.Y; y < yc.Rect.Max.Y; y++ {
			row := rgba.Pix[rgba.PixOffset(yc.Rect.Min.X, y):]
			for x := yc.Rect.Min.X; x < yc.Rect.Max.X; x++ {
				ci := yc.COffset(x, y)
				r, g, b := color.YCbCrToRGB(yc.Y[yc.YOffset(x, y)], yc.Cb[ci], yc.Cr[ci])
				i := (x - yc.Rect.Min.X) * 4
				row[i], row[i+1], row[i+2], row[i+3] = r, g, b, 0xff
			}
		}
		img = rgba
	}
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return encoded{}, err
	}
	return encoded{buf.Bytes(), "image/png"}, nil
}
