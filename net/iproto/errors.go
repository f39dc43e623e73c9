package iproto

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error about bytes that are not a valid
// iproto packet or request: errors.Is(err, ErrMalformed).
var ErrMalformed = errors.New("iproto: malformed packet")

// DecodeError is a packet or request the codec cannot accept, with the
// Tarantool error code and message a server answers it with (when the
// header, and so the sync, could be read).
type DecodeError struct {
	Code    uint32 // CodeInvalidMsgpack or CodeMissingRequestField
	Message string // Tarantool's wording, e.g. "Invalid MsgPack - packet body"
}

func (e *DecodeError) Error() string { return "iproto: " + e.Message }

// Is makes every DecodeError match ErrMalformed.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformed }

// malformed is an invalid-msgpack DecodeError about part ("packet header",
// "packet body", ...), with the low-level cause appended.
func malformed(part string, cause error) error {
	msg := "Invalid MsgPack - " + part
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &DecodeError{Code: CodeInvalidMsgpack, Message: msg}
}

// missing is the DecodeError for a request lacking a mandatory body key.
func missing(key uint64) error {
	return &DecodeError{
		Code:    CodeMissingRequestField,
		Message: fmt.Sprintf("Missing mandatory field '%s' in request", KeyName(key)),
	}
}

// badField is the DecodeError for a body key holding the wrong type.
func badField(key uint64, want string) error {
	return malformed("packet body", fmt.Errorf("%s must be %s", KeyName(key), want))
}

// FrameTooLargeError is a frame whose length prefix exceeds the limit given
// to ReadFrame. Its payload has not been read: the stream cannot be resumed
// and the connection should be closed.
type FrameTooLargeError struct {
	Size uint64 // the length the prefix announced
	Max  int    // the limit in force
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("iproto: frame of %d bytes exceeds the limit of %d", e.Size, e.Max)
}
