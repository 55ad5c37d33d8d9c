package vtl

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Values are Go forms of the Java objects Velocity sees: nil (null), string, bool, int64
// (Integer/Long), float64 (Double), []any (ArrayList), *Map (LinkedHashMap) and Object (a host
// object such as $input or $util).

// Object is a host object: $obj.name reads Property, $obj.name(args) calls Call.
type Object interface {
	Property(name string) (any, bool)
	Call(name string, args []any) (any, error)
}

// Map is an insertion-ordered map, as JSON objects and map literals are in Velocity.
type Map struct {
	keys []string
	vals map[string]any
}

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{vals: map[string]any{}} }

// MapOf builds a Map from alternating keys and values.
func MapOf(kv ...any) *Map {
	m := NewMap()
	for i := 0; i+1 < len(kv); i += 2 {
		m.Put(kv[i].(string), kv[i+1])
	}
	return m
}

// StringMap builds a Map from a Go map, keys sorted so rendering is stable.
func StringMap(in map[string]string) *Map {
	m := NewMap()
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.Put(k, in[k])
	}
	return m
}

// Put sets a key, keeping its first insertion position; it returns the previous value.
func (m *Map) Put(k string, v any) any {
	old, ok := m.vals[k]
	if !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
	return old
}

// Get returns a key's value.
func (m *Map) Get(k string) (any, bool) {
	v, ok := m.vals[k]
	return v, ok
}

// Keys returns the keys in insertion order.
func (m *Map) Keys() []string { return m.keys }

// Len is the number of keys.
func (m *Map) Len() int { return len(m.keys) }

type renderer struct {
	vars  map[string]any
	out   strings.Builder
	depth int
	steps int
}

// maxSteps bounds the work of one render (loops over huge ranges, deep recursion through
// string interpolation); API Gateway likewise limits template evaluation.
const maxSteps = 1_000_000

// maxOutput bounds the rendered size; API Gateway's payload limit is 10 MB.
const maxOutput = 10 << 20

// Render renders the template with the given top-level variables (e.g. "input", "context").
func (t *Template) Render(vars map[string]any) (out string, err error) {
	r := &renderer{vars: map[string]any{}}
	for k, v := range vars {
		r.vars[k] = v
	}
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(*Error); ok {
				out, err = "", e
				return
			}
			panic(p)
		}
	}()
	r.nodes(t.nodes)
	return r.out.String(), nil
}

func (r *renderer) fail(pos int, format string, a ...any) {
	panic(&Error{Pos: pos, Msg: fmt.Sprintf(format, a...)})
}

func (r *renderer) step() {
	r.steps++
	if r.steps > maxSteps {
		r.fail(-1, "template evaluation exceeded %d steps", maxSteps)
	}
	if r.out.Len() > maxOutput {
		r.fail(-1, "template output exceeded %d bytes", maxOutput)
	}
}

func (r *renderer) nodes(ns []node) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxDepth {
		r.fail(-1, "template evaluation nests deeper than %d levels", maxDepth)
	}
	for _, n := range ns {
		r.step()
		switch n := n.(type) {
		case *textNode:
			r.out.WriteString(n.text)
		case *refNode:
			v := r.ref(n.ref)
			if v == nil {
				if !n.quiet {
					r.out.WriteString(n.src)
				}
				continue
			}
			r.out.WriteString(toString(v))
		case *escapedRefNode:
			if r.ref(n.ref) == nil {
				r.out.WriteString("\\" + n.src)
			} else {
				r.out.WriteString(n.src)
			}
		case *setNode:
			r.set(n)
		case *ifNode:
			done := false
			for i, c := range n.conds {
				if truthy(r.eval(c)) {
					r.nodes(n.bodies[i])
					done = true
					break
				}
			}
			if !done {
				r.nodes(n.orelse)
			}
		case *foreachNode:
			r.foreach(n)
		default:
			r.fail(-1, "internal: unknown node %T", n)
		}
	}
}

func (r *renderer) set(n *setNode) {
	v := r.eval(n.value)
	// Velocity 1.7 leaves the left side unchanged when the right side is null.
	if v == nil {
		return
	}
	ref := n.target
	if len(ref.parts) == 0 {
		r.vars[ref.name] = v
		return
	}
	// #set($map.key = v) and #set($map[key] = v) store into a map.
	base := &reference{pos: ref.pos, name: ref.name, parts: ref.parts[:len(ref.parts)-1]}
	last := ref.parts[len(ref.parts)-1]
	m, ok := r.ref(base).(*Map)
	if !ok || last.call {
		panic(unsupported(ref.pos, "#set target", "only $var, $map.key and $map[key] can be assigned"))
	}
	key := last.name
	if last.index != nil {
		key = toString(r.eval(last.index))
	}
	m.Put(key, v)
}

