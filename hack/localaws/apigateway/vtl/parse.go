// Package vtl renders the subset of the Velocity Template Language (Apache Velocity 1.7) that API
// Gateway mapping templates use: references with properties, method calls and indexes, quiet
// references, #set, #if/#elseif/#else, #foreach, comments, and expressions with literals,
// comparisons, arithmetic and logical operators. Anything else is a *Error naming the construct,
// so a template is either rendered as Velocity would or refused; it is never rendered wrongly.
package vtl

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is a parse or render error; Construct names what the renderer does not support, when
// that is the cause.
type Error struct {
	Pos       int // byte offset in the template
	Msg       string
	Construct string
	Err       error // the underlying error of a failed call, e.g. a *BodyError
}

// Unwrap exposes the underlying error to errors.As.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	line := ""
	if e.Pos >= 0 {
		line = fmt.Sprintf(" at offset %d", e.Pos)
	}
	if e.Construct != "" {
		return fmt.Sprintf("vtl: unsupported %s%s: %s", e.Construct, line, e.Msg)
	}
	return fmt.Sprintf("vtl: %s%s", e.Msg, line)
}

func unsupported(pos int, construct, msg string) *Error {
	return &Error{Pos: pos, Construct: construct, Msg: msg}
}

// Template is a parsed template.
type Template struct {
	nodes []node
}

type node interface{}

type textNode struct{ text string }

// refNode renders a reference; when it is null and not quiet, Velocity renders its source.
type refNode struct {
	ref   *reference
	quiet bool
	src   string
}

// escapedRefNode is `\$ref`: the source without the backslash when the reference has a value,
// the whole source (backslash included) when it is null.
type escapedRefNode struct {
	ref *reference
	src string
}

type setNode struct {
	target *reference
	value  expr
}

type ifNode struct {
	conds  []expr
	bodies [][]node
	orelse []node
}

type foreachNode struct {
	varName string
	list    expr
	body    []node
}

// reference is $name followed by .prop, .method(args) and [index] parts.
type reference struct {
	pos   int
	name  string
	parts []refPart
}

type refPart struct {
	name  string // property or method name
	call  bool
	args  []expr
	index expr // non-nil for [index]
}

type expr interface{}

type litExpr struct{ v any }

type refExpr struct{ ref *reference }

// strExpr is a double-quoted string, whose references and directives are interpolated.
type strExpr struct {
	tpl *Template
	src string
}

type listExpr struct{ items []expr }

type rangeExpr struct{ from, to expr }

type mapExpr struct {
	keys, vals []expr
}

type unaryExpr struct {
	op string
	x  expr
}

type binaryExpr struct {
	op   string
	l, r expr
	pos  int
}

// maxDepth bounds nesting so a hostile template cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	src   string
	pos   int
	depth int
}

// Parse parses a template.
func Parse(src string) (t *Template, err error) {
	p := &parser{src: src}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				t, err = nil, e
				return
			}
			panic(r)
		}
	}()
	nodes, term := p.parseNodes()
	if term != "" {
		p.fail(p.pos, "#%s without a matching #if or #foreach", term)
	}
	return &Template{nodes: nodes}, nil
}

func (p *parser) fail(pos int, format string, a ...any) {
	panic(&Error{Pos: pos, Msg: fmt.Sprintf(format, a...)})
}

