package resize

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// releaseThreshold is how much free heap, after a collection, is worth
// returning to the operating system: about one decoded 2 MP RGBA image.
const releaseThreshold = 8 << 20

// Collect frees the previous thumbnail's memory before the next one, for a
// process that makes thumbnails one after another (the Lambda handler).
//
// The source bytes and decoded pixels of a thumbnail are garbage as soon as
// it is encoded, but the collector runs only when the heap doubles, so the
// next decode would grow the heap to hold both. A collection while the live
// heap is small is short. When it frees a large image, its pages are also
// returned to the OS: left in the heap, other allocations can land in them
// and the next large image then takes fresh pages while the old ones stay
// resident (with runtime.GC alone, identical runs over the medium PNGs
// peaked anywhere between 47 and 77 MB). Below the threshold (a JPEG
// thumbnail needs a few MB) the pages stay, since faulting them in again on
// every invocation would cost more time than the memory is worth.
func Collect() {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() > releaseThreshold {
		debug.FreeOSMemory()
	}
}
