package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

// TestZip checks whatever this build embeds: either a valid bundle with an
// executable bootstrap at the root and a matching CodeSha256, or an error that
// tells the user how to build it.
func TestZip(t *testing.T) {
	for _, arch := range Architectures {
		data, err := Zip(arch)
		if err != nil {
			if !strings.Contains(err.Error(), "make lambda") {
				t.Errorf("%s: error %q does not say how to build the bundle", arch, err)
			}
			if _, err := SHA256(arch); err == nil {
				t.Errorf("%s: SHA256 without a bundle", arch)
			}
			t.Logf("%s: not built (%v)", arch, err)
			continue
		}
		r, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		if len(r.File) != 1 || r.File[0].Name != "bootstrap" || r.File[0].Mode()&0o111 == 0 {
			t.Errorf("%s: want one executable bootstrap at the root, got %v", arch, r.File)
		}
		sum := sha256.Sum256(data)
		if got, _ := SHA256(arch); got != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("%s: SHA256 %q does not match the zip", arch, got)
		}
	}
}

func TestUnknownArchitecture(t *testing.T) {
	for _, arch := range []string{"amd64", "x86-64", ""} {
		if _, err := Zip(arch); err == nil || !strings.Contains(err.Error(), "x86_64 or arm64") {
			t.Errorf("Zip(%q): %v", arch, err)
		}
	}
}
