package resize

import (
	"strings"
	"testing"
)

func TestThumbKey(t *testing.T) {
	for _, c := range []struct{ prefix, key, want string }{
		{"thumb-", "test.jpg", "thumb-test.jpg"},
		{"thumb-", "photos/2024/été.jpg", "thumb-photos/2024/été.jpg"},
		{"thumbs/", "photos/2024/été.jpg", "thumbs/photos/2024/été.jpg"},
		{"thumb-", "a b+c%20.png", "thumb-a b+c%20.png"},
		{"thumb-", "写真/猫.gif", "thumb-写真/猫.gif"},
		{"", "x.jpg", "x.jpg"},
	} {
		got, err := ThumbKey(c.prefix, c.key)
		if err != nil || got != c.want {
			t.Errorf("ThumbKey(%q, %q) = %q, %v; want %q", c.prefix, c.key, got, err, c.want)
		}
	}
}

// TestThumbKeyCollisionFree: distinct keys never share a thumbnail key, the
// property that makes the rule safe; keys that would map to the same name
// under an extension-rewriting rule are included.
func TestThumbKeyCollisionFree(t *testing.T) {
	keys := []string{"a.png", "a.gif", "a.jpg", "a", "a/", "/a", "a/b.jpg", "a-b.jpg", "thumb-a.jpg",
		"été.jpg", "e\u0301te\u0301.jpg" /* decomposed form: a different S3 key */}
	seen := map[string]string{}
	for _, k := range keys {
		tk, err := ThumbKey("thumb-", k)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[tk]; ok {
			t.Errorf("%q and %q both map to %q", prev, k, tk)
		}
		seen[tk] = k
	}
}

func TestThumbKeyInvalid(t *testing.T) {
	for name, c := range map[string]struct{ prefix, key string }{
		"empty":          {"thumb-", ""},
		"not UTF-8":      {"thumb-", "bad\xff.jpg"},
		"key too long":   {"thumb-", strings.Repeat("k", 1025)},
		"thumb too long": {"thumb-", strings.Repeat("k", 1020)},
	} {
		_, err := ThumbKey(c.prefix, c.key)
		if ReasonOf(err) != ReasonInvalidRequest {
			t.Errorf("%s: got %v, want an InvalidRequest error", name, err)
		}
	}
}

func TestMetadataKey(t *testing.T) {
	for _, c := range []struct{ key, want string }{
		{"test.jpg", "test.jpg"},
		{"photos/2024/été.jpg", "photos/2024/%C3%A9t%C3%A9.jpg"},
		{"a b.jpg", "a%20b.jpg"},
	} {
		if got := MetadataKey(c.key); got != c.want {
			t.Errorf("MetadataKey(%q) = %q, want %q", c.key, got, c.want)
		}
		for _, r := range MetadataKey(c.key) {
			if r > 0x7e || r < 0x20 {
				t.Errorf("MetadataKey(%q) has non-ASCII %q", c.key, r)
			}
		}
	}
}
