package frontdoor

import (
	"bytes"
	"context"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

const iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"

// serveIAM handles the IAM Query actions kumo lacks or answers unlike AWS;
// it reports false for those kumo answers alone.
func (s *Server) serveIAM(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}

	body, err := readBody(r)
	if err != nil {
		writeIAMError(w, http.StatusBadRequest, "Sender", "MalformedInput", err.Error())

		return true
	}

	// Later handlers, and the proxy, read the body again.
	r.Body = io.NopCloser(bytes.NewReader(body))

	form, err := url.ParseQuery(string(body))
	if err != nil {
		return false
	}

	switch form.Get("Action") {
	case "ListRoleTags":
		s.iamListRoleTags(w, r, form.Get("RoleName"))
	case "DeleteRole":
		s.iamDeleteRole(w, r, form.Get("RoleName"))
	case "GetRole", "CreateRole", "ListRoles", "UpdateRole", "GetRolePolicy":
		s.iamEncodePolicies(w, r, body)
	default:
		return false
	}

	return true
}

// callIAM calls a kumo IAM action.
func (s *Server) callIAM(ctx context.Context, params url.Values) (*kumoResponse, error) {
	params.Set("Version", "2010-05-08")
	h := http.Header{
		"Content-Type":  {"application/x-www-form-urlencoded; charset=utf-8"},
		"Authorization": {s.scopeHeader("iam")},
	}

	return s.callKumo(ctx, http.MethodPost, "/", h, []byte(params.Encode()))
}

type iamTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// iamListRoleTags implements ListRoleTags from the tags GetRole returns.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoleTags.html
func (s *Server) iamListRoleTags(w http.ResponseWriter, r *http.Request, role string) {
	kr, err := s.callIAM(r.Context(), url.Values{"Action": {"GetRole"}, "RoleName": {role}})
	if err != nil {
		writeIAMError(w, http.StatusInternalServerError, "Receiver", "ServiceFailure", err.Error())

		return
	}

	if kr.status != http.StatusOK {
		kr.write(w, kr.body)

		return
	}

	var got struct {
		Tags []iamTag `xml:"GetRoleResult>Role>Tags>member"`
	}

	if err := xml.Unmarshal(kr.body, &got); err != nil {
		writeIAMError(w, http.StatusInternalServerError, "Receiver", "ServiceFailure", err.Error())

		return
	}

	type result struct {
		Tags        []iamTag `xml:"Tags>member"`
		IsTruncated bool     `xml:"IsTruncated"`
	}

	writeIAMXML(w, struct {
		XMLName   xml.Name `xml:"ListRoleTagsResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Result    result   `xml:"ListRoleTagsResult"`
		RequestID string   `xml:"ResponseMetadata>RequestId"`
	}{Xmlns: iamNamespace, Result: result{Tags: got.Tags}, RequestID: uuid.NewString()})
}

// iamDeleteRole refuses to delete a role that still has inline or attached
// policies, as IAM does; kumo deletes it anyway.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html
func (s *Server) iamDeleteRole(w http.ResponseWriter, r *http.Request, role string) {
	ctx := r.Context()

	kr, err := s.callIAM(ctx, url.Values{"Action": {"ListRolePolicies"}, "RoleName": {role}})
	if err != nil {
		writeIAMError(w, http.StatusInternalServerError, "Receiver", "ServiceFailure", err.Error())

		return
	}

	if kr.status == http.StatusOK {
		var inline struct {
			Names []string `xml:"ListRolePoliciesResult>PolicyNames>member"`
		}

		if xml.Unmarshal(kr.body, &inline) == nil && len(inline.Names) > 0 {
			writeIAMError(w, http.StatusConflict, "Sender", "DeleteConflict", "Cannot delete entity, must delete policies first.")

			return
		}
	}

	kr, err = s.callIAM(ctx, url.Values{"Action": {"ListAttachedRolePolicies"}, "RoleName": {role}})
	if err == nil && kr.status == http.StatusOK {
		var attached struct {
			Arns []string `xml:"ListAttachedRolePoliciesResult>AttachedPolicies>member>PolicyArn"`
		}

		if xml.Unmarshal(kr.body, &attached) == nil && len(attached.Arns) > 0 {
			writeIAMError(w, http.StatusConflict, "Sender", "DeleteConflict", "Cannot delete entity, must detach all policies first.")

			return
		}
	}

	s.proxy.ServeHTTP(w, r)
}

// policyElement matches the policy documents IAM returns.
var policyElement = regexp.MustCompile(`<(AssumeRolePolicyDocument|PolicyDocument)>([^<]*)</(?:AssumeRolePolicyDocument|PolicyDocument)>`)

// iamEncodePolicies returns policy documents URL-encoded (RFC 3986), as IAM
// does; kumo returns them as raw JSON, so a client that forgets to decode
// would pass here and fail on AWS.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html
func (s *Server) iamEncodePolicies(w http.ResponseWriter, r *http.Request, body []byte) {
	kr, err := s.forward(r, body)
	if err != nil {
		writeIAMError(w, http.StatusInternalServerError, "Receiver", "ServiceFailure", err.Error())

		return
	}

	if kr.status != http.StatusOK {
		kr.write(w, kr.body)

		return
	}

	out := policyElement.ReplaceAllFunc(kr.body, func(m []byte) []byte {
		sub := policyElement.FindSubmatch(m)
		doc := html.UnescapeString(string(sub[2]))

		if !strings.HasPrefix(strings.TrimSpace(doc), "{") {
			return m
		}

		enc := strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")

		return []byte("<" + string(sub[1]) + ">" + enc + "</" + string(sub[1]) + ">")
	})

	kr.write(w, out)
}

func writeIAMXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/xml")

	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)

		return
	}

	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

// writeIAMError writes an error in the Query protocol's shape.
func writeIAMError(w http.ResponseWriter, status int, typ, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)

	type detail struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}

	out, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Error     detail   `xml:"Error"`
		RequestID string   `xml:"RequestId"`
	}{Xmlns: iamNamespace, Error: detail{typ, code, message}, RequestID: uuid.NewString()})

	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}
