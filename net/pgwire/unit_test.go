package pgwire

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

func TestFormatFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "-0"}, {1.5, "1.5"}, {0.1, "0.1"}, {-2, "-2"},
		{123456789012345, "123456789012345"}, {1e15, "1e+15"}, {1.2345678901234567e20, "1.2345678901234567e+20"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"}, {math.NaN(), "NaN"},
	} {
		if got := formatFloat(c.f); got != c.want {
			t.Errorf("formatFloat(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestFormatTimestamptz(t *testing.T) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	for _, c := range []struct {
		t    time.Time
		loc  *time.Location
		want string
	}{
		{time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), time.UTC, "2024-05-06 07:08:09+00"},
		{time.Date(2024, 5, 6, 7, 8, 9, 120000000, time.UTC), nil, "2024-05-06 07:08:09.12+00"},
		{time.Date(2024, 5, 6, 7, 8, 9, 999999999, time.UTC), time.UTC, "2024-05-06 07:08:10+00"},
		{time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), kolkata, "2024-05-06 12:38:09+05:30"},
		{time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("x", -3*3600)), time.UTC, "2024-05-06 10:08:09+00"},
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC, "0001-01-01 00:00:00+00 BC"},
	} {
		if got := formatTimestamptz(c.t, c.loc); got != c.want {
			t.Errorf("formatTimestamptz(%v, %v) = %q, want %q", c.t, c.loc, got, c.want)
		}
	}
}

func TestCommandTag(t *testing.T) {
	for _, c := range []struct {
		q    string
		res  Result
		want string
	}{
		{"insert into t values (1)", Result{RowCount: 2}, "INSERT 0 2"},
		{"UPDATE t SET a = 1", Result{RowCount: 3}, "UPDATE 3"},
		{"-- x\nDELETE FROM t", Result{}, "DELETE 0"},
		{"CREATE TABLE t (a INT)", Result{}, "CREATE TABLE"},
		{"CREATE UNIQUE INDEX i ON t (a)", Result{}, "CREATE INDEX"},
		{"DROP TABLE IF EXISTS t", Result{}, "DROP TABLE"},
		{"create user u with password 'x'", Result{}, "CREATE USER"},
		{"ALTER PROCEDURE p RENAME TO q", Result{}, "ALTER PROCEDURE"},
		{"GRANT READ ON TABLE t TO u", Result{}, "GRANT"},
		{"TRUNCATE t", Result{RowCount: 9}, "TRUNCATE TABLE"},
		{"CALL p()", Result{}, "CALL"},
		{"SELECT 1", Result{Query: true, Rows: [][]any{{1}, {2}}}, "SELECT 2"},
		{"(VALUES (1))", Result{Query: true, Rows: [][]any{{1}}}, "SELECT 1"},
		{"EXPLAIN SELECT 1", Result{Query: true}, "EXPLAIN"},
	} {
		if got := commandTag(c.q, &c.res); got != c.want {
			t.Errorf("commandTag(%q) = %q, want %q", c.q, got, c.want)
		}
	}
}

func TestParseLocal(t *testing.T) {
	for _, c := range []struct {
		q    string
		want *localCommand
		code string
	}{
		{"SELECT 1", nil, ""},
		{"SET a = 1", &localCommand{verb: "SET", name: "a", value: "1"}, ""},
		{"set SESSION DateStyle TO ISO, DMY;", &localCommand{verb: "SET", name: "datestyle", value: "iso, dmy"}, ""},
		{"SET \"Quoted\" = 'It''s'", &localCommand{verb: "SET", name: "Quoted", value: "It's"}, ""},
		{"SET TIME ZONE 'Europe/Berlin'", &localCommand{verb: "SET", name: "timezone", value: "Europe/Berlin"}, ""},
		{"SET TIME ZONE LOCAL", &localCommand{verb: "SET", name: "timezone", reset: true}, ""},
		{"SET application_name TO DEFAULT", &localCommand{verb: "SET", name: "application_name", reset: true}, ""},
		{"SET NAMES 'UTF8'", &localCommand{verb: "SET", name: "client_encoding", value: "UTF8"}, ""},
		{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", &localCommand{verb: "SET", noop: true}, ""},
		{"/* c */ RESET ALL", &localCommand{verb: "RESET", name: "all"}, ""},
		{"SHOW TIME ZONE", &localCommand{verb: "SHOW", name: "timezone"}, ""},
		{"DEALLOCATE PREPARE s1", &localCommand{verb: "DEALLOCATE", name: "s1"}, ""},
		{"deallocate all", &localCommand{verb: "DEALLOCATE", name: "ALL"}, ""},
		{"START TRANSACTION", &localCommand{verb: "BEGIN"}, ""},
		{"END", &localCommand{verb: "COMMIT"}, ""},
		{"SET a", nil, "42601"},
		{"SET a = ", nil, "42601"},
		{"SET a = 1,", nil, "42601"},
		{"SET a = 'open", nil, "42601"},
		{"SET ROLE admin", nil, "0A000"},
		{"SHOW", nil, "42601"},
		{"SELECT * FROM pg_catalog.pg_tables", nil, "0A000"},
		{"SELECT format_type(1, 2)", nil, "0A000"},
		{"SELECT 'pg_class', \"pg_type\" -- pg_index\n FROM t /* version() */", nil, ""},
	} {
		got, e := parseLocal(c.q)
		code := ""
		if e != nil {
			code = e.Code
		}
		if code != c.code || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseLocal(%q) = %+v, %v; want %+v, %s", c.q, got, e, c.want, c.code)
		}
	}
}

