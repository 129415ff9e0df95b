// Package rosters may use bans: clean.
package rosters

import "fake/modules/bans"

// Name is used by the planted import in catalog.
const Name = "rosters"

var _ = bans.Store{}