func (r *renderer) foreach(n *foreachNode) {
	var items []any
	switch v := r.eval(n.list).(type) {
	case nil:
		return
	case []any:
		items = v
	case *Map:
		// Iterating a Map iterates its values, as in Velocity.
		for _, k := range v.keys {
			items = append(items, v.vals[k])
		}
	default:
		panic(unsupported(-1, "#foreach over "+typeName(v), "only lists, maps and ranges can be iterated"))
	}
	savedVar, hadVar := r.vars[n.varName]
	savedForeach, hadForeach := r.vars["foreach"]
	savedCount, hadCount := r.vars["velocityCount"]
	for i, it := range items {
		r.step()
		r.vars[n.varName] = it
		r.vars["foreach"] = MapOf("index", int64(i), "count", int64(i+1), "hasNext", i+1 < len(items),
			"first", i == 0, "last", i+1 == len(items))
		r.vars["velocityCount"] = int64(i + 1)
		r.nodes(n.body)
	}
	restore := func(name string, v any, had bool) {
		if had {
			r.vars[name] = v
		} else {
			delete(r.vars, name)
		}
	}
	restore(n.varName, savedVar, hadVar)
	restore("foreach", savedForeach, hadForeach)
	restore("velocityCount", savedCount, hadCount)
}

func (r *renderer) ref(ref *reference) any {
	v, ok := r.vars[ref.name]
	if !ok {
		return nil
	}
	for _, p := range ref.parts {
		r.step()
		if v == nil {
			return nil
		}
		switch {
		case p.index != nil:
			v = r.index(ref, v, r.eval(p.index))
		case p.call:
			args := make([]any, len(p.args))
			for i, a := range p.args {
				args[i] = r.eval(a)
			}
			var err error
			v, err = callMethod(v, p.name, args)
			if err != nil {
				if e, ok := err.(*Error); ok {
					if e.Pos < 0 {
						e.Pos = ref.pos
					}
					panic(e)
				}
				panic(&Error{Pos: ref.pos, Msg: err.Error(), Err: err})
			}
		default:
			v = property(ref.pos, v, p.name)
		}
	}
	return v
}

func (r *renderer) index(ref *reference, v, idx any) any {
	switch c := v.(type) {
	case []any:
		i, ok := toInt(idx)
		if !ok {
			r.fail(ref.pos, "list index must be a number, not %s", typeName(idx))
		}
		if i < 0 || int(i) >= len(c) {
			return nil
		}
		return c[i]
	case *Map:
		x, _ := c.Get(toString(idx))
		return x
	}
	panic(unsupported(ref.pos, "index on "+typeName(v), "only lists and maps can be indexed"))
}

func property(pos int, v any, name string) any {
	switch c := v.(type) {
	case *Map:
		x, _ := c.Get(name)
		return x
	case Object:
		x, ok := c.Property(name)
		if !ok {
			panic(unsupported(pos, "property "+typeName(v)+"."+name, "no such property"))
		}
		return x
	case string:
		if name == "empty" {
			return c == ""
		}
		if name == "bytes" {
			panic(unsupported(pos, "property String.bytes", "byte arrays are not supported"))
		}
	case []any:
		if name == "empty" {
			return len(c) == 0
		}
	}
	panic(unsupported(pos, "property "+typeName(v)+"."+name, "no such property"))
}

func (r *renderer) eval(e expr) any {
	r.step()
	switch e := e.(type) {
	case *litExpr:
		return e.v
	case *refExpr:
		return r.ref(e.ref)
	case *strExpr:
		sub := &renderer{vars: r.vars, depth: r.depth, steps: r.steps}
		sub.nodes(e.tpl.nodes)
		r.steps = sub.steps
		return sub.out.String()
	case *listExpr:
		out := make([]any, len(e.items))
		for i, it := range e.items {
			out[i] = r.eval(it)
		}
		return out
	case *rangeExpr:
		from, ok1 := toInt(r.eval(e.from))
		to, ok2 := toInt(r.eval(e.to))
		if !ok1 || !ok2 {
			r.fail(-1, "range bounds must be integers")
		}
		if d := to - from; d > maxSteps || -d > maxSteps {
			r.fail(-1, "range [%d..%d] is too large", from, to)
		}
		var out []any
		if from <= to {
			for i := from; i <= to; i++ {
				out = append(out, i)
			}
		} else {
			for i := from; i >= to; i-- {
				out = append(out, i)
			}
		}
		return out
	case *mapExpr:
		m := NewMap()
		for i := range e.keys {
			m.Put(toString(r.eval(e.keys[i])), r.eval(e.vals[i]))
		}
		return m
	case *unaryExpr:
		return !truthy(r.eval(e.x))
	case *binaryExpr:
		return r.binary(e)
	}
	r.fail(-1, "internal: unknown expression %T", e)
	return nil
}

