package resize

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
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
		if err := png.Encode(&buf, img); err != nil {
			return encoded{}, err
		}
		return encoded{buf.Bytes(), "image/png"}, nil
	}
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
