// Package inflate decompresses zlib streams (RFC 1950 wrapping RFC 1951
// DEFLATE) whose compressed bytes are all in memory, as a PNG's IDAT data is
// once the file has been read. It is for pngfast, where inflating was over
// half of a PNG thumbnail's CPU time, and it is written for speed within
// plain Go: no cgo, unsafe or assembly.
//
// # Same results as compress/zlib
//
// For every input, Reader accepts exactly the streams that compress/zlib
// (zlib.NewReader and reading to the end) accepts, produces the same bytes
// from them, and InputUsed counts the input bytes compress/zlib consumed. The
// errors differ in text. The tests compare the two on real and synthetic
// streams, cut short and damaged at many points, and by fuzzing. Some of
// compress/flate's rules are less obvious than RFC 1951's:
//
//   - A Huffman code must be complete, except that a code may be empty, or
//     have a single code of length 1; bits that start no code are an error
//     when a block uses them (buildTable).
//   - HLIT above 29 (more than 286 literal/length codes) or HDIST above 29
//     (more than 30 distance codes) is an error, as are the fixed code's
//     literal/length symbols 286 and 287 and distance symbols 30 and 31.
//   - A distance may reach back to the first byte of output, no further.
//   - A zlib header with a preset dictionary is accepted when its dictionary
//     ID is 1, the Adler-32 of no dictionary at all.
//
// # Design
//
// Output goes into one buffer that holds the 32 KiB window of history that
// matches copy from, followed by a decode area. Read hands out what a fill
// decoded there; once it is all read, the next fill decodes the next 96 KiB
// straight into the area, sliding the window to the front first if the
// area is full. So memory stays fixed however long the output, the decode
// loop runs long stretches without returning, and nothing is copied but
// the slide and the hand-out. The caller's buffers (PNG rows) can be small.
//
// Input bits go through a 64-bit buffer refilled with one 8-byte load while
// 8 bytes of input remain, after which it is filled a byte at a time. Near
// the end it reads past the input as if zeros followed, so that the decode
// loop needs no checks on input length: a valid stream never uses those
// bits, and a stream that does is caught at the next refill, at a stored
// block or at the end of the final block (refillSlow). Because the bits in
// the buffer are counted, the reader knows which byte holds the last bit of
// the final block, so InputUsed agrees with compress/flate, which reads one
// byte at a time as it needs them.
//
// Each Huffman code decodes through a table indexed by the next 11 bits (8
// for distances), with subtables for longer codes (huffman.go). An entry
// holds the symbol's meaning together with the code's length and the number
// of extra bits, so that a literal, or a length or distance with its extra
// bits, takes one load and one shift. One refill covers a whole match (at
// most 48 bits), and up to three literals are decoded per refill. The loop
// calls no functions, since Go's calling convention would spill its state
// to the stack around each call. In PNG data most of the output comes from
// matches, most of them short: a match whose distance allows it is copied
// 32 bytes at once, then 16 at a time, which may store a few bytes past its
// end; the buffer has room for that.
//
// Adler-32 is computed over each fill's output while it is in cache, 8
// bytes at a time in 16-bit lanes (adler32.go), about three times as fast
// as hash/adler32.
//
// On the IDAT streams of Debian's wallpaper packages (BenchmarkInflate) it
// runs about 2.3 times as fast as klauspost/compress/zlib and 2.7 times as
// fast as compress/zlib.
//
// The tables' entry format, the refill and the decode loop follow libdeflate
// (https://github.com/ebiggers/libdeflate), whose MIT licence is in LICENSE;
// the code is written anew in Go. Which streams are valid follows Go's
// compress/flate and compress/zlib.
package inflate
