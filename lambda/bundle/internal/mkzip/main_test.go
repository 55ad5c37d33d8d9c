package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReproducible: the same inputs give the same bytes, whatever the order
// of the arguments, the files' own time stamps and modes.
func TestReproducible(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte("#!/bin/sh\necho a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, bytes.Repeat([]byte("b"), 10000), 0o644); err != nil {
		t.Fatal(err)
	}
	z1, z2 := filepath.Join(dir, "1.zip"), filepath.Join(dir, "2.zip")
	if err := run(z1, []string{"bootstrap=" + a, "lib/data=" + b}); err != nil {
		t.Fatal(err)
	}
	// Touch the inputs and change their modes: none of it may leak in.
	later := time.Now().Add(time.Hour)
	_ = os.Chtimes(a, later, later)
	_ = os.Chmod(a, 0o700)
	if err := run(z2, []string{"lib/data=" + b, "bootstrap=" + a}); err != nil {
		t.Fatal(err)
	}
	d1, _ := os.ReadFile(z1)
	d2, _ := os.ReadFile(z2)
	if !bytes.Equal(d1, d2) {
		t.Fatal("two runs gave different zips")
	}

	r, err := zip.NewReader(bytes.NewReader(d1), int64(len(d1)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
		if f.Mode() != 0o755 {
			t.Errorf("%s: mode %v, want 0755", f.Name, f.Mode())
		}
		if !f.Modified.Equal(epoch) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, epoch)
		}
	}
	if len(names) != 2 || names[0] != "bootstrap" || names[1] != "lib/data" {
		t.Errorf("entries %v, want [bootstrap lib/data]", names)
	}
	if _, err := os.Stat(z1 + ".tmp"); !os.IsNotExist(err) {
		t.Error("temporary file left behind")
	}
}

func TestBadArguments(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"bootstrap"}, {"=x"}, {"bootstrap="}, {"bootstrap=" + filepath.Join(dir, "missing")}} {
		if err := run(filepath.Join(dir, "out.zip"), args); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
