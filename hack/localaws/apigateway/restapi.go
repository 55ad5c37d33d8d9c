package apigateway

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
)

type createRestAPIInput struct {
	Name                      string                 `json:"name"`
	Description               string                 `json:"description"`
	Version                   string                 `json:"version"`
	CloneFrom                 string                 `json:"cloneFrom"`
	BinaryMediaTypes          []string               `json:"binaryMediaTypes"`
	MinimumCompressionSize    *int32                 `json:"minimumCompressionSize"`
	APIKeySource              string                 `json:"apiKeySource"`
	EndpointConfiguration     *EndpointConfiguration `json:"endpointConfiguration"`
	Policy                    string                 `json:"policy"`
	Tags                      map[string]string      `json:"tags"`
	DisableExecuteAPIEndpoint bool                   `json:"disableExecuteApiEndpoint"`
}

// The two models AWS adds to every new API.
const (
	emptySchema = "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}"
	errorSchema = "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}"
)

func (s *Server) createRestAPI(c *call) (int, any, error) {
	var in createRestAPIInput
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(in.Name) == "" {
		return 0, nil, badRequest("Invalid REST API name specified: name must not be empty")
	}
	if in.CloneFrom != "" {
		return 0, nil, badRequest("cloneFrom is not supported by the local stack")
	}
	if err := validateTags(in.Tags); err != nil {
		return 0, nil, err
	}
	if in.APIKeySource == "" {
		in.APIKeySource = "HEADER"
	} else if in.APIKeySource != "HEADER" && in.APIKeySource != "AUTHORIZER" {
		return 0, nil, badRequest("Invalid API Key source specified. Must be one of: [HEADER, AUTHORIZER]")
	}
	ec := in.EndpointConfiguration
	if ec == nil || len(ec.Types) == 0 {
		ec = &EndpointConfiguration{Types: []string{"EDGE"}}
	}
	for _, t := range ec.Types {
		if t != "EDGE" && t != "REGIONAL" && t != "PRIVATE" {
			return 0, nil, badRequest("Invalid endpoint type specified: %s", t)
		}
	}
	if ec.IPAddressType == "" {
		ec.IPAddressType = "ipv4"
	}
	id := newID(10)
	for s.apis[id] != nil {
		id = newID(10)
	}
	s.seq++
	root := &Resource{ID: newID(10), Path: "/"}
	now := s.now().Unix()
	a := &api{
		RestAPI: RestAPI{
			ID: id, Name: in.Name, Description: in.Description, CreatedDate: now, Version: in.Version,
			BinaryMediaTypes: in.BinaryMediaTypes, MinimumCompressionSize: in.MinimumCompressionSize,
			APIKeySource: in.APIKeySource, EndpointConfiguration: ec, Policy: in.Policy,
			Tags: copyTags(in.Tags), DisableExecuteAPIEndpoint: in.DisableExecuteAPIEndpoint,
			RootResourceID: root.ID,
		},
		seq:       s.seq,
		resources: map[string]*Resource{root.ID: root},
		models: map[string]*Model{
			"Empty": {ID: newID(6), Name: "Empty", Description: "This is a default empty schema model", Schema: emptySchema, ContentType: "application/json"},
			"Error": {ID: newID(6), Name: "Error", Description: "This is a default error schema model", Schema: errorSchema, ContentType: "application/json"},
		},
		validators:  map[string]*RequestValidator{},
		deployments: map[string]*deployment{},
		stages:      map[string]*Stage{},
	}
	s.apis[id] = a
	return http.StatusCreated, a.RestAPI, nil
}

func (s *Server) getRestAPIs(c *call) (int, any, error) {
	apis := make([]*api, 0, len(s.apis))
	for _, a := range s.apis {
		apis = append(apis, a)
	}
	sort.Slice(apis, func(i, j int) bool { return apis[i].seq < apis[j].seq })
	out := make([]RestAPI, len(apis))
	for i, a := range apis {
		out[i] = a.RestAPI
	}
	return list(c, out)
}

