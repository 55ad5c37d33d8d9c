package jpegscale

import (
	"bytes"
	"image/jpeg"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// threadCPU is the CPU time of the calling OS thread. On a shared machine it
// is a steadier measure than wall time for comparing single-threaded code.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD, Linux only; zero elsewhere.
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchFile is a large photo from plasma-workspace-wallpapers, overridable
// with JPEGSCALE_BENCH_FILE.
func benchFile(b *testing.B) []byte {
	p := os.Getenv("JPEGSCALE_BENCH_FILE")
	if p == "" {
		p = "/usr/share/wallpapers/Flow/contents/images/5120x2880.jpg"
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Skipf("no benchmark photo: %v (set JPEGSCALE_BENCH_FILE or install plasma-workspace-wallpapers)", err)
	}
	return data
}

func benchmarkDecode(b *testing.B, min int) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := threadCPU()
	for b.Loop() {
		if _, _, err := Decode(bytes.NewReader(data), min, min); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(threadCPU()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}

func BenchmarkDecode1(b *testing.B) { benchmarkDecode(b, 1<<20) }
func BenchmarkDecode2(b *testing.B) { benchmarkDecode(b, 1000) }
func BenchmarkDecode4(b *testing.B) { benchmarkDecode(b, 250) }
func BenchmarkDecode8(b *testing.B) { benchmarkDecode(b, 0) }

func BenchmarkImageJPEG(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
