// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package jpegscale decodes JPEG images at a reduced DCT scale (1/2, 1/4 or
// 1/8), the way libjpeg's scaled decoding and Pillow's draft mode do, so that
// a thumbnail of a large photo does not pay for decoding pixels it throws
// away.
//
// It is derived from Go's image/jpeg (BSD licence, see LICENSE; the original
// copyright headers are kept in reader.go, scan.go, huffman.go and dct.go).
// What changed:
//
//   - Each 8x8 block is reconstructed with a reduced inverse DCT into 4x4,
//     2x2 or 1x1 samples (idctred.go), for every component, so chroma planes
//     scale consistently with luma and all of image/jpeg's subsamplings,
//     grayscale, CMYK/YCbCrK and restart intervals keep working. At scale 1/1
//     the output is identical to image/jpeg's.
//   - Only the coefficients the chosen transform reads are stored. Progressive
//     files keep them as int16 (image/jpeg keeps 64 int32s per block), plus a
//     64-bit mask of the non-zero coefficients, which is all successive
//     approximation refinement needs to know about the rest: at 1/2 scale
//     58 bytes per block instead of 256, at 1/4 18 bytes, at 1/8 2 bytes.
//   - At 1/8 scale, the AC scans of progressive files are skipped without
//     entropy decoding.
//   - Restart intervals in non-interleaved scans count blocks, not MCUs, as
//     the specification says (image/jpeg rejects progressive files with
//     subsampled chroma and restart markers).
//   - The encoder, the forward DCT and the image.RegisterFormat hook are
//     removed; Decode takes the minimum output size and reports the scale.
package jpegscale
