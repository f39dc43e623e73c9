package iproto

import "strconv"

// Request and reply types: the REQUEST_TYPE header value.
const (
	TypeOK        = 0
	TypeSelect    = 1
	TypeInsert    = 2
	TypeReplace   = 3
	TypeUpdate    = 4
	TypeDelete    = 5
	TypeCall16    = 6
	TypeAuth      = 7
	TypeEval      = 8
	TypeUpsert    = 9
	TypeCall      = 10
	TypeExecute   = 11
	TypeNop       = 12
	TypePrepare   = 13
	TypeBegin     = 14
	TypeCommit    = 15
	TypeRollback  = 16
	TypePing      = 64
	TypeID        = 73
	TypeWatch     = 74
	TypeUnwatch   = 75
	TypeEvent     = 76
	TypeWatchOnce = 77
	TypeChunk     = 128
	TypeErrorFlag = 0x8000 // an error reply's type is TypeErrorFlag | code
	typeCodeMask  = 0x7fff
)

// Header keys.
const (
	KeyRequestType   = 0x00
	KeySync          = 0x01
	KeyReplicaID     = 0x02
	KeyLSN           = 0x03
	KeyTimestamp     = 0x04
	KeySchemaVersion = 0x05
	KeyServerVersion = 0x06
	KeyGroupID       = 0x07
	KeyTSN           = 0x08
	KeyFlags         = 0x09
	KeyStreamID      = 0x0a
	KeyThreadID      = 0x0b // Tarantool 3.x; ignored
)

// Body keys.
const (
	KeySpaceID      = 0x10
	KeyIndexID      = 0x11
	KeyLimit        = 0x12
	KeyOffset       = 0x13
	KeyIterator     = 0x14
	KeyIndexBase    = 0x15
	KeyKey          = 0x20
	KeyTuple        = 0x21
	KeyFunctionName = 0x22
	KeyUserName     = 0x23
	KeyExpr         = 0x27
	KeyOps          = 0x28
	KeyOptions      = 0x2b
	KeyData         = 0x30
	KeyError24      = 0x31 // error message string
	KeyMetadata     = 0x32
	KeyBindMetadata = 0x33
	KeyBindCount    = 0x34
	KeySQLText      = 0x40
	KeySQLBind      = 0x41
	KeySQLInfo      = 0x42
	KeyStmtID       = 0x43
	KeyError        = 0x52 // MP_ERROR map
	KeyVersion      = 0x54
	KeyFeatures     = 0x55
	KeyTimeout      = 0x56
	KeyEventKey     = 0x57
	KeyEventData    = 0x58
	KeyAuthType     = 0x5b
	KeySpaceName    = 0x5e
	KeyIndexName    = 0x5f
)

// Keys inside METADATA entries, SQL_INFO and the MP_ERROR map.
const (
	FieldName            = 0x00 // METADATA entry: column name
	FieldType            = 0x01 // METADATA entry: column type
	SQLInfoRowCount      = 0x00
	SQLInfoAutoincrement = 0x01
	ErrorStack           = 0x00 // MP_ERROR: the array of errors
	ErrorType            = 0x00 // MP_ERROR entry: type name, e.g. "ClientError"
	ErrorFile            = 0x01
	ErrorLine            = 0x02
	ErrorMessage         = 0x03
	ErrorErrno           = 0x04
	ErrorCode            = 0x05
	ErrorFields          = 0x06
)

// SELECT iterators.
const (
	IterEQ  = 0
	IterREQ = 1
	IterAll = 2
	IterLT  = 3
	IterLE  = 4
	IterGE  = 5
	IterGT  = 6
)

// ID: the protocol version picogo speaks and the features it can name.
// Do not advertise FeatureWatchers unless WATCH is implemented.
const (
	ProtocolVersion           = 3
	FeatureStreams            = 0
	FeatureTransactions       = 1
	FeatureErrorExtension     = 2
	FeatureWatchers           = 3
	FeaturePagination         = 4
	FeatureSpaceAndIndexNames = 5
	FeatureWatchOnce          = 6
	AuthChapSha1              = "chap-sha1"
)

// Tarantool error codes (box/errcode.h) picogo answers with.
const (
	CodeUnknown             = 0
	CodeIllegalParams       = 1
	CodeUnsupported         = 5 // "%s does not support %s"
	CodeReadonly            = 7
	CodeInvalidMsgpack      = 20 // "Invalid MsgPack - %s"
	CodeTupleNotArray       = 22
	CodeProcLua             = 32 // "%s"
	CodeNoSuchProc          = 33 // "Procedure '%s' is not defined"
	CodeNoSuchIndexID       = 35
	CodeNoSuchSpace         = 36 // "Space '%s' does not exist"
	CodeAccessDenied        = 42 // "%s access to %s '%s' is denied for user '%s'"
	CodeNoSuchUser          = 45 // "User '%s' is not found"
	CodePasswordMismatch    = 47 // "Incorrect password supplied for user '%s'" (2.x)
	CodeUnknownRequestType  = 48 // "Unknown request type %u"
	CodeMissingRequestField = 69 // "Missing mandatory field '%s' in request"
	CodeIteratorType        = 72
	CodeNoConnection        = 77
	CodeTimeout             = 78
	CodeProtocol            = 104
	CodeWrongSchemaVersion  = 109
	CodeSQLExecute          = 159
	CodeSQLSyntaxNearToken  = 184 // "Syntax error at line %d near '%s'"
	CodeSQLParserGeneric    = 186
	CodeUnknownAuthMethod   = 249
)

// keyNames names the body keys a request can lack, for error messages.
var keyNames = map[uint64]string{
	KeySpaceID:      "SPACE_ID",
	KeyIndexID:      "INDEX_ID",
	KeyLimit:        "LIMIT",
	KeyOffset:       "OFFSET",
	KeyIterator:     "ITERATOR",
	KeyIndexBase:    "INDEX_BASE",
	KeyKey:          "KEY",
	KeyTuple:        "TUPLE",
	KeyFunctionName: "FUNCTION_NAME",
	KeyUserName:     "USER_NAME",
	KeyExpr:         "EXPR",
	KeyOps:          "OPS",
	KeyData:         "DATA",
	KeyMetadata:     "METADATA",
	KeySQLText:      "SQL_TEXT",
	KeySQLBind:      "SQL_BIND",
	KeySQLInfo:      "SQL_INFO",
	KeyVersion:      "VERSION",
	KeyFeatures:     "FEATURES",
	KeyEventKey:     "EVENT_KEY",
	KeyAuthType:     "AUTH_TYPE",
}

// KeyName is the Tarantool name of an iproto body key, e.g. "FUNCTION_NAME".
func KeyName(key uint64) string {
	if n, ok := keyNames[key]; ok {
		return n
	}
	return "key " + strconv.FormatUint(key, 10)
}
