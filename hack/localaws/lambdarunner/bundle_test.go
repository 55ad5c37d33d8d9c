package lambdarunner

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

type entry struct {
	data []byte
	mode os.FileMode
}

func zipOf(t *testing.T, files map[string]entry) []byte {
	t.Helper()

	var buf bytes.Buffer

	zw := zip.NewWriter(&buf)

	for name, e := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(e.mode)

		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}

		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}

	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	return buf.Bytes()
}

// elfHeader is the start of a 64-bit little-endian ELF for machine.
func elfHeader(machine uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	h[18], h[19] = byte(machine), byte(machine>>8)

	return h
}

const (
	emX8664   = 62
	emAARCH64 = 183
)

func TestUnpack(t *testing.T) {
	hostArch, hostMachine, otherArch, otherMachine := "x86_64", uint16(emX8664), "arm64", uint16(emAARCH64)
	if runtime.GOARCH == "arm64" {
		hostArch, hostMachine, otherArch, otherMachine = otherArch, otherMachine, hostArch, hostMachine
	}

	cases := map[string]struct {
		zip  []byte
		arch string
		code string // "" when the package must unpack
	}{
		"host ELF":    {zip: zipOf(t, map[string]entry{"bootstrap": {elfHeader(hostMachine), 0o755}, "lib/data.txt": {[]byte("x"), 0o644}}), arch: hostArch},
		"script":      {zip: zipOf(t, map[string]entry{"bootstrap": {[]byte("#!/bin/sh\necho hi\n"), 0o755}}), arch: hostArch},
		"not a zip":   {zip: []byte("plain text"), arch: hostArch, code: ReasonInvalidZip},
		"empty zip":   {zip: zipOf(t, nil), arch: hostArch, code: ReasonInvalidRuntime},
		"nested only": {zip: zipOf(t, map[string]entry{"dir/bootstrap": {elfHeader(hostMachine), 0o755}}), arch: hostArch, code: ReasonInvalidRuntime},
		"not executable": {
			zip: zipOf(t, map[string]entry{"bootstrap": {elfHeader(hostMachine), 0o644}}), arch: hostArch, code: ReasonInvalidRuntime,
		},
		"not ELF nor script": {zip: zipOf(t, map[string]entry{"bootstrap": {[]byte("MZ\x90\x00"), 0o755}}), arch: hostArch, code: ReasonInvalidRuntime},
		"truncated ELF":      {zip: zipOf(t, map[string]entry{"bootstrap": {[]byte("\x7fELF\x02"), 0o755}}), arch: hostArch, code: ReasonInvalidRuntime},
		"other architecture, matching the function": {
			zip: zipOf(t, map[string]entry{"bootstrap": {elfHeader(otherMachine), 0o755}}), arch: otherArch, code: ReasonInvalidRuntime,
		},
		"architecture not matching the function": {
			zip: zipOf(t, map[string]entry{"bootstrap": {elfHeader(hostMachine), 0o755}}), arch: otherArch, code: ReasonInvalidRuntime,
		},
		"unknown architecture": {zip: zipOf(t, map[string]entry{"bootstrap": {elfHeader(hostMachine), 0o755}}), arch: "mips", code: ReasonInvalidConfig},
		"path escaping the root": {
			zip: zipOf(t, map[string]entry{"bootstrap": {elfHeader(hostMachine), 0o755}, "../evil": {[]byte("x"), 0o644}}), arch: hostArch, code: ReasonInvalidZip,
		},
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "code")
			err := Unpack(tc.zip, tc.arch, dir)

			if tc.code == "" {
				if err != nil {
					t.Fatalf("Unpack: %v", err)
				}

				if fi, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil || fi.Mode()&0o111 == 0 {
					t.Errorf("bootstrap after unpack: %v %v", fi, err)
				}

				return
			}

			var be *BundleError
			if !errors.As(err, &be) || be.Code != tc.code || be.Reason == "" {
				t.Fatalf("Unpack = %v, want a BundleError %s with a reason", err, tc.code)
			}

			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "evil")); err == nil {
				t.Errorf("a path outside the code directory was written")
			}
		})
	}
}