func (r *renderer) binary(e *binaryExpr) any {
	switch e.op {
	case "&&":
		return truthy(r.eval(e.l)) && truthy(r.eval(e.r))
	case "||":
		return truthy(r.eval(e.l)) || truthy(r.eval(e.r))
	}
	l, rv := r.eval(e.l), r.eval(e.r)
	switch e.op {
	case "==":
		return equal(l, rv)
	case "!=":
		return !equal(l, rv)
	case "<", "<=", ">", ">=":
		a, ok1 := toFloat(l)
		b, ok2 := toFloat(rv)
		if !ok1 || !ok2 {
			r.fail(e.pos, "'%s' compares numbers only, not %s and %s", e.op, typeName(l), typeName(rv))
		}
		switch e.op {
		case "<":
			return a < b
		case "<=":
			return a <= b
		case ">":
			return a > b
		default:
			return a >= b
		}
	case "+":
		if _, ok := l.(string); ok && rv != nil {
			return l.(string) + toString(rv)
		}
		if _, ok := rv.(string); ok && l != nil {
			return toString(l) + rv.(string)
		}
	}
	return r.arith(e, l, rv)
}

// arith follows Velocity's MathUtils: integers stay integers, a double makes a double, and a
// division by zero or an operation on null gives null.
func (r *renderer) arith(e *binaryExpr, l, rv any) any {
	if l == nil || rv == nil {
		return nil
	}
	li, lInt := l.(int64)
	ri, rInt := rv.(int64)
	if lInt && rInt {
		switch e.op {
		case "+":
			return li + ri
		case "-":
			return li - ri
		case "*":
			return li * ri
		case "/":
			if ri == 0 {
				return nil
			}
			return li / ri
		case "%":
			if ri == 0 {
				return nil
			}
			return li % ri
		}
	}
	a, ok1 := toFloat(l)
	b, ok2 := toFloat(rv)
	if !ok1 || !ok2 {
		r.fail(e.pos, "'%s' needs numbers, not %s and %s", e.op, typeName(l), typeName(rv))
	}
	switch e.op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		if b == 0 {
			return nil
		}
		return a / b
	case "%":
		if b == 0 {
			return nil
		}
		return math.Mod(a, b)
	}
	r.fail(e.pos, "unknown operator %s", e.op)
	return nil
}

// truthy is Velocity 1.7's condition: null and false are false, everything else is true.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	}
	return true
}

// equal follows Velocity 1.7's ASTEQNode: numbers compare by value, values of one type with
// equals, values of different types by their string forms.
func equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if ok1 && ok2 {
		return fa == fb
	}
	if ba, ok := a.(bool); ok {
		if bb, ok := b.(bool); ok {
			return ba == bb
		}
	}
	return toString(a) == toString(b)
}

func toInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case float64:
		return int64(v), true
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "String"
	case bool:
		return "Boolean"
	case int64:
		return "Integer"
	case float64:
		return "Double"
	case []any:
		return "List"
	case *Map:
		return "Map"
	}
	if n, ok := v.(interface{ TypeName() string }); ok {
		return n.TypeName()
	}
	return fmt.Sprintf("%T", v)
}

// toString is Java's String.valueOf for the value types above.
func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return javaDouble(v)
	case []any:
		var b strings.Builder
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(toString(x))
		}
		b.WriteByte(']')
		return b.String()
	case *Map:
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(toString(v.vals[k]))
		}
		b.WriteByte('}')
		return b.String()
	}
	if n, ok := v.(interface{ TypeName() string }); ok {
		return n.TypeName()
	}
	return fmt.Sprint(v)
}

// javaDouble formats like Java's Double.toString: "1.0", "0.5", "1.0E20", "1.0E-5".
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // e.g. 1E+20, 1.5E-05
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}

func javaLen(s string) int { return len(utf16.Encode([]rune(s))) }

