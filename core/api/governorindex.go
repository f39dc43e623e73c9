package api

import "time"

// AtGovernorIndex is a governor RPC the receiver serves once it has applied
// the entry the governor planned at (Index, whose term must be Term),
// within Timeout; At fills those in.
type AtGovernorIndex interface {
	Request
	At(term, index uint64, timeout time.Duration) Request
}

func (r Sharding) At(term, index uint64, timeout time.Duration) Request {
	r.Term, r.Index, r.Timeout = term, index, timeout
	return r
}

func (r ShardingBootstrap) At(term, index uint64, timeout time.Duration) Request {
	r.Term, r.Index, r.Timeout = term, index, timeout
	return r
}

func (r ApplySchemaChange) At(term, index uint64, timeout time.Duration) Request {
	r.Term, r.Index, r.Timeout = term, index, timeout
	return r
}

func (r BucketExport) At(term, index uint64, timeout time.Duration) Request {
	r.Term, r.Index, r.Timeout = term, index, timeout
	return r
}

func (r BucketImport) At(term, index uint64, timeout time.Duration) Request {
	r.Term, r.Index, r.Timeout = term, index, timeout
	return r
}

func (r BucketDelete) At(term, index uint64, timeout time.Duration) Request {
	r.Term, r.Index, r.Timeout = term, index, timeout
	return r
}
