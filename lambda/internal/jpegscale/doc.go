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
//   - 2x2-subsampled chroma (4:2:0, 4:1:0) is reconstructed at twice the
//     luma's reduced scale, as libjpeg does, so a scaled 4:2:0 image comes
//     out as 4:4:4 (and 4:1:0 as 4:2:2) with chroma at the resolution a full
//     decode and downscale would give.
//   - At 1/8 scale, the AC scans of progressive files for components decoded
//     at 1/8 are skipped without entropy decoding.
//   - The entropy decoder is rewritten for speed: a 64-bit bit accumulator
//     filled several bytes at a time that stops at markers (padding with
//     zero bits, which are an error if consumed) instead of reading ahead
//     and giving bytes back; a 10-bit look-up table that resolves an AC
//     code and its value at once; a 14-bit table that passes over several
//     AC coefficients the scale does not need; and block loops that keep
//     the accumulator in locals, for sequential, progressive first and
//     refinement scans.
//   - Over-subscribed Huffman tables are rejected.
//   - Restart intervals in non-interleaved scans count blocks, not MCUs, as
//     the specification says (image/jpeg rejects progressive files with
//     subsampled chroma and restart markers).
//   - The encoder, the forward DCT and the image.RegisterFormat hook are
//     removed; Decode takes the minimum output size and reports the scale.
package jpegscale
