// Package templates embeds the HTML templates: templates/<module>/<page>.html,
// rendered inside templates/layouts/main.html.
package templates

import "embed"

// FS holds every template.
//
//go:embed *
var FS embed.FS
