package resize

import (
	"bytes"
	"encoding/binary"
)

// Orientation values of EXIF tag 0x0112, named after the transform that makes
// the stored pixels upright.
const (
	orientNormal     = 1
	orientFlipH      = 2
	orientRotate180  = 3
	orientFlipV      = 4
	orientTranspose  = 5
	orientRotate270  = 6 // 90° clockwise
	orientTransverse = 7
	orientRotate90   = 8 // 90° counter-clockwise
)

// swapsAxes reports whether an orientation displays the stored width as height.
func swapsAxes(o int) bool { return o >= orientTranspose && o <= orientRotate90 }

// jpegOrientation returns the EXIF orientation of a JPEG, or 1 when there is
// none or it cannot be read. A broken EXIF block must not fail a photo whose
// pixels are fine, so every malformed case falls back to "as stored".
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return orientNormal
	}
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			return orientNormal
		}
		marker := data[p+1]
		switch {
		case marker == 0xFF: // fill byte before a marker
			p++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // no length
			p += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan or end: EXIF comes before
			return orientNormal
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return orientNormal
		}
		seg := data[p+4 : p+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		p += 2 + n
	}
	return orientNormal
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return orientNormal
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return orientNormal
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return orientNormal
	}
	count := int64(bo.Uint16(t[ifd:]))
	for i := int64(0); i < count; i++ {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(t)) {
			return orientNormal
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ, n := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:])
		if typ != 3 || n != 1 { // SHORT, one value, stored inline
			return orientNormal
		}
		if v := int(bo.Uint16(t[e+8:])); v >= orientNormal && v <= orientRotate90 {
			return v
		}
		return orientNormal
	}
	return orientNormal
}
