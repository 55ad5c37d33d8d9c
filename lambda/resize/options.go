package resize

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Fit says how an image is matched to the thumbnail box.
type Fit string

// The fit modes; see the package documentation.
const (
	FitInside Fit = "Inside"
	FitCover  Fit = "Cover"
	FitFill   Fit = "Fill"
)

// Format is the configured output format.
type Format string

// The output formats. FormatSource keeps the source's format (a GIF stays a GIF).
const (
	FormatSource Format = "Source"
	FormatJPEG   Format = "JPEG"
	FormatPNG    Format = "PNG"
)

// Environment variables through which the controller configures the function.
// They are the contract between the two: the names must not change.
const (
	EnvMaxWidth        = "THUMB_MAX_WIDTH"
	EnvMaxHeight       = "THUMB_MAX_HEIGHT"
	EnvFit             = "THUMB_FIT"
	EnvFormat          = "THUMB_FORMAT"
	EnvQuality         = "THUMB_QUALITY"
	EnvKeyPrefix       = "THUMB_KEY_PREFIX"
	EnvMaxSourceBytes  = "MAX_SOURCE_BYTES"
	EnvMaxSourcePixels = "MAX_SOURCE_PIXELS"
)

// Bounds for the box, whether it comes from the environment or a request.
// 10000 is far above any thumbnail yet keeps a request from asking for a
// full-size re-encode of a huge image.
const (
	MinDimension = 1
	MaxDimension = 10000
)

// Options configure Thumbnail. The zero value is not usable; start from
// DefaultOptions or OptionsFromEnv.
type Options struct {
	MaxWidth, MaxHeight int
	Fit                 Fit
	Format              Format
	// Quality is the JPEG quality, 1..100.
	Quality int
	// KeyPrefix is prepended to the source key to name the thumbnail.
	KeyPrefix string
	// MaxSourceBytes refuses larger objects before they are downloaded.
	MaxSourceBytes int64
	// MaxSourcePixels refuses images whose header claims more pixels,
	// before they are decoded.
	MaxSourcePixels int64
}

// DefaultOptions reproduce the original deployment: a 200x200 box, aspect
// kept, the source's format, JPEG quality 85, "thumb-" prefix.
func DefaultOptions() Options {
	return Options{
		MaxWidth:        200,
		MaxHeight:       200,
		Fit:             FitInside,
		Format:          FormatSource,
		Quality:         85,
		KeyPrefix:       "thumb-",
		MaxSourceBytes:  50 << 20,
		MaxSourcePixels: 100_000_000,
	}
}

// Validate reports every invalid field at once, so a misconfigured function
// is fixed in one round.
func (o Options) Validate() error {
	return o.validate(fieldLabels)
}

// labels name the fields in error messages: Go field names for callers of
// Validate, environment variable names for OptionsFromEnv, so each message
// points at the thing the user has to change.
type labels struct {
	maxWidth, maxHeight, fit, format, quality, keyPrefix, maxBytes, maxPixels string
}

var (
	fieldLabels = labels{"MaxWidth", "MaxHeight", "Fit", "Format", "Quality", "KeyPrefix", "MaxSourceBytes", "MaxSourcePixels"}
	envLabels   = labels{EnvMaxWidth, EnvMaxHeight, EnvFit, EnvFormat, EnvQuality, EnvKeyPrefix, EnvMaxSourceBytes, EnvMaxSourcePixels}
)

func (o Options) validate(l labels) error {
	var errs []error
	if err := checkDimension(l.maxWidth, o.MaxWidth); err != nil {
		errs = append(errs, err)
	}
	if err := checkDimension(l.maxHeight, o.MaxHeight); err != nil {
		errs = append(errs, err)
	}
	switch o.Fit {
	case FitInside, FitCover, FitFill:
	default:
		errs = append(errs, fmt.Errorf("%s=%q is not one of Inside, Cover, Fill", l.fit, o.Fit))
	}
	switch o.Format {
	case FormatSource, FormatJPEG, FormatPNG:
	default:
		errs = append(errs, fmt.Errorf("%s=%q is not one of Source, JPEG, PNG", l.format, o.Format))
	}
	if o.Quality < 1 || o.Quality > 100 {
		errs = append(errs, fmt.Errorf("%s=%d is outside 1..100", l.quality, o.Quality))
	}
	// S3 keys are at most 1024 bytes; half of that stays for the source key.
	if len(o.KeyPrefix) > 512 {
		errs = append(errs, fmt.Errorf("%s is %d bytes long; at most 512", l.keyPrefix, len(o.KeyPrefix)))
	}
	if o.MaxSourceBytes < 1 {
		errs = append(errs, fmt.Errorf("%s=%d must be positive", l.maxBytes, o.MaxSourceBytes))
	}
	if o.MaxSourcePixels < 1 {
		errs = append(errs, fmt.Errorf("%s=%d must be positive", l.maxPixels, o.MaxSourcePixels))
	}
	return errors.Join(errs...)
}

func checkDimension(name string, v int) error {
	if v < MinDimension || v > MaxDimension {
		return fmt.Errorf("%s=%d is outside %d..%d", name, v, MinDimension, MaxDimension)
	}
	return nil
}

// OptionsFromEnv reads the controller's environment variables over the
// defaults. lookup is os.LookupEnv in the function; tests pass a map. An unset
// or empty variable keeps its default; a set but invalid one is an error that
// names the variable, so the function fails at start-up instead of on the
// first image.
func OptionsFromEnv(lookup func(string) (string, bool)) (Options, error) {
	o := DefaultOptions()
	var errs []error
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	readInt := func(name string, dst *int) {
		if v, ok := get(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not an integer", name, v))
				return
			}
			*dst = n
		}
	}
	readInt64 := func(name string, dst *int64) {
		if v, ok := get(name); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not an integer", name, v))
				return
			}
			*dst = n
		}
	}
	readInt(EnvMaxWidth, &o.MaxWidth)
	readInt(EnvMaxHeight, &o.MaxHeight)
	readInt(EnvQuality, &o.Quality)
	readInt64(EnvMaxSourceBytes, &o.MaxSourceBytes)
	readInt64(EnvMaxSourcePixels, &o.MaxSourcePixels)
	if v, ok := get(EnvFit); ok {
		o.Fit = Fit(v)
	}
	if v, ok := get(EnvFormat); ok {
		o.Format = Format(v)
	}
	// The prefix is not trimmed: whitespace in a key is legal, and an
	// explicitly empty prefix is only safe when the buckets differ, which
	// the handler checks per request.
	if v, ok := lookup(EnvKeyPrefix); ok {
		o.KeyPrefix = v
	}
	if len(errs) == 0 {
		if err := o.validate(envLabels); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Options{}, fmt.Errorf("invalid thumbnail configuration in the environment: %w", err)
	}
	return o, nil
}
