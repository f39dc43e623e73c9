// Command kv is picogo with a small key-value application compiled in
// (README.md): the roles storage (a sharded table and its put and get
// handlers), api (an HTTP front end that calls storage by bucket) and
// metrics (the counters both report to).
//
//	go build -o kv ./examples/kv
//	./kv run --tier storage ...   # every picogo command, with the roles in
package main

import (
	"github.com/picogo/picogo"
	"github.com/picogo/picogo/examples/kv/roles"
)

func main() { picogo.Main(roles.All()...) }
