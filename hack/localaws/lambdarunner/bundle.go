package lambdarunner

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Lambda's StateReasonCode values used when a deployment package cannot run.
// https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
const (
	ReasonInvalidZip     = "InvalidZipFileException"
	ReasonInvalidRuntime = "InvalidRuntime"
	ReasonInvalidConfig  = "InvalidConfiguration"
)

// BundleError says why a deployment package cannot run, in the terms Lambda
// reports on the function (StateReasonCode and StateReason).
type BundleError struct {
	Code   string
	Reason string
}

func (e *BundleError) Error() string { return e.Code + ": " + e.Reason }

// maxUnpackedSize is Lambda's quota for an unzipped deployment package.
// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
const maxUnpackedSize = 250 << 20

// lambdaArch maps a function's Architectures value to the ELF machine Lambda
// runs it on.
var lambdaArch = map[string]elf.Machine{
	"x86_64": elf.EM_X86_64,
	"arm64":  elf.EM_AARCH64,
}

// hostMachine is the ELF machine this process can execute natively.
func hostMachine() (elf.Machine, bool) {
	switch runtime.GOARCH {
	case "amd64":
		return elf.EM_X86_64, true
	case "arm64":
		return elf.EM_AARCH64, true
	}

	return elf.EM_NONE, false
}

// Unpack checks that zipBytes is a package Lambda could run for a custom
// runtime with the given architecture, and that this machine can run it too,
// then extracts it into dir (which must not exist yet). The checks are the
// ones that make a provided.al2023 function fail on AWS: an archive that does
// not unzip, no executable bootstrap at its root, or a binary built for
// another architecture.
func Unpack(zipBytes []byte, architecture, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		return &BundleError{Code: ReasonInvalidZip, Reason: "Could not unzip uploaded file. Please check your file, then try to upload again."}
	}

	var bootstrap *zip.File

	var total uint64

	for _, f := range zr.File {
		total += f.UncompressedSize64
		if f.Name == "bootstrap" {
			bootstrap = f
		}
	}

	if total > maxUnpackedSize {
		return &BundleError{Code: ReasonInvalidZip, Reason: fmt.Sprintf("Unzipped size must be smaller than %d bytes", maxUnpackedSize)}
	}

	if bootstrap == nil || bootstrap.FileInfo().IsDir() {
		return &BundleError{Code: ReasonInvalidRuntime, Reason: "The deployment package has no executable named bootstrap at its root, which a custom runtime (provided.al2023) runs as the function's entry point."}
	}

	if err := checkBootstrap(bootstrap, architecture); err != nil {
		return err
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create code directory: %w", err)
	}

	for _, f := range zr.File {
		if err := extract(f, dir); err != nil {
			return err
		}
	}

	// Go's zip writer and some tools leave the mode bits out; bootstrap is
	// checked for them above, so making it executable here changes nothing
	// for packages that carry them.
	if err := os.Chmod(filepath.Join(dir, "bootstrap"), 0o755); err != nil {
		return fmt.Errorf("chmod bootstrap: %w", err)
	}

	return nil
}

