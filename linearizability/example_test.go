package linearizability_test

import (
	"fmt"
	"time"

	"github.com/picogo/picogo/linearizability"
)

func ExampleCheck() {
	var h linearizability.History
	put := h.Call(0, linearizability.Put("x", "1"), 0)
	h.Return(put, linearizability.Outcome{Kind: linearizability.Ok}, 10)
	lost := h.Call(1, linearizability.Put("x", "2"), 12)
	h.Return(lost, linearizability.Outcome{Kind: linearizability.Unknown}, 40)
	get := h.Call(0, linearizability.Get("x"), 20)
	h.Return(get, linearizability.Outcome{Kind: linearizability.Ok, Value: "2", Found: true}, 30)
	get = h.Call(0, linearizability.Get("x"), 50)
	h.Return(get, linearizability.Outcome{Kind: linearizability.Ok, Value: "1", Found: true}, 60)

	res := linearizability.Check(&h, time.Minute)
	fmt.Println(res)
	// On failure the simulator also writes
	// linearizability.WriteVisualization(res, "seed-42.html").
	// Output: linearizability Illegal: ops=4 keys=1 failing="x"
}
