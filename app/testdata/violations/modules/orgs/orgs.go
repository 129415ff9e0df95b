// Package orgs is clean.
package orgs

// Name is used by the planted import in audit.
const Name = "orgs"
