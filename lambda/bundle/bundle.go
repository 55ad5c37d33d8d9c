// Package bundle ships the ResizeImage function's deployment packages inside
// the controller binary, so the controller can create and update the Lambda
// function with nothing else at hand.
//
// The zips are built by `make lambda` (hack/build-lambda.sh) into dist/ and
// are not committed; they are reproducible, so the same source always gives
// the same CodeSha256 and an unchanged function is never redeployed.
package bundle

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
)

// dist holds bootstrap-x86_64.zip and bootstrap-arm64.zip when they have been
// built; "all:" keeps the committed .keep so the embed works in a fresh clone.
//
//go:embed all:dist
var dist embed.FS

// Architectures are the Lambda architecture names a bundle exists for.
var Architectures = []string{"x86_64", "arm64"}

// Zip returns the deployment package for a Lambda architecture ("x86_64" or
// "arm64").
func Zip(arch string) ([]byte, error) {
	if !known(arch) {
		return nil, fmt.Errorf("lambda bundle: unknown architecture %q (want x86_64 or arm64)", arch)
	}
	name := "dist/bootstrap-" + arch + ".zip"
	data, err := dist.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lambda bundle: %s was not built into this binary; run `make lambda` and rebuild", name)
	}
	if err != nil {
		return nil, fmt.Errorf("lambda bundle: %w", err)
	}
	return data, nil
}

// SHA256 returns the base64 SHA-256 of the zip, in the form Lambda reports as
// CodeSha256, so it can be compared with GetFunction's answer directly.
func SHA256(arch string) (string, error) {
	data, err := Zip(arch)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

func known(arch string) bool {
	for _, a := range Architectures {
		if a == arch {
			return true
		}
	}
	return false
}
