package api

import (
	"fmt"

	"github.com/picogo/picogo/core/tuple"
)

// Error is an error reply: a stable code, a message, and for redirects the
// leader to try.
type Error struct {
	Code     uint32
	Message  string
	LeaderID uint64
	// Index is, for CodeWrongBucket, the Raft index the caller should
	// have applied before it routes again (the refusing storage's applied
	// index: its bucket map is at least that new).
	Index uint64
}

func (e *Error) Error() string { return e.Message }

// Error codes. CaS codes follow Picodata (base 10000); the rest are
// Tarantool's (box errors about data are core/tuple's, which names each
// once).
const (
	CodeIllegalParams = tuple.CodeIllegalParams
	// CodeReadonly: a replica refused a write (Tarantool's ER_READONLY;
	// core/replication's CodeReadonly); the message names the master.
	CodeReadonly        uint32 = 7
	CodeTimeout         uint32 = 78
	CodeNoConnection    uint32 = 77
	CodeProcLua         uint32 = 32
	CodeNoSuchProc      uint32 = 33
	CodeNoSuchSpace            = tuple.CodeNoSuchSpace
	CodeAccessDenied    uint32 = 42
	CodeNoSuchUser             = tuple.CodeNoSuchUser
	CodeNotALeader      uint32 = 10001
	CodeClusterIDMis    uint32 = 10002
	CodeTermMismatch    uint32 = 10003
	CodeCompacted       uint32 = 10005
	CodeNoSuchIndex     uint32 = 10006
	CodeConflictFound   uint32 = 10007
	CodeEntryTermMis    uint32 = 10008
	CodeTableNotAllowed uint32 = 10009
	CodeKeyTypeMismatch uint32 = 10010
	CodeEmptyBatch      uint32 = 10011
	CodeTooLarge        uint32 = 10012
	CodeLeaderUnknown   uint32 = 10018
	CodeTableNotOper    uint32 = 10023
	CodeProposalDropped uint32 = 10027
	// CodeNotReady: the instance does not run Raft yet (discovering,
	// joining); try another.
	CodeNotReady uint32 = 10030
	// CodeJoinRefused: the cluster will not take this instance (its request
	// breaks a rule); retrying does not help.
	CodeJoinRefused uint32 = 10031
	// CodeTopology: a topology change breaks a rule (expel the last
	// instance, update an expelled one).
	CodeTopology uint32 = 10032
	// CodeExpelled: the instance asked about is expelled (an update of its
	// grade, or a join retried with its uuid).
	CodeExpelled uint32 = 10033
	// CodeWrongBucket: this replicaset does not own the bucket (vshard's
	// WRONG_BUCKET): route again from a bucket map at least as new as
	// Error.Index. Nothing was done.
	CodeWrongBucket uint32 = 10040
	// CodeBucketMoving: the bucket is being sent to another replicaset
	// (vshard's TRANSFER_IS_IN_PROGRESS): a write waits and retries; reads
	// are served. Nothing was done.
	CodeBucketMoving uint32 = 10041
	// CodeDdlAborted: an SQL schema change was aborted by the governor (a
	// master could not apply it).
	CodeDdlAborted uint32 = 10042
	// CodeBucketsSplit: a batch of rows sent to the owner of its first
	// row's bucket has rows of buckets that replicaset does not (or no
	// longer) serve for writes. Nothing was done; the sender sends the rows
	// bucket by bucket.
	CodeBucketsSplit uint32 = 10043
)

// Retriable reports whether a request that failed with code may succeed if
// tried again (after re-reading, or at the leader).
func Retriable(code uint32) bool {
	switch code {
	case CodeNotALeader, CodeLeaderUnknown, CodeTermMismatch, CodeCompacted, CodeEntryTermMis,
		CodeConflictFound, CodeProposalDropped:
		return true
	}
	return false
}

// Errorf is an error reply with code and a formatted message.
func Errorf(code uint32, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}
