package sqlstore

import (
	"fmt"
	"time"
)

// Dialect selects the SQL that a [Store] speaks. Pass [Postgres] or
// [SQLite] to [New]; the zero value is not a dialect.
type Dialect int

// The dialects a [Store] speaks.
const (
	// Postgres is PostgreSQL 11 or newer, with a schema laid out for
	// sharding by user (see the package documentation). Times are stored
	// as timestamptz.
	Postgres Dialect = iota + 1
	// SQLite is SQLite 3.37 or newer. Times are stored as integer Unix
	// microseconds. See the package documentation for the connection
	// settings it needs.
	SQLite
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

func (d Dialect) valid() bool { return d == Postgres || d == SQLite }

// timeArg returns t as the store keeps it: truncated to the microsecond,
// in UTC for PostgreSQL, as Unix microseconds for SQLite.
func (d Dialect) timeArg(t time.Time) any {
	if d == SQLite {
		return t.UnixMicro()
	}
	return t.Truncate(time.Microsecond).UTC()
}

// nullTimeArg is timeArg with the zero time stored as NULL.
func (d Dialect) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.timeArg(t)
}

// timeCol scans a time column of either dialect into t, in UTC; NULL
// scans as the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = v.UTC()
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("sqlstore: time column holds a %T", src)
	}
	return nil
}
