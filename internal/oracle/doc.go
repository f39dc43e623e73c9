// Package oracle holds the differential test of core/storage against a real
// Tarantool: a seeded random sequence of DML and selects runs on Tarantool's
// memtx (testdata/oracle.lua, through the tarantool binary) and on picogo's
// engine, and every result and error code must agree. The test skips when
// no tarantool binary is installed. docs/storage.md lists the differences
// from Tarantool that are kept on purpose.
package oracle
