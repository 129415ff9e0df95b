// Package assets embeds the static files served under /assets: CSS, images
// and fonts. Nothing is loaded from outside the server.
package assets

import "embed"

// FS holds every asset.
//
//go:embed css
var FS embed.FS
