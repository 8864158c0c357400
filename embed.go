// Package plume holds the files that the deployed stack and the code must share. Embedding
// them means the local stack and the API read exactly the files that are deployed.
package plume

import _ "embed"

// Template is template.yaml, the SAM stack. internal/devstack builds the local table and
// queues from it, so local and deployed resources cannot drift.
//
//go:embed template.yaml
var Template []byte

// OpenAPI is openapi.json, the OpenAPI 3.1 document served at GET /openapi.json and checked
// against the handlers by the tests.
//
//go:embed openapi.json
var OpenAPI []byte
