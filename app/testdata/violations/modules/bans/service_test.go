package bans

// Tests are not checked: SQL here is fine.
func seed(db interface{ NewSelect() any }) { db.NewSelect() }
