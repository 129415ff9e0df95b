// Package docs embeds the OpenAPI description served at /api/openapi.yaml.
package docs

import _ "embed"

// OpenAPI is the OpenAPI 3 description of the whole API.
//
//go:embed openapi.yaml
var OpenAPI []byte