func (p *parser) unsupported(pos int, construct, msg string) {
	panic(unsupported(pos, construct, msg))
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.pos, "template nests deeper than %d levels", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek(off int) byte {
	if p.pos+off < len(p.src) {
		return p.src[p.pos+off]
	}
	return 0
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func isIdent(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '-' }

// directives Velocity knows; the ones not handled here are refused by name.
var knownDirectives = map[string]bool{
	"set": true, "if": true, "elseif": true, "else": true, "end": true, "foreach": true,
	"break": true, "stop": true, "macro": true, "parse": true, "include": true, "define": true, "evaluate": true,
}

// parseNodes parses until EOF or one of #elseif, #else, #end, which it returns (consumed).
func (p *parser) parseNodes() ([]node, string) {
	p.enter()
	defer p.leave()
	var nodes []node
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			nodes = append(nodes, &textNode{text.String()})
			text.Reset()
		}
	}
	for !p.eof() {
		c := p.src[p.pos]
		switch {
		case c == '#' && p.peek(1) == '#':
			// Line comment: up to and including the newline.
			end := strings.IndexByte(p.src[p.pos:], '\n')
			if end < 0 {
				p.pos = len(p.src)
			} else {
				p.pos += end + 1
			}
		case c == '#' && p.peek(1) == '*':
			end := strings.Index(p.src[p.pos+2:], "*#")
			if end < 0 {
				p.fail(p.pos, "unterminated #* comment")
			}
			p.pos += 2 + end + 2
		case c == '#' && p.peek(1) == '[' && p.peek(2) == '[':
			end := strings.Index(p.src[p.pos+3:], "]]#")
			if end < 0 {
				p.fail(p.pos, "unterminated #[[ block")
			}
			text.WriteString(p.src[p.pos+3 : p.pos+3+end])
			p.pos += 3 + end + 3
		case c == '#':
			name, namePos, ok := p.directiveName()
			if !ok {
				text.WriteByte('#')
				p.pos++
				continue
			}
			if name == "set" {
				// Velocity 1.7's #set token includes the blanks before it.
				s := text.String()
				trimmed := strings.TrimRight(s, " \t")
				text.Reset()
				text.WriteString(trimmed)
			}
			flush()
			switch name {
			case "elseif", "else", "end":
				if name != "elseif" {
					p.gobbleLineEnd()
				}
				return nodes, name
			}
			nodes = append(nodes, p.parseDirective(name, namePos))
		case c == '$':
			start := p.pos
			if ref, quiet, ok := p.tryReference(); ok {
				flush()
				nodes = append(nodes, &refNode{ref: ref, quiet: quiet, src: p.src[start:p.pos]})
				continue
			}
			text.WriteByte('$')
			p.pos = start + 1
		case c == '\\':
			// Backslashes escape a following reference or directive.
			n := 0
			for p.peek(n) == '\\' {
				n++
			}
			after := p.pos + n
			if after < len(p.src) && p.src[after] == '$' {
				save := p.pos
				p.pos = after
				start := p.pos
				if ref, _, ok := p.tryReference(); ok {
					text.WriteString(strings.Repeat("\\", n/2))
					if n%2 == 1 {
						flush()
						nodes = append(nodes, &escapedRefNode{ref: ref, src: p.src[start:p.pos]})
					} else {
						flush()
						nodes = append(nodes, &refNode{ref: ref, src: p.src[start:p.pos]})
					}
					continue
				}
				p.pos = save
			}
			if after < len(p.src) && p.src[after] == '#' {
				save := p.pos
				p.pos = after
				if _, _, ok := p.directiveName(); ok && n%2 == 1 {
					text.WriteString(strings.Repeat("\\", n/2))
					text.WriteString(p.src[after:p.pos])
					continue
				}
				p.pos = save
			}
			text.WriteString(p.src[p.pos:after])
			p.pos = after
		default:
			text.WriteByte(c)
			p.pos++
		}
	}
	flush()
	return nodes, ""
}

// directiveName reads "#name" or "#{name}" when name is a Velocity directive.
func (p *parser) directiveName() (string, int, bool) {
	start := p.pos
	i := p.pos + 1
	braced := i < len(p.src) && p.src[i] == '{'
	if braced {
		i++
	}
	j := i
	for j < len(p.src) && (p.src[j] >= 'a' && p.src[j] <= 'z') {
		j++
	}
	name := p.src[i:j]
	if !knownDirectives[name] {
		return "", start, false
	}
	if braced {
		if j >= len(p.src) || p.src[j] != '}' {
			return "", start, false
		}
		j++
	} else if j < len(p.src) && isIdent(p.src[j]) {
		// "#ending" is text, not #end followed by "ing".
		return "", start, false
	}
	p.pos = j
	return name, start, true
}

// gobbleLineEnd consumes trailing blanks and one newline after a directive that ends its line,
// as Velocity 1.7 does, so directive-only lines leave no blank line behind.
func (p *parser) gobbleLineEnd() {
	i := p.pos
	for i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t') {
		i++
	}
	if i < len(p.src) && p.src[i] == '\n' {
		p.pos = i + 1
	} else if i+1 < len(p.src) && p.src[i] == '\r' && p.src[i+1] == '\n' {
		p.pos = i + 2
	}
}

