// Package audit imports a module above it: planted violation.
package audit

import "fake/modules/orgs"

var _ = orgs.Name