func TestSettings(t *testing.T) {
	s := newSettings("15.0", "bob")
	if changed, e := s.set("DATESTYLE", "iso, dmy"); e != nil || changed != "DateStyle" || s.get("datestyle") != "ISO, DMY" {
		t.Errorf("DateStyle: %q %v %q", changed, e, s.get("datestyle"))
	}
	if _, e := s.set("DateStyle", "German"); e == nil || e.Code != "22023" {
		t.Errorf("German: %v", e)
	}
	if _, e := s.set("server_version", "16"); e == nil || e.Code != "55P02" {
		t.Errorf("server_version: %v", e)
	}
	if changed, e := s.set("client_encoding", "unicode"); e != nil || changed != "" || s.get("client_encoding") != "UTF8" {
		t.Errorf("unicode: %q %v", changed, e)
	}
	if _, e := s.set("TimeZone", "Asia/Kolkata"); e != nil || s.loc.String() != "Asia/Kolkata" {
		t.Errorf("TimeZone: %v %v", e, s.loc)
	}
	if changed := s.reset("timezone"); changed != "TimeZone" || s.loc != time.UTC || s.get("TimeZone") != "UTC" {
		t.Errorf("reset: %q %v", changed, s.loc)
	}
	if _, e := s.set("TimeZone", "Mars/Olympus"); e == nil || e.Code != "22023" {
		t.Errorf("Mars: %v", e)
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]int{"t": 1, "TRUE": 1, "yes": 1, "on": 1, "1": 1, "f": 0, "fal": 0, "no": 0,
		"off": 0, "0": 0, "o": -1, "": -1, "maybe": -1} {
		b, ok := parseBool(in)
		got := -1
		if ok {
			got = map[bool]int{true: 1, false: 0}[b]
		}
		if got != want {
			t.Errorf("parseBool(%q) = %v %v", in, b, ok)
		}
	}
}

func TestDecodeTimestamp(t *testing.T) {
	c := &conn{types: pgtype.NewMap(), settings: newSettings("15.0", "u")}
	want := time.Date(2024, 1, 2, 3, 4, 5, 600000000, time.UTC)
	for _, in := range []string{"2024-01-02 03:04:05.6+00", "2024-01-02 05:04:05.6+02", "2024-01-02 03:04:05.6"} {
		v, e := c.decodeParam(1184, 0, []byte(in), 1)
		if e != nil || v != want {
			t.Errorf("%q: %v %v", in, v, e)
		}
	}
	c.settings.set("TimeZone", "Asia/Kolkata")
	if v, e := c.decodeParam(1184, 0, []byte("2024-01-02 08:34:05.6"), 1); e != nil || v != want {
		t.Errorf("in Asia/Kolkata: %v %v", v, e)
	}
	if v, e := c.decodeParam(1082, 0, []byte("2024-01-02"), 1); e != nil || v != time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC) {
		t.Errorf("date: %v %v", v, e)
	}
	if _, e := c.decodeParam(1184, 0, []byte("soon"), 1); e == nil || e.Code != "22P02" {
		t.Errorf("soon: %v", e)
	}
}
