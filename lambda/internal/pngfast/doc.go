// Package pngfast is a copy of the Go standard library's image/png
// (go1.26: reader.go, writer.go and paeth.go) made faster for
// the thumbnail Lambda, where decoding was about 80% of a PNG thumbnail's
// CPU time. Its Decode and DecodeConfig return the same images and the same
// errors as image/png's for every input (Decode leaves corrupt input's error
// to image/png), and DecodeRows the same image's rows; the tests compare the
// two on Go's PNG suite, corrupted and truncated copies of it, installed
// wallpapers, and by fuzzing.
//
// What changed from image/png:
//
//   - IDAT data is inflated by lambda/internal/inflate instead of
//     compress/zlib, from one slice: the run of IDAT chunks is gathered (and
//     their checksums verified) first, instead of being read through a
//     buffered reader a few kilobytes at a time as the inflater asks.
//   - The Paeth filter picks its predictor with conditional moves instead of
//     branches, and filters 3- and 4-byte pixels (8-bit RGB and RGBA) with the
//     channels interleaved; image/png's one-channel-at-a-time loop is a single
//     dependency chain full of mispredicted branches on photographs.
//   - The Average filter keeps the left pixel of 3- and 4-byte pixels in
//     registers instead of reading it back from the row.
//   - 8-bit RGB rows are expanded to RGBA with one 32-bit store per pixel.
//   - DecodeRows hands the image over a row at a time, as it is inflated, so
//     that a caller that only wants a reduced image never holds the full one.
//   - Decode takes the encoded bytes, not an io.Reader, so that it can hand
//     input it fails on to image/png.
//   - Encode compresses with klauspost's zlib writer: at the same level it
//     takes a fifth of compress/zlib's time on a photo thumbnail (1.7 ms
//     instead of 8.7 ms for 200x113 RGB) for a file 4% larger. Its output
//     decodes to what image/png's encoding of the same image decodes to.
//   - The package does not register itself with image.RegisterFormat, so
//     image.Decode keeps using image/png.
//
// The copied files keep the Go Authors' copyright; LICENSE is Go's licence.
//
// The PNG specification is at https://www.w3.org/TR/PNG/.
package pngfast