func (s *Server) updateRestAPI(c *call, a *api) (int, any, error) {
	ra := deepCopy(a.RestAPI)
	err := applyPatch(c, func(op patchOp, path []string) error {
		if len(path) == 0 {
			return invalidPath(op)
		}
		switch path[0] {
		case "name":
			if len(path) != 1 {
				return invalidPath(op)
			}
			if op.Op == "remove" || op.value() == "" {
				return badRequest("Invalid REST API name specified: name must not be empty")
			}
			return patchString(op, &ra.Name)
		case "description":
			if len(path) != 1 {
				return invalidPath(op)
			}
			return patchString(op, &ra.Description)
		case "version":
			if len(path) != 1 {
				return invalidPath(op)
			}
			return patchString(op, &ra.Version)
		case "policy":
			if len(path) != 1 {
				return invalidPath(op)
			}
			return patchString(op, &ra.Policy)
		case "apiKeySource":
			if len(path) != 1 {
				return invalidPath(op)
			}
			if v := op.value(); v != "HEADER" && v != "AUTHORIZER" {
				return badRequest("Invalid API Key source specified. Must be one of: [HEADER, AUTHORIZER]")
			}
			return patchString(op, &ra.APIKeySource)
		case "disableExecuteApiEndpoint":
			if len(path) != 1 {
				return invalidPath(op)
			}
			return patchBool(op, &ra.DisableExecuteAPIEndpoint)
		case "minimumCompressionSize":
			if len(path) != 1 {
				return invalidPath(op)
			}
			if op.Op == "remove" || op.value() == "" {
				ra.MinimumCompressionSize = nil
				return nil
			}
			var n int32
			if err := patchInt(op, &n); err != nil {
				return err
			}
			ra.MinimumCompressionSize = &n
			return nil
		case "binaryMediaTypes":
			if len(path) != 2 {
				return invalidPath(op)
			}
			return patchStringList(op, &ra.BinaryMediaTypes, path[1])
		case "endpointConfiguration":
			// "/endpointConfiguration/types/EDGE" with value "REGIONAL" switches the type.
			if len(path) == 3 && path[1] == "types" && op.Op == "replace" {
				if v := op.value(); v != "EDGE" && v != "REGIONAL" && v != "PRIVATE" {
					return badRequest("Invalid endpoint type specified: %s", v)
				}
				return patchStringList(op, &ra.EndpointConfiguration.Types, path[2])
			}
		}
		return invalidPath(op)
	})
	if err != nil {
		return 0, nil, err
	}
	a.RestAPI = ra
	return http.StatusOK, a.RestAPI, nil
}

// tagKeyRE follows the tag rules of TagResource: no "aws:" prefix, at most 128 characters.
var tagKeyRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)

func validateTags(tags map[string]string) error {
	for k, v := range tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return badRequest("Tag keys cannot start with 'aws:': %s", k)
		}
		if !tagKeyRE.MatchString(k) {
			return badRequest("Invalid tag key: %s", k)
		}
		if len(v) > 256 {
			return badRequest("Tag value for %s is longer than 256 characters", k)
		}
	}
	if len(tags) > 50 {
		return badRequest("Too many tags: at most 50 are allowed")
	}
	return nil
}

func copyTags(t map[string]string) map[string]string {
	if len(t) == 0 {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// tags serves GetTags, TagResource and UntagResource for the ARNs of APIs and stages:
// arn:aws:apigateway:<region>::/restapis/<id>[/stages/<name>].
func (s *Server) tags(c *call, arn string) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	target, err := s.taggable(arn)
	if err != nil {
		return 0, nil, err
	}
	switch c.r.Method {
	case http.MethodGet:
		t := *target
		if t == nil {
			t = map[string]string{}
		}
		return http.StatusOK, map[string]map[string]string{"tags": t}, nil
	case http.MethodPut:
		var in struct {
			Tags map[string]string `json:"tags"`
		}
		if err := c.decode(&in); err != nil {
			return 0, nil, err
		}
		merged := copyTags(*target)
		if merged == nil {
			merged = map[string]string{}
		}
		for k, v := range in.Tags {
			merged[k] = v
		}
		if err := validateTags(merged); err != nil {
			return 0, nil, err
		}
		*target = copyTags(merged)
		return http.StatusNoContent, nil, nil
	case http.MethodDelete:
		t := copyTags(*target)
		for _, k := range c.query["tagKeys"] {
			delete(t, k)
		}
		*target = copyTags(t)
		return http.StatusNoContent, nil, nil
	}
	return 0, nil, unknownOperation(c)
}

func (s *Server) taggable(arn string) (*map[string]string, error) {
	// arn:<partition>:apigateway:<region>::<path>
	fields := strings.SplitN(arn, ":", 6)
	if len(fields) != 6 || fields[0] != "arn" || fields[2] != "apigateway" || fields[4] != "" {
		return nil, badRequest("Invalid resource ARN specified: %s", arn)
	}
	resPath := fields[5]
	if resPath == "" {
		return nil, badRequest("Invalid resource ARN specified: %s", arn)
	}
	parts := strings.Split(strings.Trim(resPath, "/"), "/")
	if len(parts) < 2 || parts[0] != "restapis" {
		return nil, badRequest("Invalid resource ARN specified: %s. The local stack tags REST APIs and stages only", arn)
	}
	a, ok := s.apis[parts[1]]
	if !ok {
		return nil, notFound("Invalid API identifier specified %s:%s", s.account, parts[1])
	}
	switch {
	case len(parts) == 2:
		return &a.Tags, nil
	case len(parts) == 4 && parts[2] == "stages":
		st, ok := a.stages[parts[3]]
		if !ok {
			return nil, notFound("Invalid Stage identifier specified")
		}
		return &st.Tags, nil
	}
	return nil, badRequest("Invalid resource ARN specified: %s. The local stack tags REST APIs and stages only", arn)
}
