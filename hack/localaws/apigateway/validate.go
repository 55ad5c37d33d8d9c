package apigateway

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// modelURL is how one model refers to another in API Gateway:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/models-mappings-models.html
func modelURL(apiID, name string) string {
	return "https://apigateway.amazonaws.com/restapis/" + apiID + "/models/" + name
}

// compileSchemaFor compiles a model's JSON schema (draft 4 unless it says otherwise). others are
// the API's models by name, so a "$ref" to another model of the API resolves.
func compileSchemaFor(apiID, name, schema string, others map[string]*Model) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	// A model is never fetched from the network; unknown $refs fail to compile.
	c.UseLoader(noLoader{})
	for n, m := range others {
		if n == name || strings.TrimSpace(m.Schema) == "" {
			continue
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(m.Schema))
		if err != nil {
			continue
		}
		if err := c.AddResource(modelURL(apiID, n), doc); err != nil {
			return nil, err
		}
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		return nil, err
	}
	url := modelURL(apiID, name)
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("model reference %s is not a model of this API", url)
}

// gatewayError is one of API Gateway's gateway responses (default templates):
// https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
type gatewayError struct {
	status  int
	typ     string // x-amzn-ErrorType
	message string
}

func (e *gatewayError) Error() string { return e.message }

// validateRequest applies the method's request validator to a matched request, as
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-request-validation.html
// describes: required parameters must be present and non-blank, and the body must satisfy the
// model of its content type (or the "$default" model); with no model for the content type the
// body is not validated.
func validateRequest(snap *snapshot, apiID string, m *Method, req *execRequest) *gatewayError {
	if m.RequestValidatorID == "" {
		return nil
	}
	v := snap.Validators[m.RequestValidatorID]
	if v == nil {
		return nil
	}
	if v.ValidateRequestParameters {
		var missing []string
		for p, required := range m.RequestParameters {
			if !required {
				continue
			}
			parts := strings.SplitN(p, ".", 4)
			if len(parts) != 4 {
				continue
			}
			var val string
			var ok bool
			switch parts[2] {
			case "path":
				val, ok = req.pathParams[parts[3]]
			case "querystring", "multivaluequerystring":
				val, ok = req.query[parts[3]]
			case "header", "multivalueheader":
				val = req.header.Get(parts[3])
				ok = len(req.header.Values(parts[3])) > 0
			}
			if !ok || strings.TrimSpace(val) == "" {
				missing = append(missing, parts[3])
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return &gatewayError{http.StatusBadRequest, "BadRequestException",
				"Missing required request parameters: [" + strings.Join(missing, ", ") + "]"}
		}
	}
	if v.ValidateRequestBody {
		name, ok := m.RequestModels[req.contentType]
		if !ok {
			name, ok = m.RequestModels["$default"]
		}
		if !ok {
			return nil
		}
		model := snap.Models[name]
		if model == nil || strings.TrimSpace(model.Schema) == "" {
			return nil
		}
		sch, err := snap.schema(apiID, name)
		if err != nil {
			return configError(req, "model %s does not compile: %v", name, err)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(req.body)))
		if err != nil || sch.Validate(inst) != nil {
			return &gatewayError{http.StatusBadRequest, "BadRequestException", "Invalid request body"}
		}
	}
	return nil
}

// schema returns the compiled model of a snapshot, compiling it on first use.
func (snap *snapshot) schema(apiID, name string) (*jsonschema.Schema, error) {
	if v, ok := snap.schemas.Load(name); ok {
		return v.(*jsonschema.Schema), nil
	}
	sch, err := compileSchemaFor(apiID, name, snap.Models[name].Schema, snap.Models)
	if err != nil {
		return nil, err
	}
	snap.schemas.Store(name, sch)
	return sch, nil
}
