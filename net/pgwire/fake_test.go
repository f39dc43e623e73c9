package pgwire

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"
)

// fakeBackend is a Backend for the tests: it knows a few statements with
// fixed typed results, echoes the parameters of SELECT $1::type, ...,
// records what it ran and checks passwords with the real MD5 and
// SCRAM-SHA-256 math against one known password.
type fakeBackend struct {
	password string

	mu     sync.Mutex
	ran    []string
	params []any
	// sleeping gets a value when SLEEP starts blocking.
	sleeping chan struct{}
	// noSleep makes SLEEP return at once (for the fuzz target).
	noSleep bool
	// slept gets the cause of SLEEP's context's end.
	slept chan error
}

func newFake() *fakeBackend {
	return &fakeBackend{password: "secret", sleeping: make(chan struct{}, 4), slept: make(chan error, 4)}
}

var (
	scramSalt       = []byte("0123456789abcdef")
	scramIterations = 4096
	testUUID        = UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	testTime        = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
)

func (f *fakeBackend) SCRAMSalt(s *Session, user string) ([]byte, int) {
	return scramSalt, scramIterations
}

func (f *fakeBackend) Authenticate(s *Session, user string, proof Proof) ([]byte, error) {
	wrong := &Error{Code: "28P01", Message: fmt.Sprintf("password authentication failed for user %q", user)}
	switch p := proof.(type) {
	case MD5Proof:
		inner := md5.Sum([]byte(f.password + user))
		outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), p.Salt[:]...))
		if p.Response != "md5"+hex.EncodeToString(outer[:]) {
			return nil, wrong
		}
		return nil, nil
	case SCRAMProof:
		salted, err := pbkdf2.Key(sha256.New, f.password, scramSalt, scramIterations, 32)
		if err != nil {
			return nil, err
		}
		clientKey := hmacSHA256(salted, []byte("Client Key"))
		storedKey := sha256.Sum256(clientKey)
		sig := hmacSHA256(storedKey[:], p.AuthMessage)
		if len(p.ClientProof) != len(sig) {
			return nil, wrong
		}
		key := make([]byte, len(sig))
		for i := range sig {
			key[i] = p.ClientProof[i] ^ sig[i]
		}
		if got := sha256.Sum256(key); !hmac.Equal(got[:], storedKey[:]) {
			return nil, wrong
		}
		return hmacSHA256(hmacSHA256(salted, []byte("Server Key")), p.AuthMessage), nil
	}
	return nil, errors.New("unknown proof")
}

func hmacSHA256(key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)
}

var (
	echoPattern  = regexp.MustCompile(`\$(\d+)::(\w+)`)
	typesColumns = []Column{{"i", "integer"}, {"u", "unsigned"}, {"f", "double"}, {"d", "decimal"}, {"s", "string"},
		{"b", "boolean"}, {"id", "uuid"}, {"ts", "datetime"}, {"bin", "varbinary"}, {"a", "any"}, {"m", "map"}, {"n", "string"}}
	typesRow = []any{int64(-42), uint64(42), 1.5, Numeric("-12.50"), "héllo", true, testUUID, testTime,
		[]byte{0, 1, 0xfe}, int64(7), map[string]int{"k": 1}, nil}
)

// statement is what the fake knows of a statement: its description and
// result, or its error.
func (f *fakeBackend) statement(q string) (*Description, func(ctx context.Context, params []any) (*Result, error), error) {
	upper := strings.ToUpper(q)
	switch {
	case upper == "SELECT TYPES":
		return &Description{Query: true, Columns: typesColumns}, func(context.Context, []any) (*Result, error) {
			return &Result{Query: true, Columns: typesColumns, Rows: [][]any{typesRow}}, nil
		}, nil
	case upper == "SELECT N FROM SERIES":
		cols := []Column{{"n", "integer"}}
		return &Description{Query: true, Columns: cols}, func(context.Context, []any) (*Result, error) {
			res := &Result{Query: true, Columns: cols}
			for i := range 5 {
				res.Rows = append(res.Rows, []any{int64(i + 1)})
			}
			return res, nil
		}, nil
	case upper == "SELECT BIG":
		cols := []Column{{"u", "unsigned"}}
		return &Description{Query: true, Columns: cols}, func(context.Context, []any) (*Result, error) {
			return &Result{Query: true, Columns: cols, Rows: [][]any{{uint64(math.MaxUint64)}}}, nil
		}, nil
	case upper == "SLEEP":
		return &Description{}, func(ctx context.Context, _ []any) (*Result, error) {
			if f.noSleep {
				return &Result{}, nil
			}
			f.sleeping <- struct{}{}
			select {
			case <-ctx.Done():
				f.slept <- context.Cause(ctx)
				return nil, ctx.Err()
			case <-time.After(10 * time.Second):
				return &Result{}, nil
			}
		}, nil
	case strings.HasPrefix(upper, "INSERT"):
		return &Description{}, func(context.Context, []any) (*Result, error) { return &Result{RowCount: 3}, nil }, nil
	case strings.HasPrefix(upper, "CREATE TABLE"), strings.HasPrefix(upper, "DROP INDEX"):
		return &Description{}, func(context.Context, []any) (*Result, error) { return &Result{RowCount: 1}, nil }, nil
	case strings.HasPrefix(upper, "BAD"):
		return nil, nil, &Error{Code: "42601", Message: `rule parsing error: unexpected "BAD"`, Position: 1, Hint: "a hint"}
	case upper == "FAIL":
		return &Description{}, func(context.Context, []any) (*Result, error) { return nil, errors.New("boom") }, nil
	case strings.HasPrefix(upper, "SELECT $"):
		m := echoPattern.FindAllStringSubmatch(q, -1)
		desc := &Description{Query: true}
		for i, g := range m {
			desc.Params = append(desc.Params, g[2])
			desc.Columns = append(desc.Columns, Column{fmt.Sprintf("c%d", i+1), g[2]})
		}
		return desc, func(_ context.Context, params []any) (*Result, error) {
			return &Result{Query: true, Columns: desc.Columns, Rows: [][]any{params}}, nil
		}, nil
	}
	return nil, nil, &Error{Code: "42000", Message: "the fake does not know " + q}
}

func (f *fakeBackend) Describe(ctx context.Context, s *Session, q string) (*Description, error) {
	desc, _, err := f.statement(q)
	return desc, err
}

func (f *fakeBackend) Run(ctx context.Context, s *Session, q string, params []any) (*Result, error) {
	f.mu.Lock()
	f.ran = append(f.ran, q)
	f.params = params
	f.mu.Unlock()
	_, run, err := f.statement(q)
	if err != nil {
		return nil, err
	}
	return run(ctx, params)
}

func (f *fakeBackend) lastRun() ([]string, []any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ran...), f.params
}

func (f *fakeBackend) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ran, f.params = nil, nil
}
