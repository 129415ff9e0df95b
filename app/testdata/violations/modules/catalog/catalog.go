// Package catalog imports a side module and an unknown one and models
// another module's table: three planted violations.
package catalog

import (
	"fake/modules/rosters"
	"fake/modules/shiny"
)

type user struct {
	_  struct{} `bun:"table:users"`
	ID int64
}

var _, _ = rosters.Name, shiny.Name
