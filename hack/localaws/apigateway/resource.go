package apigateway

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// resourceOut is a Resource as GetResource(s) answer it: without embed=methods AWS lists each
// method as an empty object, with it the whole Method.
type resourceOut struct {
	ID              string         `json:"id"`
	ParentID        string         `json:"parentId,omitempty"`
	PathPart        string         `json:"pathPart,omitempty"`
	Path            string         `json:"path"`
	ResourceMethods map[string]any `json:"resourceMethods,omitempty"`
}

func (c *call) embeds(what string) bool {
	for _, e := range c.query["embed"] {
		for _, v := range strings.Split(e, ",") {
			if strings.TrimSpace(v) == what {
				return true
			}
		}
	}
	return false
}

func viewResource(r *Resource, embed bool) resourceOut {
	out := resourceOut{ID: r.ID, ParentID: r.ParentID, PathPart: r.PathPart, Path: r.Path}
	if len(r.ResourceMethods) > 0 {
		out.ResourceMethods = map[string]any{}
		for k, m := range r.ResourceMethods {
			if embed {
				out.ResourceMethods[k] = m
			} else {
				out.ResourceMethods[k] = struct{}{}
			}
		}
	}
	return out
}

func (s *Server) routeResources(c *call, a *api, segs []string) (int, any, error) {
	m := c.r.Method
	if len(segs) == 0 {
		if m != http.MethodGet {
			return 0, nil, unknownOperation(c)
		}
		rs := make([]*Resource, 0, len(a.resources))
		for _, r := range a.resources {
			rs = append(rs, r)
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].Path < rs[j].Path })
		out := make([]resourceOut, len(rs))
		embed := c.embeds("methods")
		for i, r := range rs {
			out[i] = viewResource(r, embed)
		}
		return list(c, out)
	}
	res, ok := a.resources[segs[0]]
	if !ok {
		return 0, nil, notFound("Invalid Resource identifier specified")
	}
	if len(segs) == 1 {
		switch m {
		case http.MethodGet:
			return http.StatusOK, viewResource(res, c.embeds("methods")), nil
		case http.MethodPost:
			return s.createResource(c, a, res)
		case http.MethodPatch:
			return s.updateResource(c, a, res)
		case http.MethodDelete:
			if res.ID == a.RootResourceID {
				return 0, nil, badRequest("Cannot delete root resource")
			}
			s.deleteSubtree(a, res.ID)
			return http.StatusAccepted, nil, nil
		}
		return 0, nil, unknownOperation(c)
	}
	if segs[1] != "methods" || len(segs) < 3 {
		return 0, nil, unknownOperation(c)
	}
	return s.routeMethod(c, a, res, strings.ToUpper(segs[2]), segs[3:])
}

// pathPartRE allows what the console allows: plain segments, {param} and a greedy {param+}.
var pathPartRE = regexp.MustCompile(`^([a-zA-Z0-9._:\-]+|\{[a-zA-Z0-9._\-]+\+?\})$`)

func isVariable(part string) bool { return strings.HasPrefix(part, "{") }

func (s *Server) checkPathPart(a *api, parentID, pathPart, selfID string) error {
	if !pathPartRE.MatchString(pathPart) {
		return badRequest("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.")
	}
	if parent := a.resources[parentID]; parent != nil && strings.HasSuffix(parent.PathPart, "+}") {
		return badRequest("Cannot create a child of a resource with a greedy path variable: %s", parent.Path)
	}
	for _, r := range a.resources {
		if r.ParentID != parentID || r.ID == selfID {
			continue
		}
		if r.PathPart == pathPart {
			return conflict("Another resource with the same parent already has this name: %s", pathPart)
		}
		if isVariable(r.PathPart) && isVariable(pathPart) {
			return badRequest("A sibling (%s) of this resource already has a variable path part -- only one is allowed", r.PathPart)
		}
	}
	return nil
}

func (s *Server) createResource(c *call, a *api, parent *Resource) (int, any, error) {
	var in struct {
		PathPart string `json:"pathPart"`
	}
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if err := s.checkPathPart(a, parent.ID, in.PathPart, ""); err != nil {
		return 0, nil, err
	}
	r := &Resource{ID: newID(6), ParentID: parent.ID, PathPart: in.PathPart, Path: joinPath(parent.Path, in.PathPart)}
	a.resources[r.ID] = r
	return http.StatusCreated, viewResource(r, false), nil
}

func joinPath(parent, part string) string {
	if parent == "/" {
		return "/" + part
	}
	return parent + "/" + part
}

func (s *Server) updateResource(c *call, a *api, res *Resource) (int, any, error) {
	if res.ID == a.RootResourceID {
		return 0, nil, badRequest("Cannot update the root resource")
	}
	parentID, pathPart := res.ParentID, res.PathPart
	err := applyPatch(c, func(op patchOp, path []string) error {
		name, ok := onePath(path)
		if !ok || op.Op != "replace" {
			return invalidPath(op)
		}
		switch name {
		case "pathPart":
			return patchString(op, &pathPart)
		case "parentId":
			if _, ok := a.resources[op.value()]; !ok {
				return notFound("Invalid Resource identifier specified")
			}
			// A resource may not move below itself.
			for p := op.value(); p != ""; p = a.resources[p].ParentID {
				if p == res.ID {
					return badRequest("Cannot move a resource below itself")
				}
			}
			return patchString(op, &parentID)
		}
		return invalidPath(op)
	})
	if err != nil {
		return 0, nil, err
	}
	if err := s.checkPathPart(a, parentID, pathPart, res.ID); err != nil {
		return 0, nil, err
	}
	res.ParentID, res.PathPart = parentID, pathPart
	s.repath(a)
	return http.StatusOK, viewResource(res, false), nil
}

// repath recomputes every resource's path after a move or rename.
func (s *Server) repath(a *api) {
	var walk func(id, path string)
	walk = func(id, path string) {
		for _, r := range a.resources {
			if r.ParentID == id {
				r.Path = joinPath(path, r.PathPart)
				walk(r.ID, r.Path)
			}
		}
	}
	walk(a.RootResourceID, "/")
}

func (s *Server) deleteSubtree(a *api, id string) {
	for _, r := range a.resources {
		if r.ParentID == id {
			s.deleteSubtree(a, r.ID)
		}
	}
	delete(a.resources, id)
}
