package vtl

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The $input and $util variables of API Gateway mapping templates:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html

// BodyError is returned (wrapped in the render error) when $input.json or $input.path meet a
// body that is not JSON; API Gateway answers such requests with 400.
type BodyError struct{ Err error }

func (e *BodyError) Error() string { return "Could not parse request body into json: " + e.Err.Error() }

// Input is $input: the request (or, in a response template, the integration response) body and
// the method request parameters.
type Input struct {
	Body string
	// Path, QueryString and Header hold the request parameters; Header keys keep their case and
	// are looked up case-insensitively, as API Gateway does.
	Path, QueryString, Header map[string]string

	parsed    any
	parseErr  error
	parseDone bool
}

// TypeName names $input in error messages.
func (in *Input) TypeName() string { return "$input" }

// Property serves $input.body and $input.params (the getter form of params()).
func (in *Input) Property(name string) (any, bool) {
	switch name {
	case "body":
		return in.Body, true
	case "params":
		return in.allParams(), true
	}
	return nil, false
}

// Call serves $input.json(x), $input.path(x) and $input.params([x]).
func (in *Input) Call(name string, args []any) (any, error) {
	switch name {
	case "json", "path":
		if err := wantArgs("$input."+name, args, 1); err != nil {
			return nil, err
		}
		p, err := argString("$input."+name, args, 0)
		if err != nil {
			return nil, err
		}
		doc, err := in.document()
		if err != nil {
			return nil, err
		}
		v, found, err := evalJSONPath(doc, p)
		if err != nil {
			return nil, err
		}
		if name == "path" {
			if !found {
				return nil, nil
			}
			return v, nil
		}
		if !found {
			return "", nil
		}
		return JSONString(v), nil
	case "params":
		if err := wantArgs("$input.params", args, 0, 1); err != nil {
			return nil, err
		}
		if len(args) == 0 {
			return in.allParams(), nil
		}
		k, err := argString("$input.params", args, 0)
		if err != nil {
			return nil, err
		}
		// Path first, then query string, then headers, per the reference; "" when absent.
		if v, ok := in.Path[k]; ok {
			return v, nil
		}
		if v, ok := in.QueryString[k]; ok {
			return v, nil
		}
		if v, ok := lookupFold(in.Header, k); ok {
			return v, nil
		}
		return "", nil
	}
	return nil, unsupported(-1, "method $input."+name+"()", "API Gateway's $input has body, json(), path() and params()")
}

func lookupFold(m map[string]string, k string) (string, bool) {
	if v, ok := m[k]; ok {
		return v, true
	}
	for key, v := range m {
		if strings.EqualFold(key, k) {
			return v, true
		}
	}
	return "", false
}

func (in *Input) allParams() *Map {
	return MapOf("path", StringMap(in.Path), "querystring", StringMap(in.QueryString), "header", StringMap(in.Header))
}

// document parses the body once. An empty body is an empty object, as in API Gateway.
func (in *Input) document() (any, error) {
	if !in.parseDone {
		in.parseDone = true
		if strings.TrimSpace(in.Body) == "" {
			in.parsed = NewMap()
		} else {
			in.parsed, in.parseErr = ParseJSON(in.Body)
			if in.parseErr != nil {
				in.parseErr = &BodyError{Err: in.parseErr}
			}
		}
	}
	return in.parsed, in.parseErr
}

// Util is $util.
type Util struct{}

// TypeName names $util in error messages.
func (Util) TypeName() string { return "$util" }

// Property: $util has no properties.
func (Util) Property(string) (any, bool) { return nil, false }

