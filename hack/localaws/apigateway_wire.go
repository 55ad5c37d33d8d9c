package main

import (
	"github.com/resize-operator/resize-operator/hack/localaws/apigateway"
	"github.com/resize-operator/resize-operator/hack/localaws/frontdoor"
)

// wireAPIGateway makes the stack's own API Gateway REST server answer every
// apigateway-scoped request and execute-api; its AWS integrations call Step
// Functions back through the front door, so they see the gaps it fills.
func wireAPIGateway(fd *frontdoor.Server, region, accountID string) {
	fd.SetAPIGateway(apigateway.New(apigateway.Options{
		Region:    region,
		AccountID: accountID,
		Invoker:   fd.Invoker(),
	}))
}
