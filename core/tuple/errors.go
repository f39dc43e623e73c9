package tuple

import "fmt"

// Error codes, Tarantool's box error codes (src/box/errcode.h) where one
// fits. They are stable: clients and CaS callers may switch on them. The
// whole list lives here, in the package every layer of data builds on, so
// that tuples, schemas, the global tables and the storage engine report a
// failure with the same code.
//
//	code  name                         when
//	   1  ILLEGAL_PARAMS               malformed op (unknown kind, missing part, empty batch,
//	                                   undecodable command, plain DML into _pico_table/_pico_index)
//	   3  TUPLE_FOUND                  a key that exists in a unique index (insert, replace,
//	                                   update; a unique index built over duplicates)
//	   5  UNSUPPORTED                  an index or iterator feature the engine lacks
//	   9  CREATE_SPACE                 invalid table definition in ddl_prepare (create_table)
//	  10  SPACE_EXISTS                 ddl_prepare creating a name (or id) that exists
//	  11  DROP_SPACE                   ddl_prepare dropping a system table
//	  14  MODIFY_INDEX                 invalid index definition
//	  17  DROP_PRIMARY_KEY             dropping a primary index while secondary ones exist
//	  18  KEY_PART_TYPE                key value of the wrong type for the primary key part
//	  19  EXACT_MATCH                  key with a wrong number of parts
//	  20  INVALID_MSGPACK              tuple or key bytes that are not msgpack
//	  22  TUPLE_NOT_ARRAY              tuple or key that is not a msgpack array
//	  23  FIELD_TYPE                   field of the wrong type, or nil in a non-nullable field
//	  26  UPDATE_ARG_TYPE              arithmetic on a non-number (field or argument)
//	  28  UNKNOWN_UPDATE_OP            update operation not in "= + - & | ^ # !", or malformed
//	  29  UPDATE_FIELD                 "#" deleting 0 fields
//	  31  KEY_PART_COUNT               range bound with more parts than the primary key
//	  35  NO_SUCH_INDEX_ID             unknown index id
//	  36  NO_SUCH_SPACE                unknown table
//	  37  NO_SUCH_FIELD_NO             update of a field position outside the format
//	  38  EXACT_FIELD_COUNT            tuple arity differs from the table format
//	  39  FIELD_MISSING                tuple shorter than its format's last non-nullable field
//	                                   (Tarantool 2.6 calls it MIN_FIELD_COUNT)
//	  41  MORE_THAN_ONE_TUPLE          get, delete or update through a non-unique index
//	  42  ACCESS_DENIED                SQL: a statement the caller has no privilege for
//	  72  ITERATOR_TYPE                unknown iterator
//	  85  INDEX_EXISTS                 create_index of a name or id that exists
//	  94  CANT_UPDATE_PRIMARY_KEY      update that changes a primary key field
//	  95  UPDATE_INTEGER_OVERFLOW      integer "+"/"-" outside [-2^63, 2^64)
//	 109  WRONG_SCHEMA_VERSION         DDL whose schema version is not newer than the current one
//	 148  NO_SUCH_INDEX_NAME           unknown index name
//	 160  UPDATE_DECIMAL_OVERFLOW      decimal "+"/"-" beyond 38 digits
//	 201  NO_SUCH_FIELD_NAME           update of a field name not in the format
//
// SQL (core/sql/...). Where Tarantool has a code for the failure its number
// is used; Tarantool reports division by zero and integer overflow as
// ER_SQL_EXECUTE (159) with a message, and has no code for the others, so
// those take numbers of their own (10100 and up, above Picodata's 100xx
// codes in core/api):
//
//	  23  FIELD_TYPE                   NULL into a NOT NULL column (CodeSQLNotNull)
//	  36  NO_SUCH_SPACE                unknown table (CodeSQLUnknownTable)
//	  42  ACCESS_DENIED                no privilege for the statement (CodeSQLPermissionDenied)
//	  51  NO_SUCH_FUNCTION             unknown SQL function
//	 171  SQL_TYPE_MISMATCH            operand of the wrong type (1 + 'a', 'a' < 1, NOT 5,
//	                                   ABS('x')); unknown type name in a cast or a column
//	 176  SQL_CANT_RESOLVE_FIELD       unknown column
//	 179  SQL_SYNTAX_WITH_POS          syntax error (line, column, what was expected)
//	 202  FUNC_WRONG_ARG_COUNT         SQL function or aggregate called with a wrong number
//	                                   of arguments
//	10100 SQL_DIVISION_BY_ZERO         x / 0, x % 0
//	10101 SQL_INTEGER_OVERFLOW         integer result outside [-2^63, 2^64)
//	10102 SQL_DECIMAL_OVERFLOW         decimal result of 10^38 or more
//	10103 SQL_INVALID_CAST             CAST of a value to a type it cannot become
//	                                   (CAST('x' AS INTEGER), CAST(true AS UUID), 1e30::int)
//	10104 SQL_AMBIGUOUS_COLUMN         a column name several sources of the query have
//	10105 SQL_MOTION_LIMIT             a motion (data moved between replicasets for a query)
//	                                   over its row limit
//	10106 SQL_INVALID_ARGUMENT         a function argument of the right type but a wrong
//	                                   value (a negative SUBSTRING length, an ESCAPE of
//	                                   two characters)
const (
	CodeIllegalParams         uint32 = 1
	CodeTupleFound            uint32 = 3
	CodeUnsupported           uint32 = 5
	CodeCreateSpace           uint32 = 9
	CodeSpaceExists           uint32 = 10
	CodeDropSpace             uint32 = 11
	CodeModifyIndex           uint32 = 14
	CodeDropPrimaryKey        uint32 = 17
	CodeKeyPartType           uint32 = 18
	CodeExactMatch            uint32 = 19
	CodeInvalidMsgpack        uint32 = 20
	CodeTupleNotArray         uint32 = 22
	CodeFieldType             uint32 = 23
	CodeUpdateArgType         uint32 = 26
	CodeUnknownUpdateOp       uint32 = 28
	CodeUpdateField           uint32 = 29
	CodeKeyPartCount          uint32 = 31
	CodeNoSuchIndexID         uint32 = 35
	CodeNoSuchSpace           uint32 = 36
	CodeCreateUser            uint32 = 43
	CodeDropUser              uint32 = 44
	CodeNoSuchUser            uint32 = 45
	CodeUserExists            uint32 = 46
	CodeNoSuchRole            uint32 = 82
	CodeRoleExists            uint32 = 83
	CodeCreateRole            uint32 = 84
	CodeRoleLoop              uint32 = 87
	CodeGrant                 uint32 = 88
	CodeNoSuchFieldNo         uint32 = 37
	CodeExactFieldCount       uint32 = 38
	CodeFieldMissing          uint32 = 39
	CodeMoreThanOneTuple      uint32 = 41
	CodeAccessDenied          uint32 = 42
	CodeIteratorType          uint32 = 72
	CodeIndexExists           uint32 = 85
	CodeCantUpdatePrimaryKey  uint32 = 94
	CodeUpdateIntegerOverflow uint32 = 95
	CodeWrongSchemaVersion    uint32 = 109
	CodeNoSuchIndexName       uint32 = 148
	CodeUpdateDecimalOverflow uint32 = 160
	CodeNoSuchFieldName       uint32 = 201
)

