// Command mkzip writes a reproducible zip: the same input files give the same
// bytes, whoever builds them and whenever. Lambda's CodeSha256 is the hash of
// the zip, so the controller can tell an unchanged bundle from a new one only
// if nothing else (time stamps, file order, umask) leaks into the archive.
//
// Usage:
//
//	mkzip -o bundle.zip name=path [name=path ...]
//
// Each entry is stored under name, with the contents of path, mode 0755 and a
// fixed modification time, in the order of the names sorted bytewise.
package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// epoch is the fixed modification time: the earliest a zip (DOS) time can say,
// so no reader mistakes it for a real build time.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "zip file to write")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mkzip -o out.zip name=path [name=path ...]")
		os.Exit(2)
	}
	if err := run(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mkzip:", err)
		os.Exit(1)
	}
}

type entry struct{ name, path string }

func run(out string, args []string) error {
	var entries []entry
	for _, a := range args {
		name, path, ok := strings.Cut(a, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("argument %q is not name=path", a)
		}
		entries = append(entries, entry{name, path})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// Pin the compressor so the output does not depend on a default that a
	// future archive/zip might change.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, e := range entries {
		data, err := os.ReadFile(e.path)
		if err != nil {
			return err
		}
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: epoch}
		hdr.SetMode(0o755)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	// Write to a temporary file and rename, so an interrupted build never
	// leaves a truncated zip that the controller would embed.
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