// javaSubstring indexes by UTF-16 code units, as Java does.
func javaSubstring(s string, from, to int64) (string, error) {
	u := utf16.Encode([]rune(s))
	if from < 0 || to > int64(len(u)) || from > to {
		//nolint:staticcheck // ST1005: Java's StringIndexOutOfBoundsException message, shown to callers as API Gateway shows it
		return "", fmt.Errorf("String index out of range: begin %d, end %d, length %d", from, to, len(u))
	}
	return string(utf16.Decode(u[from:to])), nil
}

func javaIndexOf(s, sub string) int64 {
	i := strings.Index(s, sub)
	if i < 0 {
		return -1
	}
	return int64(javaLen(s[:i]))
}

func argString(name string, args []any, i int) (string, error) {
	if i >= len(args) {
		return "", fmt.Errorf("%s: missing argument %d", name, i+1)
	}
	if args[i] == nil {
		return "", fmt.Errorf("%s: argument %d is null", name, i+1)
	}
	return toString(args[i]), nil
}

func argInt(name string, args []any, i int) (int64, error) {
	if i >= len(args) {
		return 0, fmt.Errorf("%s: missing argument %d", name, i+1)
	}
	n, ok := toInt(args[i])
	if !ok {
		return 0, fmt.Errorf("%s: argument %d must be a number", name, i+1)
	}
	return n, nil
}

func wantArgs(name string, args []any, n ...int) error {
	for _, k := range n {
		if len(args) == k {
			return nil
		}
	}
	return fmt.Errorf("%s: wrong number of arguments (%d)", name, len(args))
}

// javaRegexp compiles a Java regular expression; RE2 refuses the few constructs it lacks
// (back-references, look-around), which then surface as errors rather than wrong matches.
func javaRegexp(name, re string) (*regexp.Regexp, error) {
	x, err := regexp.Compile(re)
	if err != nil {
		return nil, unsupported(-1, "regular expression in "+name, err.Error())
	}
	return x, nil
}

// javaReplacement turns a Java replacement string ($1, \$) into Go's (${1}, $$).
func javaReplacement(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(s[i])
			}
		case c == '$':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// callMethod calls a Java method on a value.
func callMethod(v any, name string, args []any) (any, error) {
	switch c := v.(type) {
	case Object:
		return c.Call(name, args)
	case string:
		return stringMethod(c, name, args)
	case []any:
		return listMethod(c, name, args)
	case *Map:
		return mapMethod(c, name, args)
	case int64, float64, bool:
		switch name {
		case "toString":
			return toString(v), nil
		case "equals":
			if err := wantArgs(name, args, 1); err != nil {
				return nil, err
			}
			return equal(v, args[0]), nil
		case "intValue", "longValue":
			n, _ := toInt(v)
			return n, nil
		case "doubleValue":
			f, _ := toFloat(v)
			return f, nil
		}
	}
	return nil, unsupported(-1, "method "+typeName(v)+"."+name+"()", "not implemented by the renderer")
}