func (p *parser) parseDirective(name string, pos int) node {
	switch name {
	case "set":
		p.expectByte('(', "#set")
		p.skipSpace()
		if p.peek(0) != '$' {
			p.fail(p.pos, "#set needs a reference on the left of '='")
		}
		ref, _, ok := p.tryReference()
		if !ok {
			p.fail(p.pos, "#set needs a reference on the left of '='")
		}
		p.skipSpace()
		p.expectByte('=', "#set")
		val := p.parseExpr()
		p.skipSpace()
		p.expectByte(')', "#set")
		p.gobbleLineEnd()
		return &setNode{target: ref, value: val}
	case "if":
		n := &ifNode{}
		cond := p.parseCondition("#if")
		for {
			body, term := p.parseNodes()
			n.conds = append(n.conds, cond)
			n.bodies = append(n.bodies, body)
			switch term {
			case "elseif":
				cond = p.parseCondition("#elseif")
				continue
			case "else":
				orelse, term2 := p.parseNodes()
				if term2 != "end" {
					p.fail(pos, "#if without #end")
				}
				n.orelse = orelse
			case "end":
			default:
				p.fail(pos, "#if without #end")
			}
			return n
		}
	case "foreach":
		p.expectByte('(', "#foreach")
		p.skipSpace()
		if p.peek(0) != '$' {
			p.fail(p.pos, "#foreach needs a loop variable")
		}
		p.pos++
		if p.peek(0) == '{' {
			p.unsupported(p.pos, "#foreach loop variable", "write the loop variable as $name")
		}
		v := p.ident()
		p.skipSpace()
		if !strings.HasPrefix(p.src[p.pos:], "in") {
			p.fail(p.pos, "#foreach needs 'in'")
		}
		p.pos += 2
		list := p.parseExpr()
		p.skipSpace()
		p.expectByte(')', "#foreach")
		p.gobbleLineEnd()
		body, term := p.parseNodes()
		if term == "else" || term == "elseif" {
			p.unsupported(pos, "#"+term+" in #foreach", "Velocity 1.7 has no #else for #foreach")
		}
		if term != "end" {
			p.fail(pos, "#foreach without #end")
		}
		return &foreachNode{varName: v, list: list, body: body}
	}
	p.unsupported(pos, "#"+name+" directive", "API Gateway templates in this stack support #set, #if/#elseif/#else, #foreach and comments")
	return nil
}

// parseSub parses the inside of a double-quoted string, which Velocity interpolates.
func (p *parser) parseSub(s string, offset int) []node {
	sub := &parser{src: s, depth: p.depth}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				e.Pos += offset
			}
			panic(r)
		}
	}()
	nodes, term := sub.parseNodes()
	if term != "" {
		sub.fail(sub.pos, "#%s inside a string literal", term)
	}
	return nodes
}

func (p *parser) parseCondition(what string) expr {
	p.skipSpace()
	p.expectByte('(', what)
	e := p.parseExpr()
	p.skipSpace()
	p.expectByte(')', what)
	p.gobbleLineEnd()
	return e
}

func (p *parser) expectByte(b byte, what string) {
	p.skipSpace()
	if p.peek(0) != b {
		p.fail(p.pos, "%s: expected '%c'", what, b)
	}
	p.pos++
}

