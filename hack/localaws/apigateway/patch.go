package apigateway

import (
	"strconv"
	"strings"
)

// patchOp is one of AWS's patchOperations (a JSON-Patch dialect where every value is a string):
// https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html
type patchOp struct {
	Op    string  `json:"op"`
	Path  string  `json:"path"`
	Value *string `json:"value"`
	From  string  `json:"from"`
}

type patchBody struct {
	PatchOperations []patchOp `json:"patchOperations"`
}

// patchTarget applies one operation whose path is already split into unescaped segments.
type patchTarget func(op patchOp, path []string) error

// applyPatch decodes the body's patchOperations and applies them in order. The caller applies
// them to a copy and keeps it only when every operation succeeded, as AWS applies a PATCH whole.
func applyPatch(c *call, apply patchTarget) error {
	var body patchBody
	if err := c.decode(&body); err != nil {
		return err
	}
	for _, op := range body.PatchOperations {
		switch op.Op {
		case "replace", "add", "remove":
		default:
			// move, copy and test exist in the API model but no path the stack serves needs them.
			return badRequest("Invalid patch operation specified. Must be one of: [add, remove, replace] (got '%s')", op.Op)
		}
		if !strings.HasPrefix(op.Path, "/") {
			return badRequest("Invalid patch path '%s' specified for op '%s'", op.Path, op.Op)
		}
		if err := apply(op, splitPatchPath(op.Path)); err != nil {
			return err
		}
	}
	return nil
}

// splitPatchPath splits "/requestTemplates/application~1json" into its segments, undoing the
// JSON-Pointer escapes (~1 is '/', ~0 is '~') per segment so keys may contain slashes.
func splitPatchPath(p string) []string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts
}

func invalidPath(op patchOp) error {
	return badRequest("Invalid patch path '%s' specified for op '%s'. The local stack does not support this path", op.Path, op.Op)
}

func (op patchOp) value() string {
	if op.Value == nil {
		return ""
	}
	return *op.Value
}

// requireValue rejects add/replace without a value, as AWS does.
func requireValue(op patchOp) error {
	if op.Op != "remove" && op.Value == nil {
		return badRequest("Invalid null value specified for op '%s' on path '%s'", op.Op, op.Path)
	}
	return nil
}

func patchString(op patchOp, dst *string) error {
	if op.Op == "remove" {
		*dst = ""
		return nil
	}
	if err := requireValue(op); err != nil {
		return err
	}
	*dst = op.value()
	return nil
}

func patchBool(op patchOp, dst *bool) error {
	if op.Op == "remove" {
		*dst = false
		return nil
	}
	b, err := strconv.ParseBool(op.value())
	if err != nil {
		return badRequest("Invalid boolean value '%s' for path '%s'", op.value(), op.Path)
	}
	*dst = b
	return nil
}

func patchInt(op patchOp, dst *int32) error {
	if op.Op == "remove" {
		*dst = 0
		return nil
	}
	n, err := strconv.ParseInt(op.value(), 10, 32)
	if err != nil {
		return badRequest("Invalid integer value '%s' for path '%s'", op.value(), op.Path)
	}
	*dst = int32(n)
	return nil
}

func patchFloat(op patchOp, dst *float64) error {
	if op.Op == "remove" {
		*dst = 0
		return nil
	}
	f, err := strconv.ParseFloat(op.value(), 64)
	if err != nil {
		return badRequest("Invalid number value '%s' for path '%s'", op.value(), op.Path)
	}
	*dst = f
	return nil
}

// patchStringMap handles "/<map>/<key>" paths: add and replace set the key, remove deletes it.
func patchStringMap(op patchOp, m *map[string]string, key string) error {
	if key == "" {
		return invalidPath(op)
	}
	if op.Op == "remove" {
		if _, ok := (*m)[key]; !ok {
			return badRequest("Cannot remove '%s': it does not exist", op.Path)
		}
		delete(*m, key)
		if len(*m) == 0 {
			*m = nil
		}
		return nil
	}
	if err := requireValue(op); err != nil {
		return err
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[key] = op.value()
	return nil
}

// patchBoolMap is patchStringMap for maps of booleans (request/response parameters); AWS
// treats a missing value on add as false.
func patchBoolMap(op patchOp, m *map[string]bool, key string) error {
	if key == "" {
		return invalidPath(op)
	}
	if op.Op == "remove" {
		if _, ok := (*m)[key]; !ok {
			return badRequest("Cannot remove '%s': it does not exist", op.Path)
		}
		delete(*m, key)
		if len(*m) == 0 {
			*m = nil
		}
		return nil
	}
	b := false
	if op.Value != nil && *op.Value != "" {
		var err error
		if b, err = strconv.ParseBool(*op.Value); err != nil {
			return badRequest("Invalid boolean value '%s' for path '%s'", *op.Value, op.Path)
		}
	}
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[key] = b
	return nil
}

// patchStringList handles "/<list>/<item>" paths (binaryMediaTypes, cacheKeyParameters): add
// appends the item named in the path, remove drops it.
func patchStringList(op patchOp, l *[]string, item string) error {
	if item == "" {
		return invalidPath(op)
	}
	idx := -1
	for i, v := range *l {
		if v == item {
			idx = i
		}
	}
	switch op.Op {
	case "add":
		if idx < 0 {
			*l = append(*l, item)
		}
	case "remove":
		if idx < 0 {
			return badRequest("Cannot remove '%s': it does not exist", op.Path)
		}
		*l = append((*l)[:idx], (*l)[idx+1:]...)
	case "replace":
		if idx < 0 {
			return badRequest("Cannot replace '%s': it does not exist", op.Path)
		}
		if err := requireValue(op); err != nil {
			return err
		}
		(*l)[idx] = op.value()
	}
	return nil
}

func onePath(path []string) (string, bool) {
	if len(path) == 1 {
		return path[0], true
	}
	return "", false
}
