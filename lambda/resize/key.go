package resize

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxKeyBytes is S3's limit on an object key's length in UTF-8 bytes.
const MaxKeyBytes = 1024

// ThumbKey names the thumbnail of key: the prefix prepended to the whole key
// (see the package documentation for why). It fails when the result is not a
// valid S3 key.
func ThumbKey(prefix, key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	thumb := prefix + key
	if len(thumb) > MaxKeyBytes {
		return "", newError(key, ReasonInvalidRequest, nil,
			"thumbnail key would be %d bytes long; S3 allows %d", len(thumb), MaxKeyBytes)
	}
	return thumb, nil
}

// CheckKey validates an S3 object key as it arrives in the event.
func CheckKey(key string) error {
	switch {
	case key == "":
		return newError(key, ReasonInvalidRequest, nil, "image_key is empty")
	case len(key) > MaxKeyBytes:
		return newError(key, ReasonInvalidRequest, nil, "image_key is %d bytes long; S3 allows %d", len(key), MaxKeyBytes)
	case !utf8.ValidString(key):
		return newError(key, ReasonInvalidRequest, nil, "image_key is not valid UTF-8")
	}
	return nil
}

// MetadataKey encodes a key for an S3 user-metadata value. Metadata travels in
// HTTP headers, which S3 only accepts as US-ASCII, so each path segment is
// percent-encoded (RFC 3986) and the slashes are kept for readability:
// "photos/2024/été.jpg" becomes "photos/2024/%C3%A9t%C3%A9.jpg".
func MetadataKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