// checkBootstrap reads bootstrap's header: an ELF must be built for the
// function's architecture and for this machine; a script needs a #! line.
func checkBootstrap(f *zip.File, architecture string) error {
	mode := f.Mode()
	if f.CreatorVersion>>8 == 3 && mode&0o111 == 0 {
		// Made on Unix with its permission bits, and none says executable:
		// Lambda fails such a package with "permission denied".
		return &BundleError{Code: ReasonInvalidRuntime, Reason: "bootstrap in the deployment package is not executable (its mode is " + mode.String() + "); set chmod 755 before zipping."}
	}

	rc, err := f.Open()
	if err != nil {
		return &BundleError{Code: ReasonInvalidZip, Reason: "Could not unzip uploaded file. Please check your file, then try to upload again."}
	}
	defer func() { _ = rc.Close() }() // only the first bytes are read

	head := make([]byte, 64)

	n, _ := io.ReadFull(rc, head)
	head = head[:n]

	if bytes.HasPrefix(head, []byte("#!")) {
		return nil
	}

	if !bytes.HasPrefix(head, []byte(elf.ELFMAG)) {
		return &BundleError{Code: ReasonInvalidRuntime, Reason: "bootstrap is neither an ELF executable nor a script with a #! line; Lambda cannot execute it (exec format error)."}
	}

	machine, ok := elfMachine(head)
	if !ok {
		return &BundleError{Code: ReasonInvalidRuntime, Reason: "bootstrap has a truncated ELF header; Lambda cannot execute it (exec format error)."}
	}

	want, known := lambdaArch[architecture]
	if !known {
		return &BundleError{Code: ReasonInvalidConfig, Reason: fmt.Sprintf("Architectures value %q is not one Lambda supports (x86_64, arm64).", architecture)}
	}

	if machine != want {
		return &BundleError{Code: ReasonInvalidRuntime, Reason: fmt.Sprintf("bootstrap is built for %s but the function's architecture is %s; Lambda cannot execute it (exec format error).", machine, architecture)}
	}

	host, ok := hostMachine()
	if !ok || machine != host {
		return &BundleError{Code: ReasonInvalidRuntime, Reason: fmt.Sprintf("bootstrap is built for %s (architecture %s) and this machine (GOARCH %s) cannot execute it; build the bundle with GOARCH=%s to run it locally.", machine, architecture, runtime.GOARCH, runtime.GOARCH)}
	}

	return nil
}

// elfMachine reads e_machine from an ELF identification and file header.
// Only the header is needed, so the binary is not read out of the archive.
func elfMachine(head []byte) (elf.Machine, bool) {
	const machineOffset = 18
	if len(head) < machineOffset+2 {
		return elf.EM_NONE, false
	}

	var order binary.ByteOrder = binary.LittleEndian
	if elf.Data(head[elf.EI_DATA]) == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}

	return elf.Machine(order.Uint16(head[machineOffset:])), true
}

// extract writes one archive entry under dir, refusing paths that escape it.
func extract(f *zip.File, dir string) error {
	name := filepath.Clean(filepath.FromSlash(f.Name))
	if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
		return &BundleError{Code: ReasonInvalidZip, Reason: fmt.Sprintf("the deployment package holds a path outside its root: %q", f.Name)}
	}

	target := filepath.Join(dir, name)

	if f.FileInfo().IsDir() {
		return os.MkdirAll(target, 0o755)
	}

	if f.Mode()&os.ModeSymlink != 0 {
		// A symlink could point the runner outside the code directory;
		// bundles for this project never need one.
		return &BundleError{Code: ReasonInvalidZip, Reason: fmt.Sprintf("the deployment package holds a symbolic link, which this local runner does not unpack: %q", f.Name)}
	}

	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}

	rc, err := f.Open()
	if err != nil {
		return &BundleError{Code: ReasonInvalidZip, Reason: "Could not unzip uploaded file. Please check your file, then try to upload again."}
	}
	// Read errors, a bad checksum included, surface through the copy below.
	defer func() { _ = rc.Close() }()

	perm := f.Mode().Perm() | 0o400
	if perm&0o077 == 0 {
		perm |= 0o044
	}

	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", f.Name, err)
	}

	src := &readErrs{r: io.LimitReader(rc, maxUnpackedSize)}
	if _, err := io.Copy(out, src); err != nil {
		_ = out.Close()

		if src.err != nil {
			// Corrupt data, a bad checksum: the archive's fault.
			return &BundleError{Code: ReasonInvalidZip, Reason: "Could not unzip uploaded file. Please check your file, then try to upload again."}
		}

		return fmt.Errorf("write %s: %w", f.Name, err)
	}

	return out.Close()
}

// readErrs remembers a read error, to tell a corrupt archive from a failing
// disk when a copy fails.
type readErrs struct {
	r   io.Reader
	err error
}

func (re *readErrs) Read(p []byte) (int, error) {
	n, err := re.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		re.err = err
	}

	return n, err
}
