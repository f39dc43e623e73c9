package role

import "github.com/picogo/picogo/core/semver"

// Version is a semantic version (semver.org 2.0): MAJOR.MINOR.PATCH with an
// optional pre-release ("-rc.1") and build metadata ("+linux"). Build
// metadata is kept for String but plays no part in comparisons.
type Version = semver.Version

// ParseVersion parses s as a semantic version. Numbers have no leading
// zeros and no sign; pre-release identifiers are non-empty [0-9A-Za-z-]+,
// numeric ones without leading zeros.
func ParseVersion(s string) (Version, error) { return semver.Parse(s) }
