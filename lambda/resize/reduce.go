package resize

import (
	"encoding/binary"
	"image"
	"image/color"
)

// reduceGap is how much larger than the thumbnail a box pre-reduction stops.
// Lanczos over a 14.7 MP PNG costs more than half its decode; averaging
// integer blocks first (as Pillow's thumbnail does, with the same gap of 2)
// leaves the Lanczos pass a small image and still the final say over the
// frequencies near the thumbnail's resolution.
const reduceGap = 2

// reduceFactors are the largest integer factors that keep a srcW x srcH
// region at least reduceGap times w x h.
func reduceFactors(srcW, srcH, w, h int) (fx, fy int) {
	return max(1, srcW/(reduceGap*w)), max(1, srcH/(reduceGap*h))
}

// boxReduce shrinks a whole decoded image by reduceFactors for a w x h
// thumbnail. An image already small enough is returned as it is.
func boxReduce(img image.Image, w, h int) image.Image {
	b := img.Bounds()
	fx, fy := reduceFactors(b.Dx(), b.Dy(), w, h)
	if fx == 1 && fy == 1 {
		return img
	}
	r := newBoxReducer(b, fx, fy)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		r.addRow(y, img)
	}
	return r.result()
}

// reduceKind is how a source's pixels are summed.
type reduceKind int

const (
	// reduceGray and reduceRGBA average every channel independently: right
	// for gray and for premultiplied RGBA (which is what PNG's opaque RGB
	// decodes to).
	reduceGray reduceKind = iota
	reduceRGBA
	// reduceNRGBA weights colour by alpha, so transparent pixels (whose
	// colour is arbitrary, often black) do not darken the edges of opaque
	// ones. Every other type (paletted, 16-bit, CMYK) is converted to NRGBA
	// a row at a time and summed this way.
	reduceNRGBA
)

// A boxReducer averages blocks of fx x fy pixels of a region of an image
// whose rows it is given one at a time, top to bottom, so that a decoder can
// feed it rows as it decodes them and the full-size image never exists.
// Blocks cut by the region's right and bottom edges average the pixels they
// have. The result is a *image.Gray, *image.RGBA or *image.NRGBA at the
// origin, after the type of the rows (which must all have the same type).
type boxReducer struct {
	region image.Rectangle
	fx, fy int
	ow, oh int

	kind  reduceKind
	dst   image.Image
	out   []uint8 // dst's pixels
	chans int     // bytes per pixel of out, and sums per output column

	sums    []uint64 // per output column and channel: the current block row's sums
	rows    int      // source rows in sums
	oy      int      // the output row sums belong to
	nrgba   []uint8  // a row converted to NRGBA, for types without a fast path
	palette [][4]uint8
}

func newBoxReducer(region image.Rectangle, fx, fy int) *boxReducer {
	return &boxReducer{
		region: region,
		fx:     fx,
		fy:     fy,
		ow:     (region.Dx() + fx - 1) / fx,
		oh:     (region.Dy() + fy - 1) / fy,
	}
}

// start allocates the result after the type of the first row.
func (r *boxReducer) start(img image.Image) {
	rect := image.Rect(0, 0, r.ow, r.oh)
	switch img.(type) {
	case *image.Gray:
		m := image.NewGray(rect)
		r.kind, r.dst, r.out, r.chans = reduceGray, m, m.Pix, 1
	case *image.RGBA:
		m := image.NewRGBA(rect)
		r.kind, r.dst, r.out, r.chans = reduceRGBA, m, m.Pix, 4
	default:
		m := image.NewNRGBA(rect)
		r.kind, r.dst, r.out, r.chans = reduceNRGBA, m, m.Pix, 4
		if _, ok := img.(*image.NRGBA); !ok {
			r.nrgba = make([]uint8, 4*r.region.Dx())
		}
		if p, ok := img.(*image.Paletted); ok {
			r.palette = make([][4]uint8, len(p.Palette))
			for i, c := range p.Palette {
				n := color.NRGBAModel.Convert(c).(color.NRGBA)
				r.palette[i] = [4]uint8{n.R, n.G, n.B, n.A}
			}
		}
	}
	r.sums = make([]uint64, r.ow*r.chans)
}

// addRow sums row y of img, whose bounds include that row; rows outside the
// region are skipped.
func (r *boxReducer) addRow(y int, img image.Image) {
	if y < r.region.Min.Y || y >= r.region.Max.Y {
		return
	}
	if r.dst == nil {
		r.start(img)
	}
	x0, x1 := r.region.Min.X, r.region.Max.X
	switch r.kind {
	case reduceGray:
		m := img.(*image.Gray)
		sumPlain1(r.sums, m.Pix[m.PixOffset(x0, y):m.PixOffset(x1, y)], r.fx)
	case reduceRGBA:
		m := img.(*image.RGBA)
		sumPlain4(r.sums, m.Pix[m.PixOffset(x0, y):m.PixOffset(x1, y)], r.fx)
	case reduceNRGBA:
		var row []uint8
		if m, ok := img.(*image.NRGBA); ok {
			row = m.Pix[m.PixOffset(x0, y):m.PixOffset(x1, y)]
		} else {
			row = r.toNRGBA(y, img)
		}
		sumWeighted(r.sums, row, r.fx)
	}
	r.rows++
	if r.rows == r.fy {
		r.flush()
	}
}