// Call serves the $util functions of the mapping template reference.
func (Util) Call(name string, args []any) (any, error) {
	fn := "$util." + name
	switch name {
	case "escapeJavaScript", "base64Encode", "base64Decode", "urlEncode", "urlDecode", "parseJson":
	default:
		return nil, unsupported(-1, "function "+fn+"()", "API Gateway's $util has escapeJavaScript, base64Encode, base64Decode, urlEncode, urlDecode and parseJson")
	}
	if err := wantArgs(fn, args, 1); err != nil {
		return nil, err
	}
	if args[0] == nil {
		return nil, nil
	}
	s := toString(args[0])
	switch name {
	case "escapeJavaScript":
		return EscapeJavaScript(s), nil
	case "base64Encode":
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "base64Decode":
		// Like java.util.Base64's decoder, padding is accepted but not required.
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		return string(b), nil
	case "urlEncode":
		return JavaURLEncode(s), nil
	case "urlDecode":
		out, err := url.QueryUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		return out, nil
	default:
		v, err := ParseJSON(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		return v, nil
	}
}

// EscapeJavaScript is Apache Commons Lang's StringEscapeUtils.escapeJavaScript, which API
// Gateway's $util.escapeJavaScript is: backslash escapes for ' " \ / and \b \f \n \r \t, \uXXXX
// (upper-case hex) for other control characters and for every character above U+007F (DEL itself stays), a
// character outside the BMP as its two UTF-16 surrogates.
func EscapeJavaScript(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError {
			r = 0xFFFD
		}
		switch {
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04X\\u%04X", r1, r2)
		case r > 0x7F:
			fmt.Fprintf(&b, "\\u%04X", r)
		case r < 32:
			switch r {
			case '\b':
				b.WriteString(`\b`)
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			case '\f':
				b.WriteString(`\f`)
			case '\r':
				b.WriteString(`\r`)
			default:
				fmt.Fprintf(&b, "\\u%04X", r)
			}
		default:
			switch r {
			case '\'', '"', '\\', '/':
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// JavaURLEncode is java.net.URLEncoder.encode(s, "UTF-8"): letters, digits and .-*_ stay,
// space becomes '+', every other byte %XX (upper-case).
func JavaURLEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// ParseJSON parses JSON into the renderer's values: objects keep their key order.
func ParseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > 1000 {
		return nil, errors.New("JSON nests too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("unexpected end of JSON input")
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := NewMap()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m.Put(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			l := []any{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		if n, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		return f, nil
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// JSONString serialises a value as compact JSON the way API Gateway's $input.json does:
// no whitespace, key order kept, non-ASCII characters and '/' left as they are, control
// characters escaped.
func JSONString(v any) string {
	var b bytes.Buffer
	writeJSONValue(&b, v)
	return b.String()
}

func writeJSONValue(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, v)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b.WriteString("null")
			return
		}
		b.WriteString(javaDouble(v))
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONValue(b, x)
		}
		b.WriteByte(']')
	case *Map:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSONValue(b, v.vals[k])
		}
		b.WriteByte('}')
	default:
		writeJSONString(b, toString(v))
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, "\\u%04X", r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// evalJSONPath evaluates the JSONPath subset mapping templates use: $, .name, ['name'],
// [index] and the wildcards .* and [*] (which make the result a list). Filters, slices and
// recursive descent are refused by name.
func evalJSONPath(doc any, path string) (any, bool, error) {
	p := strings.TrimSpace(path)
	if !strings.HasPrefix(p, "$") {
		return nil, false, unsupported(-1, "JSONPath "+strconvQuote(path), "a path must start with '$'")
	}
	cur := []any{doc}
	multi := false
	i := 1
	for i < len(p) {
		var sel func(any) []any
		switch {
		case strings.HasPrefix(p[i:], ".."):
			return nil, false, unsupported(-1, "JSONPath recursive descent '..'", path)
		case p[i] == '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			name := p[i+1 : j]
			if name == "" {
				return nil, false, unsupported(-1, "JSONPath "+strconvQuote(path), "empty member name")
			}
			i = j
			if name == "*" {
				multi = true
				sel = wildcard
			} else {
				sel = member(name)
			}
		case p[i] == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, false, unsupported(-1, "JSONPath "+strconvQuote(path), "missing ']'")
			}
			inner := strings.TrimSpace(p[i+1 : i+end])
			i += end + 1
			switch {
			case inner == "*":
				multi = true
				sel = wildcard
			case len(inner) >= 2 && (inner[0] == '\'' && inner[len(inner)-1] == '\'' || inner[0] == '"' && inner[len(inner)-1] == '"'):
				sel = member(inner[1 : len(inner)-1])
			default:
				n, err := strconv.Atoi(inner)
				if err != nil {
					return nil, false, unsupported(-1, "JSONPath selector ["+inner+"]", "only names, indexes and * are supported")
				}
				sel = func(v any) []any {
					l, ok := v.([]any)
					if !ok {
						return nil
					}
					if n < 0 {
						n += len(l)
					}
					if n < 0 || n >= len(l) {
						return nil
					}
					return []any{l[n]}
				}
			}
		default:
			return nil, false, unsupported(-1, "JSONPath "+strconvQuote(path), fmt.Sprintf("unexpected %q", p[i]))
		}
		var next []any
		for _, v := range cur {
			next = append(next, sel(v)...)
		}
		cur = next
	}
	if multi {
		if cur == nil {
			cur = []any{}
		}
		return cur, true, nil
	}
	if len(cur) == 0 {
		return nil, false, nil
	}
	return cur[0], true, nil
}

func member(name string) func(any) []any {
	return func(v any) []any {
		m, ok := v.(*Map)
		if !ok {
			return nil
		}
		x, ok := m.Get(name)
		if !ok {
			return nil
		}
		return []any{x}
	}
}

func wildcard(v any) []any {
	switch c := v.(type) {
	case []any:
		return c
	case *Map:
		out := make([]any, 0, c.Len())
		for _, k := range c.keys {
			out = append(out, c.vals[k])
		}
		return out
	}
	return nil
}

func strconvQuote(s string) string { return strconv.Quote(s) }