func stringMethod(s, name string, args []any) (any, error) {
	one := func() (string, error) {
		if err := wantArgs(name, args, 1); err != nil {
			return "", err
		}
		return argString(name, args, 0)
	}
	two := func() (string, string, error) {
		if err := wantArgs(name, args, 2); err != nil {
			return "", "", err
		}
		a, err := argString(name, args, 0)
		if err != nil {
			return "", "", err
		}
		b, err := argString(name, args, 1)
		return a, b, err
	}
	switch name {
	case "length":
		return int64(javaLen(s)), wantArgs(name, args, 0)
	case "isEmpty":
		return s == "", wantArgs(name, args, 0)
	case "toString", "trim", "toLowerCase", "toUpperCase":
		if err := wantArgs(name, args, 0); err != nil {
			return nil, err
		}
		switch name {
		case "trim":
			return strings.Trim(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "), nil
		case "toLowerCase":
			return strings.ToLower(s), nil
		case "toUpperCase":
			return strings.ToUpper(s), nil
		}
		return s, nil
	case "contains", "startsWith", "endsWith", "equals", "equalsIgnoreCase", "indexOf", "lastIndexOf", "concat":
		a, err := one()
		if err != nil {
			return nil, err
		}
		switch name {
		case "contains":
			return strings.Contains(s, a), nil
		case "startsWith":
			return strings.HasPrefix(s, a), nil
		case "endsWith":
			return strings.HasSuffix(s, a), nil
		case "equals":
			_, isStr := args[0].(string)
			return isStr && s == a, nil
		case "equalsIgnoreCase":
			return strings.EqualFold(s, a), nil
		case "indexOf":
			return javaIndexOf(s, a), nil
		case "lastIndexOf":
			i := strings.LastIndex(s, a)
			if i < 0 {
				return int64(-1), nil
			}
			return int64(javaLen(s[:i])), nil
		default:
			return s + a, nil
		}
	case "substring":
		if err := wantArgs(name, args, 1, 2); err != nil {
			return nil, err
		}
		from, err := argInt(name, args, 0)
		if err != nil {
			return nil, err
		}
		to := int64(javaLen(s))
		if len(args) == 2 {
			if to, err = argInt(name, args, 1); err != nil {
				return nil, err
			}
		}
		return javaSubstring(s, from, to)
	case "charAt":
		if err := wantArgs(name, args, 1); err != nil {
			return nil, err
		}
		i, err := argInt(name, args, 0)
		if err != nil {
			return nil, err
		}
		return javaSubstring(s, i, i+1)
	case "replace":
		a, b, err := two()
		if err != nil {
			return nil, err
		}
		return strings.ReplaceAll(s, a, b), nil
	case "replaceAll", "replaceFirst":
		a, b, err := two()
		if err != nil {
			return nil, err
		}
		re, err := javaRegexp(name, a)
		if err != nil {
			return nil, err
		}
		repl := javaReplacement(b)
		if name == "replaceAll" {
			return re.ReplaceAllString(s, repl), nil
		}
		loc := re.FindStringSubmatchIndex(s)
		if loc == nil {
			return s, nil
		}
		var dst []byte
		dst = re.ExpandString(dst, repl, s, loc)
		return s[:loc[0]] + string(dst) + s[loc[1]:], nil
	case "matches":
		a, err := one()
		if err != nil {
			return nil, err
		}
		re, err := javaRegexp(name, "^(?:"+a+")$")
		if err != nil {
			return nil, err
		}
		return re.MatchString(s), nil
	case "split":
		a, err := one()
		if err != nil {
			return nil, err
		}
		re, err := javaRegexp(name, a)
		if err != nil {
			return nil, err
		}
		parts := re.Split(s, -1)
		// Java drops trailing empty strings.
		for len(parts) > 0 && parts[len(parts)-1] == "" && len(parts) > 1 {
			parts = parts[:len(parts)-1]
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	}
	return nil, unsupported(-1, "method String."+name+"()", "not implemented by the renderer")
}

func listMethod(l []any, name string, args []any) (any, error) {
	switch name {
	case "size":
		return int64(len(l)), wantArgs(name, args, 0)
	case "isEmpty":
		return len(l) == 0, wantArgs(name, args, 0)
	case "get":
		if err := wantArgs(name, args, 1); err != nil {
			return nil, err
		}
		i, err := argInt(name, args, 0)
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(l) {
			//nolint:staticcheck // ST1005: Java's IndexOutOfBoundsException message, shown to callers as API Gateway shows it
			return nil, fmt.Errorf("Index %d out of bounds for length %d", i, len(l))
		}
		return l[i], nil
	case "contains":
		if err := wantArgs(name, args, 1); err != nil {
			return nil, err
		}
		for _, x := range l {
			if equal(x, args[0]) {
				return true, nil
			}
		}
		return false, nil
	case "toString":
		return toString(l), nil
	}
	// add/remove would need the list to be shared by reference, which []any is not.
	return nil, unsupported(-1, "method List."+name+"()", "not implemented by the renderer")
}

func mapMethod(m *Map, name string, args []any) (any, error) {
	switch name {
	case "size":
		return int64(m.Len()), wantArgs(name, args, 0)
	case "isEmpty":
		return m.Len() == 0, wantArgs(name, args, 0)
	case "get", "containsKey":
		if err := wantArgs(name, args, 1); err != nil {
			return nil, err
		}
		k, err := argString(name, args, 0)
		if err != nil {
			return nil, err
		}
		v, ok := m.Get(k)
		if name == "containsKey" {
			return ok, nil
		}
		return v, nil
	case "put":
		if err := wantArgs(name, args, 2); err != nil {
			return nil, err
		}
		k, err := argString(name, args, 0)
		if err != nil {
			return nil, err
		}
		return m.Put(k, args[1]), nil
	case "keySet":
		out := make([]any, len(m.keys))
		for i, k := range m.keys {
			out[i] = k
		}
		return out, wantArgs(name, args, 0)
	case "values":
		out := make([]any, len(m.keys))
		for i, k := range m.keys {
			out[i] = m.vals[k]
		}
		return out, wantArgs(name, args, 0)
	case "toString":
		return toString(m), nil
	}
	return nil, unsupported(-1, "method Map."+name+"()", "not implemented by the renderer")
}