// SQL error codes (see the table above).
const (
	CodeSQLNotNull                 = CodeFieldType
	CodeSQLUnknownTable            = CodeNoSuchSpace
	CodeSQLPermissionDenied        = CodeAccessDenied
	CodeSQLUnknownFunction  uint32 = 51
	CodeSQLTypeMismatch     uint32 = 171
	CodeSQLUnknownColumn    uint32 = 176
	CodeSQLSyntax           uint32 = 179
	CodeSQLWrongArgCount    uint32 = 202
	CodeSQLDivisionByZero   uint32 = 10100
	CodeSQLIntegerOverflow  uint32 = 10101
	CodeSQLDecimalOverflow  uint32 = 10102
	CodeSQLInvalidCast      uint32 = 10103
	CodeSQLAmbiguousColumn  uint32 = 10104
	CodeSQLMotionLimit      uint32 = 10105
	CodeSQLInvalidArgument  uint32 = 10106
)

// Error is a deterministic failure of an operation on data: the same on
// every instance. Functions that can only fail this way return *Error;
// reads and CaS helpers return it as error.
type Error struct {
	Code    uint32 `msgpack:"code"`
	Message string `msgpack:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("box error %d: %s", e.Code, e.Message) }

// Errorf makes an Error with a formatted message.
func Errorf(code uint32, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
