package orgs

import "github.com/uptrace/bun"

// OrganisationNames selects each organisation's id and name: a sub-query
// other modules' stores join for display, so their lists stay one
// statement without naming this module's tables.
func OrganisationNames(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("organisations").Column("id", "name")
}

// RegionNames selects each region's code and name, for the same use.
func RegionNames(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("regions").Column("code", "name")
}

// SiteCodes selects each organisation's id, name and site code: a
// sub-query for the scale seed's certificate numbers.
func SiteCodes(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("organisations").Column("id", "name", "site_code")
}
