package vtl

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// seedTemplate is the request template of the original deployment (StartExecution input).
const seedTemplate = `{"stateMachineArn": "arn:aws:states:ca-central-1:123456789012:stateMachine:ImageResizeWorkflow", "name": "$context.requestId", "input": "$util.escapeJavaScript($input.body)"}`

func apigwVars(body string) map[string]any {
	return map[string]any{
		"input": &Input{
			Body:        body,
			Path:        map[string]string{"id": "42"},
			QueryString: map[string]string{"q": "x y"},
			Header:      map[string]string{"Content-Type": "application/json", "X-Trace": "t-1"},
		},
		"util":           Util{},
		"context":        MapOf("requestId", "c0ffee00-0000-4000-8000-000000000001", "stage", "prod", "httpMethod", "POST", "resourcePath", "/resize"),
		"stageVariables": StringMap(map[string]string{"bucket": "image-resized-oanh"}),
	}
}

func render(t *testing.T, tpl, body string) string {
	t.Helper()
	p, err := Parse(tpl)
	if err != nil {
		t.Fatalf("Parse(%q): %v", tpl, err)
	}
	out, err := p.Render(apigwVars(body))
	if err != nil {
		t.Fatalf("Render(%q): %v", tpl, err)
	}
	return out
}

// The expected outputs follow the mapping template reference: $util.escapeJavaScript escapes
// with JavaScript string rules (Commons Lang StringEscapeUtils.escapeJavaScript: \" \' \\ \/,
// \n \r \t \b \f, \uXXXX in upper-case hex for other control characters and non-ASCII, UTF-16
// surrogates beyond the BMP), and $input.json returns the JSONPath result as a JSON string.
func TestSeedTemplateGolden(t *testing.T) {
	const prefix = `{"stateMachineArn": "arn:aws:states:ca-central-1:123456789012:stateMachine:ImageResizeWorkflow", "name": "c0ffee00-0000-4000-8000-000000000001", "input": "`
	cases := map[string]struct{ body, input string }{
		"seed request": {
			body:  `{"image_key":"test.jpg","source_bucket":"image-uploads-oanh","destination_bucket":"image-resized-oanh"}`,
			input: `{\"image_key\":\"test.jpg\",\"source_bucket\":\"image-uploads-oanh\",\"destination_bucket\":\"image-resized-oanh\"}`,
		},
		"quotes and backslashes": {
			body:  `{"image_key":"a \"quoted\" \\ key.jpg"}`,
			input: `{\"image_key\":\"a \\\"quoted\\\" \\\\ key.jpg\"}`,
		},
		"newlines, tabs and pretty-printed bodies": {
			body:  "{\n\t\"image_key\": \"x.jpg\"\r\n}",
			input: `{\n\t\"image_key\": \"x.jpg\"\r\n}`,
		},
		"slash and single quote": {
			body:  `{"image_key":"dir/it's.jpg"}`,
			input: `{\"image_key\":\"dir\/it\'s.jpg\"}`,
		},
		"unicode: Latin-1, BMP and beyond": {
			body:  `{"image_key":"café-☃-😀.jpg"}`,
			input: `{\"image_key\":\"caf\u00E9-\u2603-\uD83D\uDE00.jpg\"}`,
		},
		"other control characters": {
			body:  "\x01\x1f\x7f\b\f",
			input: `\u0001\u001F` + "\x7f" + `\b\f`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := render(t, seedTemplate, tc.body)
			want := prefix + tc.input + `"}`
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// Without a single quote in the body, the seed template's output is JSON whose "input" is the
// body byte for byte: that is what Step Functions receives.
func TestSeedTemplateRoundTrip(t *testing.T) {
	for _, body := range []string{
		`{"image_key":"test.jpg"}`,
		"{\"k\": \"tab\\there\", \"n\": \"line\\nbreak\", \"u\": \"日本語 😀\", \"s\": \"a/b\\\\c\"}\n",
		"",
	} {
		out := render(t, seedTemplate, body)
		var v struct{ Input string }
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if v.Input != body {
			t.Errorf("input round trip: got %q want %q", v.Input, body)
		}
	}
}

func TestInputJSONGolden(t *testing.T) {
	body := "{ \"a\" : \"x\\\"y\\\\z\\n\", \"b\": [1, 2.5, true, null, -3], \"c\": {\"d\": \"caf\u00e9 \\u2603 /\"}, \"e\": {} }"
	cases := map[string]string{
		`$input.json('$')`:         `{"a":"x\"y\\z\n","b":[1,2.5,true,null,-3],"c":{"d":"café ☃ /"},"e":{}}`,
		`$input.json('$.a')`:       `"x\"y\\z\n"`,
		`$input.json('$.b')`:       `[1,2.5,true,null,-3]`,
		`$input.json('$.b[1]')`:    `2.5`,
		`$input.json('$.c.d')`:     `"café ☃ /"`,
		`$input.json("$['c']")`:    `{"d":"café ☃ /"}`,
		`$input.json('$.b[*]')`:    `[1,2.5,true,null,-3]`,
		`$input.json('$.missing')`: ``,
		`{"body": $input.json('$'), "stage": "$context.stage"}`: `{"body": {"a":"x\"y\\z\n","b":[1,2.5,true,null,-3],"c":{"d":"café ☃ /"},"e":{}}, "stage": "prod"}`,
	}
	for tpl, want := range cases {
		if got := render(t, tpl, body); got != want {
			t.Errorf("%s:\n got  %s\n want %s", tpl, got, want)
		}
	}
	// An empty body is an empty object to $input.json.
	if got := render(t, `$input.json('$')`, ""); got != "{}" {
		t.Errorf("empty body: got %q", got)
	}
}

func TestRender(t *testing.T) {
	body := `{"name":"Ann","tags":["a","b","c"],"n":3,"ok":true,"nested":{"k":"v"}}`
	cases := []struct{ name, tpl, want string }{
		{"text only", "plain text, no references", "plain text, no references"},
		{"input.path string", "$input.path('$.name')", "Ann"},
		{"input.path map property", "$input.path('$.nested').k", "v"},
		{"input.path list size", "$input.path('$.tags').size()", "3"},
		{"input.path map renders as Java map", "$input.path('$.nested')", "{k=v}"},
		{"input.params by name", "$input.params('id') $input.params('q') $input.params('x-trace') [$input.params('nope')]", "42 x y t-1 []"},
		{"input.params all", "$input.params().path.id $input.params().header.get('X-Trace')", "42 t-1"},
		{"input.body", "$input.body", body},
		{"context and stage variables", "$context.stage $context.httpMethod $context.resourcePath $stageVariables.bucket", "prod POST /resize image-resized-oanh"},
		{"braced reference", "${context.stage}-x", "prod-x"},
		{"undefined reference renders its source", "[$nothing] [$nothing.foo] [${nothing}]", "[$nothing] [$nothing.foo] [${nothing}]"},
		{"quiet reference renders nothing", "[$!nothing] [$!{nothing}]", "[] []"},
		{"missing path renders source unless quiet", "[$input.path('$.zz')][$!input.path('$.zz')]", "[$input.path('$.zz')][]"},
		{"dollar without a name is text", "costs $5 and $ alone", "costs $5 and $ alone"},
		{"hash without a directive is text", "#1 #hashtag #ending", "#1 #hashtag #ending"},
		{"set and reference", "#set($x = 'a')$x", "a"},
		{"set eats its line", "  #set($x = 1)\n$x", "1"},
		{"set with double-quoted interpolation", `#set($g = "hi $input.path('$.name')")$g`, "hi Ann"},
		{"single quotes do not interpolate", `#set($g = 'hi $x')$g`, "hi $x"},
		{"set null keeps old value", "#set($x = 'a')#set($x = $input.path('$.zz'))$x", "a"},
		{"arithmetic", "#set($n = $input.path('$.n') * 2 + 1)$n|#set($f = 7 / 2)$f|#set($d = 1.5 + 1)$d|#set($z = 1 / 0)$z", "7|3|2.5|$z"},
		{"set eats the blanks before it (Velocity 1.7)", "a  #set($x = 1)b", "ab"},
		{"string concatenation with +", `#set($s = "a" + 1)$s`, "a1"},
		{"if else", "#if($input.path('$.ok'))yes#{else}no#end", "yes"},
		{"elseif", "#set($n = 2)#if($n == 1)one#elseif($n == 2)two#else other#end", "two"},
		{"comparisons and logic", "#if($input.path('$.n') >= 3 && $input.path('$.name') == 'Ann' || false)T#end#if(!($input.path('$.n') < 3))U#end#if($input.path('$.n') ne 4 and not false)V#end", "TUV"},
		{"null is false, empty string is true (Velocity 1.7)", "#if($nothing)A#end#if('')B#end", "B"},
		{"foreach with hasNext", "#foreach($t in $input.path('$.tags'))$t#if($foreach.hasNext),#end#end", "a,b,c"},
		{"foreach index and velocityCount", "#foreach($t in ['x','y'])$foreach.index:$velocityCount #end", "0:1 1:2 "},
		{"foreach over range", "#foreach($i in [1..3])$i#end", "123"},
		{"foreach over map values and keySet", "#set($m = {'a': 1, 'b': 2})#foreach($v in $m)$v#end #foreach($k in $m.keySet())$k#end", "12 ab"},
		{"foreach eats directive lines", "[\n#foreach($t in ['a','b'])\n  \"$t\"#if($foreach.hasNext),#end\n\n#end\n]", "[\n  \"a\",\n  \"b\"\n]"},
		{"line and block comments", "a## comment\nb#* block\n *#c", "abc"},
		{"unparsed block", "#[[$not #if]]#", "$not #if"},
		{"escaped reference", `#set($x = 1)\$x \$y`, `$x \$y`},
		{"string methods", "#set($s = 'Hello, World')$s.length() $s.substring(7) $s.toUpperCase() $s.replace('World', 'AWS') $s.contains('lo') $s.indexOf('W') $s.split(', ').size()", "12 World HELLO, WORLD Hello, AWS true 7 2"},
		{"replaceAll uses Java groups", `#set($s = 'a-b-c')$s.replaceAll('(\w)-', '$1+')`, "a+b+c"},
		{"map set and get", "#set($m = {})#set($m.k = 'v')#set($m['j'] = 'w')$m.get('k')$m.j $m.containsKey('k') $m.size()", "vw true 2"},
		{"list literal and get", "#set($l = ['a', 'b'])$l.get(1) $l[0] $l.size() $l", "b a 2 [a, b]"},
		{"util base64 and url", "$util.base64Encode('hi there') $util.base64Decode('aGkgdGhlcmU=') $util.base64Decode('aGk') $util.urlEncode('a b&c/é~') $util.urlDecode('a+b%26c')", "aGkgdGhlcmU= hi there hi a+b%26c%2F%C3%A9%7E a b&c"},
		{"util parseJson", "#set($o = $util.parseJson($input.body))$o.name $o.tags[2] $o.nested.k", "Ann c v"},
		{"util escapeJavaScript of a parameter", "$util.escapeJavaScript($input.params('q'))", "x y"},
		{"doubles render as Java", "#set($x = 1.0)$x|#set($y = 0.1 + 0.2)$y", "1.0|0.30000000000000004"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(t, tc.tpl, body); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// The "pass all parameters" example of the API Gateway developer guide renders to JSON holding
// every parameter.
func TestAllParamsExample(t *testing.T) {
	tpl := `#set($allParams = $input.params())
{
"params" : {
#foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
"$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
}
}`
	out := render(t, tpl, "")
	var v struct {
		Params map[string]map[string]string `json:"params"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if v.Params["path"]["id"] != "42" || v.Params["querystring"]["q"] != "x y" || v.Params["header"]["X-Trace"] != "t-1" {
		t.Errorf("params: %+v", v.Params)
	}
}

func TestUnsupportedConstructsAreNamed(t *testing.T) {
	cases := map[string]string{
		"#macro(m)x#end":                      "#macro directive",
		"#include('x')":                       "#include directive",
		"#parse('x')":                         "#parse directive",
		"#foreach($a in [1])#break#end":       "#break directive",
		"$util.toJson($input.body)":           "$util.toJson()",
		"$input.foo()":                        "$input.foo()",
		"$input.nope":                         "property $input.nope",
		"$input.json('$..a')":                 "recursive descent",
		"$input.json('$.a[?(@.b)]')":          "JSONPath selector",
		"#set($s = 'x')$s.getBytes()":         "String.getBytes()",
		"#set($x = null)":                     "null literal",
		"#foreach($x in 'abc')$x#end":         "#foreach over String",
		"#set($s = 'x')$s.matches('(?<=a)b')": "regular expression",
	}
	for tpl, construct := range cases {
		p, err := Parse(tpl)
		if err == nil {
			_, err = p.Render(apigwVars(`{"a":{"b":1}}`))
		}
		var ve *Error
		if !errors.As(err, &ve) || ve.Construct == "" {
			t.Errorf("%s: want an unsupported-construct error, got %v", tpl, err)
			continue
		}
		if !strings.Contains(err.Error(), construct) {
			t.Errorf("%s: error %q does not name %q", tpl, err, construct)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, tpl := range []string{
		"#if($a)x", "#end", "#set($a 1)", "#set(a = 1)", "#foreach($a [1])#end", "$a.b(",
		"#if(", "#set($a = 'unterminated)", "#* open comment", "#[[ open", "#foreach($a in [1])x#else y#end",
		strings.Repeat("#if(true)", 500),
	} {
		if _, err := Parse(tpl); err == nil {
			t.Errorf("Parse(%q) should fail", tpl)
		}
	}
}

func TestBodyErrorOnInvalidJSON(t *testing.T) {
	p, err := Parse(`{"x": $input.json('$')}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Render(apigwVars(`{"broken`))
	var be *BodyError
	if !errors.As(err, &be) {
		t.Fatalf("want a BodyError, got %v", err)
	}
	// $input.body never parses the body, so non-JSON bodies pass through it.
	if got := render(t, "$util.escapeJavaScript($input.body)", "not json"); got != "not json" {
		t.Errorf("got %q", got)
	}
}

func TestRenderLimits(t *testing.T) {
	p, err := Parse("#foreach($i in [1..2000000])x#end")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Render(nil); err == nil {
		t.Error("a huge range must be refused")
	}
	p, err = Parse("#foreach($i in [1..999])#foreach($j in [1..999])#foreach($k in [1..999])x#end#end#end")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Render(nil); err == nil {
		t.Error("a billion-step template must be refused")
	}
}

func TestEscapeJavaScriptCommonsLangExample(t *testing.T) {
	// The example of StringEscapeUtils.escapeJavaScript's documentation.
	if got, want := EscapeJavaScript(`He didn't say, "Stop!"`), `He didn\'t say, \"Stop!\"`; got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func FuzzParseRender(f *testing.F) {
	for _, s := range []string{
		seedTemplate, "$input.json('$')", "#set($a = [1..3])#foreach($x in $a)$x#end",
		"#if($a == 'b' && !$c || $d >= 2)x#elseif($e)y#else z#end", "${a.b(1, 'c', \"$d\")}[0]",
		"\\$a \\\\$b #[[x]]# ## c\n #* d *#", "$util.parseJson($input.body).a",
		"#set($m = {'a': [1, {'b': 2}]})$m.a[1].b", "$input.path('$.a[0].b')",
	} {
		f.Add(s, `{"a":[{"b":1}],"c":"d"}`)
	}
	f.Fuzz(func(t *testing.T, tpl, body string) {
		p, err := Parse(tpl)
		if err != nil {
			var ve *Error
			if !errors.As(err, &ve) {
				t.Fatalf("Parse returned a non-vtl error: %v", err)
			}
			return
		}
		_, _ = p.Render(apigwVars(body))
	})
}

// controllerTemplate is the request template the controller writes (controllers/desired.go):
// the compact JSON of the body, escaped, with escapeJavaScript's \' (not a JSON escape) undone.
const controllerTemplate = `{"stateMachineArn": "arn:aws:states:ca-central-1:123456789012:stateMachine:ImageResizeWorkflow", "name": "$context.requestId", ` +
	`"input": "$util.escapeJavaScript($input.json('$')).replaceAll("\\'", "'")"}`

func TestControllerTemplateGolden(t *testing.T) {
	const prefix = `{"stateMachineArn": "arn:aws:states:ca-central-1:123456789012:stateMachine:ImageResizeWorkflow", "name": "c0ffee00-0000-4000-8000-000000000001", "input": "`
	cases := map[string]struct{ body, input, compact string }{
		"seed request, pretty-printed": {
			body:    "{\n  \"image_key\": \"test.jpg\",\n  \"source_bucket\": \"image-uploads-oanh\",\n  \"destination_bucket\": \"image-resized-oanh\"\n}",
			input:   `{\"image_key\":\"test.jpg\",\"source_bucket\":\"image-uploads-oanh\",\"destination_bucket\":\"image-resized-oanh\"}`,
			compact: `{"image_key":"test.jpg","source_bucket":"image-uploads-oanh","destination_bucket":"image-resized-oanh"}`,
		},
		"apostrophe, quotes, backslash, newline, slash, unicode": {
			body:    `{"image_key":"it's \"x\" \\ a\nb/c-é-😀.jpg"}`,
			input:   `{\"image_key\":\"it's \\\"x\\\" \\\\ a\\nb\/c-\u00E9-\uD83D\uDE00.jpg\"}`,
			compact: `{"image_key":"it's \"x\" \\ a\nb/c-é-😀.jpg"}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := render(t, controllerTemplate, tc.body)
			if want := prefix + tc.input + `"}`; got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
			var v struct{ Input string }
			if err := json.Unmarshal([]byte(got), &v); err != nil {
				t.Fatalf("StartExecution would reject this request: %v", err)
			}
			if v.Input != tc.compact {
				t.Errorf("execution input %s, want %s", v.Input, tc.compact)
			}
		})
	}
}
