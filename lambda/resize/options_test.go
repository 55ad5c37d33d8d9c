package resize

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestOptionsFromEnvDefaults(t *testing.T) {
	got, err := OptionsFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Options{MaxWidth: 200, MaxHeight: 200, Fit: FitInside, Format: FormatSource, Quality: 85,
		KeyPrefix: "thumb-", MaxSourceBytes: 50 << 20, MaxSourcePixels: 100_000_000}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
}

func TestOptionsFromEnvSet(t *testing.T) {
	got, err := OptionsFromEnv(env(map[string]string{
		EnvMaxWidth: "640", EnvMaxHeight: " 480 ", EnvFit: "Cover", EnvFormat: "PNG", EnvQuality: "70",
		EnvKeyPrefix: "thumbs/", EnvMaxSourceBytes: "1048576", EnvMaxSourcePixels: "4000000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Options{MaxWidth: 640, MaxHeight: 480, Fit: FitCover, Format: FormatPNG, Quality: 70,
		KeyPrefix: "thumbs/", MaxSourceBytes: 1 << 20, MaxSourcePixels: 4_000_000}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// An empty variable keeps the default, except the prefix, which may be
	// explicitly empty.
	got, err = OptionsFromEnv(env(map[string]string{EnvMaxWidth: "", EnvKeyPrefix: ""}))
	if err != nil || got.MaxWidth != 200 || got.KeyPrefix != "" {
		t.Errorf("empty values: %+v, %v", got, err)
	}
}

func TestOptionsFromEnvInvalid(t *testing.T) {
	for name, c := range map[string]struct {
		env  map[string]string
		want []string // substrings of the message
	}{
		"width not a number": {map[string]string{EnvMaxWidth: "wide"}, []string{`THUMB_MAX_WIDTH="wide" is not an integer`}},
		"width zero":         {map[string]string{EnvMaxWidth: "0"}, []string{"THUMB_MAX_WIDTH=0 is outside 1..10000"}},
		"height too big":     {map[string]string{EnvMaxHeight: "10001"}, []string{"THUMB_MAX_HEIGHT=10001"}},
		"fit":                {map[string]string{EnvFit: "inside"}, []string{`THUMB_FIT="inside" is not one of Inside, Cover, Fill`}},
		"format":             {map[string]string{EnvFormat: "WEBP"}, []string{`THUMB_FORMAT="WEBP"`}},
		"quality":            {map[string]string{EnvQuality: "101"}, []string{"THUMB_QUALITY=101 is outside 1..100"}},
		"bytes":              {map[string]string{EnvMaxSourceBytes: "-1"}, []string{"MAX_SOURCE_BYTES=-1 must be positive"}},
		"pixels":             {map[string]string{EnvMaxSourcePixels: "1e8"}, []string{`MAX_SOURCE_PIXELS="1e8" is not an integer`}},
		"prefix":             {map[string]string{EnvKeyPrefix: strings.Repeat("p", 513)}, []string{"THUMB_KEY_PREFIX is 513 bytes"}},
		"all reported at once": {map[string]string{EnvFit: "x", EnvQuality: "0"},
			[]string{"THUMB_FIT", "THUMB_QUALITY"}},
	} {
		_, err := OptionsFromEnv(env(c.env))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", name, err, w)
			}
		}
	}
}
