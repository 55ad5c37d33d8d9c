package frontdoor

import (
	"bytes"
	"net/http"
	"strings"
)

// defaultEncryption is what S3 reports for a bucket without an encryption
// configuration of its own: since January 2023 every bucket encrypts new
// objects with SSE-S3 by default.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html
const defaultEncryption = `<?xml version="1.0" encoding="UTF-8"?>
<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`

// serveS3 handles the S3 calls kumo answers unlike S3; it reports false for
// the rest.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) bool {
	_, isEncryption := r.URL.Query()["encryption"]
	bucket := strings.Trim(r.URL.Path, "/")

	if r.Method != http.MethodGet || !isEncryption || bucket == "" || strings.Contains(bucket, "/") {
		return false
	}

	kr, err := s.forward(r, nil)
	if err != nil {
		return false
	}

	// kumo says a bucket without its own configuration has none; S3 answers
	// with the SSE-S3 default every bucket has.
	if kr.status == http.StatusNotFound && bytes.Contains(kr.body, []byte("ServerSideEncryptionConfigurationNotFoundError")) {
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte(defaultEncryption))

		return true
	}

	kr.write(w, kr.body)

	return true
}