// toNRGBA converts the region's part of row y to NRGBA: through a lookup
// table for paletted images (common for PNG graphics), through the colour
// model for the rare rest.
func (r *boxReducer) toNRGBA(y int, img image.Image) []uint8 {
	out := r.nrgba
	if p, ok := img.(*image.Paletted); ok {
		for i, idx := range p.Pix[p.PixOffset(r.region.Min.X, y):p.PixOffset(r.region.Max.X, y)] {
			// Indices past the palette are opaque black, as image/png
			// decodes them.
			c := [4]uint8{0, 0, 0, 0xff}
			if int(idx) < len(r.palette) {
				c = r.palette[idx]
			}
			copy(out[4*i:4*i+4], c[:])
		}
		return out
	}
	for x := r.region.Min.X; x < r.region.Max.X; x++ {
		c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		i := 4 * (x - r.region.Min.X)
		out[i], out[i+1], out[i+2], out[i+3] = c.R, c.G, c.B, c.A
	}
	return out
}

// flush writes the averages of the summed rows as the next output row.
func (r *boxReducer) flush() {
	out := r.out[r.oy*r.ow*r.chans:]
	w := r.region.Dx()
	for ox := 0; ox < r.ow; ox++ {
		n := uint64(min(r.fx, w-ox*r.fx) * r.rows)
		s := r.sums[ox*r.chans : (ox+1)*r.chans]
		o := out[ox*r.chans : (ox+1)*r.chans]
		if r.kind != reduceNRGBA {
			for c := range s {
				o[c] = uint8((s[c] + n/2) / n)
			}
			continue
		}
		if a := s[3]; a != 0 {
			o[0] = uint8((s[0] + a/2) / a)
			o[1] = uint8((s[1] + a/2) / a)
			o[2] = uint8((s[2] + a/2) / a)
			o[3] = uint8((a + n/2) / n)
		}
	}
	clear(r.sums)
	r.rows = 0
	r.oy++
}

// result is the reduced image, once every row of the region was added.
func (r *boxReducer) result() image.Image {
	if r.rows > 0 {
		r.flush()
	}
	return r.dst
}

// The sums run in 64 bits: a block can be millions of pixels (a 100 MP
// source and a 1-pixel-wide thumbnail), and 255 x 255 per weighted pixel
// overflows 32 bits at 66 049 of them.

func sumPlain1(sums []uint64, row []uint8, fx int) {
	for ox := 0; len(row) > 0; ox++ {
		blk := row[:min(fx, len(row))]
		row = row[len(blk):]
		var s uint64
		for len(blk) >= 8 {
			n := min(len(blk)&^7, maxLaneWords*8)
			e, o := laneSums(blk[:n])
			s += foldLanes(e) + foldLanes(o)
			blk = blk[n:]
		}
		for _, v := range blk {
			s += uint64(v)
		}
		sums[ox] += s
	}
}

func sumPlain4(sums []uint64, row []uint8, fx int) {
	for ox := 0; len(row) >= 4; ox++ {
		blk := row[:min(4*fx, len(row))]
		row = row[len(blk):]
		s := sums[4*ox : 4*ox+4]
		for len(blk) >= 8 {
			n := min(len(blk)&^7, maxLaneWords*8)
			e, o := laneSums(blk[:n])
			// Two pixels per word: even lanes are R, B, R, B; odd lanes
			// G, A, G, A.
			s[0] += e&0xffff + e>>32&0xffff
			s[2] += e>>16&0xffff + e>>48
			s[1] += o&0xffff + o>>32&0xffff
			s[3] += o>>16&0xffff + o>>48
			blk = blk[n:]
		}
		if len(blk) >= 4 {
			s[0] += uint64(blk[0])
			s[1] += uint64(blk[1])
			s[2] += uint64(blk[2])
			s[3] += uint64(blk[3])
		}
	}
}

// maxLaneWords is how many words laneSums can add before a 16-bit lane
// could overflow (256 x 255 < 65536).
const maxLaneWords = 256

// laneSums adds up b's 8-byte words (at most maxLaneWords of them) with the
// bytes spread into 16-bit lanes: even holds the sums of bytes 0, 2, 4 and
// 6 of every word, odd those of bytes 1, 3, 5 and 7. Two additions per eight
// bytes instead of eight.
func laneSums(b []uint8) (even, odd uint64) {
	const lanes = 0x00ff00ff00ff00ff
	for ; len(b) >= 8; b = b[8:] {
		v := binary.LittleEndian.Uint64(b)
		even += v & lanes
		odd += v >> 8 & lanes
	}
	return even, odd
}

// foldLanes adds up the four 16-bit lanes of v.
func foldLanes(v uint64) uint64 {
	return v&0xffff + v>>16&0xffff + v>>32&0xffff + v>>48
}

func sumWeighted(sums []uint64, row []uint8, fx int) {
	for ox := 0; len(row) >= 4; ox++ {
		blk := row[:min(4*fx, len(row))]
		row = row[len(blk):]
		var r, g, b, a uint64
		for ; len(blk) >= 4; blk = blk[4:] {
			pa := uint64(blk[3])
			r += uint64(blk[0]) * pa
			g += uint64(blk[1]) * pa
			b += uint64(blk[2]) * pa
			a += pa
		}
		s := sums[4*ox : 4*ox+4]
		s[0] += r
		s[1] += g
		s[2] += b
		s[3] += a
	}
}