func (p *parser) skipSpace() {
	for !p.eof() {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) ident() string {
	start := p.pos
	if p.eof() || !isIdentStart(p.src[p.pos]) {
		p.fail(p.pos, "expected an identifier")
	}
	for !p.eof() && isIdent(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// tryReference parses $name, $!name, ${name}, $!{name} with trailing parts at p.pos (a '$').
// When the text is not a reference it leaves p.pos unchanged and returns ok=false.
func (p *parser) tryReference() (ref *reference, quiet, ok bool) {
	start := p.pos
	i := p.pos + 1
	if i < len(p.src) && p.src[i] == '!' {
		quiet = true
		i++
	}
	braced := i < len(p.src) && p.src[i] == '{'
	if braced {
		i++
	}
	if i >= len(p.src) || !isIdentStart(p.src[i]) {
		return nil, false, false
	}
	p.pos = i
	ref = &reference{pos: start, name: p.ident()}
	p.parseRefParts(ref)
	if braced {
		if p.peek(0) != '}' {
			p.pos = start
			return nil, false, false
		}
		p.pos++
	}
	return ref, quiet, true
}

func (p *parser) parseRefParts(ref *reference) {
	for !p.eof() {
		c := p.src[p.pos]
		switch {
		case c == '.' && isIdentStart(p.peek(1)):
			p.pos++
			name := p.ident()
			part := refPart{name: name}
			if p.peek(0) == '(' {
				p.pos++
				part.call = true
				part.args = p.parseArgs(')')
			}
			ref.parts = append(ref.parts, part)
		case c == '[':
			save := p.pos
			p.pos++
			p.skipSpace()
			if p.peek(0) == ']' {
				p.pos = save
				return
			}
			idx := p.parseExpr()
			p.skipSpace()
			if p.peek(0) != ']' {
				p.fail(p.pos, "expected ']'")
			}
			p.pos++
			ref.parts = append(ref.parts, refPart{index: idx})
		default:
			return
		}
	}
}

func (p *parser) parseArgs(closer byte) []expr {
	var args []expr
	p.skipSpace()
	if p.peek(0) == closer {
		p.pos++
		return args
	}
	for {
		args = append(args, p.parseExpr())
		p.skipSpace()
		switch p.peek(0) {
		case ',':
			p.pos++
		case closer:
			p.pos++
			return args
		default:
			p.fail(p.pos, "expected ',' or '%c' in argument list", closer)
		}
	}
}

// Expression grammar, lowest precedence first: || , &&, == != , < <= > >=, + -, * / %, unary.
func (p *parser) parseExpr() expr {
	p.enter()
	defer p.leave()
	return p.parseOr()
}

func (p *parser) matchOp(ops ...string) (string, int, bool) {
	p.skipSpace()
	for _, op := range ops {
		if !strings.HasPrefix(p.src[p.pos:], op) {
			continue
		}
		end := p.pos + len(op)
		// Word operators must stand alone: "and" but not "android".
		if isIdentStart(op[0]) && end < len(p.src) && isIdent(p.src[end]) {
			continue
		}
		// "=" alone is not "==" (it belongs to #set).
		if op == "!" && end < len(p.src) && p.src[end] == '=' {
			continue
		}
		pos := p.pos
		p.pos = end
		return op, pos, true
	}
	return "", 0, false
}

var opNames = map[string]string{"or": "||", "and": "&&", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "not": "!"}

func canon(op string) string {
	if c, ok := opNames[op]; ok {
		return c
	}
	return op
}

func (p *parser) parseOr() expr {
	l := p.parseAnd()
	for {
		op, pos, ok := p.matchOp("||", "or")
		if !ok {
			return l
		}
		l = &binaryExpr{op: canon(op), l: l, r: p.parseAnd(), pos: pos}
	}
}

func (p *parser) parseAnd() expr {
	l := p.parseEq()
	for {
		op, pos, ok := p.matchOp("&&", "and")
		if !ok {
			return l
		}
		l = &binaryExpr{op: canon(op), l: l, r: p.parseEq(), pos: pos}
	}
}

func (p *parser) parseEq() expr {
	l := p.parseRel()
	for {
		op, pos, ok := p.matchOp("==", "!=", "eq", "ne")
		if !ok {
			return l
		}
		l = &binaryExpr{op: canon(op), l: l, r: p.parseRel(), pos: pos}
	}
}

func (p *parser) parseRel() expr {
	l := p.parseAdd()
	for {
		op, pos, ok := p.matchOp("<=", ">=", "<", ">", "le", "ge", "lt", "gt")
		if !ok {
			return l
		}
		l = &binaryExpr{op: canon(op), l: l, r: p.parseAdd(), pos: pos}
	}
}

func (p *parser) parseAdd() expr {
	l := p.parseMul()
	for {
		op, pos, ok := p.matchOp("+", "-")
		if !ok {
			return l
		}
		l = &binaryExpr{op: op, l: l, r: p.parseMul(), pos: pos}
	}
}

func (p *parser) parseMul() expr {
	l := p.parseUnary()
	for {
		op, pos, ok := p.matchOp("*", "/", "%")
		if !ok {
			return l
		}
		l = &binaryExpr{op: op, l: l, r: p.parseUnary(), pos: pos}
	}
}

func (p *parser) parseUnary() expr {
	if op, _, ok := p.matchOp("!", "not"); ok {
		p.enter()
		defer p.leave()
		return &unaryExpr{op: canon(op), x: p.parseUnary()}
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() expr {
	p.skipSpace()
	if p.eof() {
		p.fail(p.pos, "unexpected end of template in expression")
	}
	c := p.src[p.pos]
	switch {
	case c == '(':
		p.pos++
		e := p.parseExpr()
		p.expectByte(')', "parenthesised expression")
		return e
	case c == '$':
		ref, _, ok := p.tryReference()
		if !ok {
			p.fail(p.pos, "malformed reference")
		}
		return &refExpr{ref: ref}
	case c == '\'':
		end := strings.IndexByte(p.src[p.pos+1:], '\'')
		if end < 0 {
			p.fail(p.pos, "unterminated string literal")
		}
		s := p.src[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return &litExpr{v: s}
	case c == '"':
		start := p.pos
		end := strings.IndexByte(p.src[p.pos+1:], '"')
		if end < 0 {
			p.fail(p.pos, "unterminated string literal")
		}
		s := p.src[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		if !strings.ContainsAny(s, "$#") {
			return &litExpr{v: s}
		}
		return &strExpr{tpl: &Template{nodes: p.parseSub(s, start+1)}, src: s}
	case c == '[':
		p.pos++
		p.skipSpace()
		if p.peek(0) == ']' {
			p.pos++
			return &listExpr{}
		}
		first := p.parseExpr()
		p.skipSpace()
		if strings.HasPrefix(p.src[p.pos:], "..") {
			p.pos += 2
			to := p.parseExpr()
			p.expectByte(']', "range")
			return &rangeExpr{from: first, to: to}
		}
		items := []expr{first}
		for {
			p.skipSpace()
			switch p.peek(0) {
			case ',':
				p.pos++
				items = append(items, p.parseExpr())
			case ']':
				p.pos++
				return &listExpr{items: items}
			default:
				p.fail(p.pos, "expected ',' or ']' in list")
			}
		}
	case c == '{':
		p.pos++
		m := &mapExpr{}
		p.skipSpace()
		if p.peek(0) == '}' {
			p.pos++
			return m
		}
		for {
			k := p.parseExpr()
			p.expectByte(':', "map literal")
			v := p.parseExpr()
			m.keys, m.vals = append(m.keys, k), append(m.vals, v)
			p.skipSpace()
			switch p.peek(0) {
			case ',':
				p.pos++
			case '}':
				p.pos++
				return m
			default:
				p.fail(p.pos, "expected ',' or '}' in map literal")
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		start := p.pos
		p.pos++
		for !p.eof() && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9') {
			p.pos++
		}
		isFloat := false
		if p.peek(0) == '.' && p.peek(1) >= '0' && p.peek(1) <= '9' {
			isFloat = true
			p.pos++
			for !p.eof() && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9') {
				p.pos++
			}
		}
		lit := p.src[start:p.pos]
		if isFloat {
			f, err := strconv.ParseFloat(lit, 64)
			if err != nil {
				p.fail(start, "bad number %q", lit)
			}
			return &litExpr{v: f}
		}
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			p.fail(start, "bad number %q", lit)
		}
		return &litExpr{v: n}
	case isIdentStart(c):
		start := p.pos
		w := p.ident()
		switch w {
		case "true":
			return &litExpr{v: true}
		case "false":
			return &litExpr{v: false}
		case "null":
			p.unsupported(start, "null literal", "Velocity 1.7 has no null literal")
		}
		p.fail(start, "unexpected word %q in expression", w)
	}
	p.fail(p.pos, "unexpected %q in expression", string(c))
	return nil
}
