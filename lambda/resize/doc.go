// Package resize turns an encoded image into a thumbnail. It is the pure part of
// the ResizeImage Lambda function: no AWS, no I/O beyond byte slices, so every
// rule below is unit-tested without a network.
//
// # Pipeline
//
//  1. Sniff the format and read the dimensions from the header only
//     (JPEG, PNG and GIF are supported). An image whose header claims more
//     than Options.MaxSourcePixels is refused here, before any pixel buffer is
//     allocated, so a decompression bomb costs a few hundred bytes of reading.
//  2. Read the EXIF orientation of a JPEG. Orientations 5-8 swap width and
//     height, so the box is matched against the image as it is displayed.
//  3. Decode. JPEGs are decoded at the smallest DCT scale (1/1, 1/2, 1/4, 1/8)
//     that still covers the size the thumbnail is resampled from: pixels that
//     would be thrown away are never produced (for a JPEG thumbnail, which
//     is written 4:2:0, a 4:2:0 source's chroma stays subsampled). PNG rows
//     go, as they are inflated, straight into a box average of the region
//     the thumbnail keeps (reduce.go), so a PNG is never held at full size
//     either. GIFs yield their first frame.
//  4. Crop for Cover, box-average what is still more than twice the
//     thumbnail, and resample with a Lanczos filter to the planned size (see
//     Plan), then apply the orientation to the small result. A JPEG's Y, Cb
//     and Cr (or gray) planes are resampled as they are (planes.go) and
//     handed to the JPEG encoder as YCbCr, with no RGB step; other images go
//     through NRGBA and imaging.
//  5. Encode as the source format, JPEG or PNG. Transparency is kept for PNG
//     and flattened onto white for JPEG.
//
// # Fit modes
//
// Inside keeps the aspect ratio and fits the whole image in the box. Cover
// keeps the aspect ratio, fills the box and crops the centre. Fill stretches
// to the box. No mode ever upscales: an image smaller than the box keeps its
// size (Cover then only crops what exceeds the box, Fill only shrinks the
// dimension that exceeds it).
//
// # Thumbnail keys
//
// ThumbKey prepends the prefix to the whole key, byte for byte:
// "test.jpg" becomes "thumb-test.jpg" and "photos/2024/été.jpg" becomes
// "thumb-photos/2024/été.jpg". This is what the original function did for every
// key, it is collision-free (distinct keys give distinct thumb keys, because the
// prefix is fixed), and a prefix ending in "/" such as "thumbs/" mirrors the
// source tree under one folder. The extension is never changed, even when the
// output format differs from the source, because rewriting it would let
// "a.png" and "a.gif" collide; the object's Content-Type is authoritative.
package resize
