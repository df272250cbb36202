// Package refserver is the reference server of the library's HTTP
// contract, shared by the example programs: examples/basic runs it on
// in-memory stores, examples/postgres on PostgreSQL (and Redis). Copy it as
// the start of a real service.
package refserver
