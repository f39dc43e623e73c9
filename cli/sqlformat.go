package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/cockroachdb/apd/v3"
)

// The console's result formatter: a query's rows as an aligned table in
// psql's layout.
//
//	 id | name  | score
//	----+-------+-------
//	  1 | alice |   2.5
//	  2 | NULL  |  NULL
//	(2 rows)
//
// Column names are centered; numbers are right-aligned, everything else
// left-aligned; NULL prints as NULL; a value of several lines continues
// under itself with a + at the end of each line but its last (as psql);
// trailing spaces are cut.

// column is one column of a query's result: its name and SQL type.
type column struct {
	Name string
	Type string
}

// nullText is how a NULL prints.
const nullText = "NULL"

// numericTypes are the SQL types whose columns are right-aligned.
var numericTypes = map[string]bool{
	"integer": true, "unsigned": true, "double": true, "decimal": true, "number": true,
	"int": true, "bigint": true, "float": true, "numeric": true, "real": true,
}

// formatTable renders cols and rows as an aligned table: the header, the
// rule and the rows, without the row count.
func formatTable(cols []column, rows [][]any) string {
	n := len(cols)
	if n == 0 {
		return ""
	}
	cells := make([][][]string, len(rows)) // row, column, line
	widths := make([]int, n)
	for i, c := range cols {
		widths[i] = displayWidth(c.Name)
	}
	for r, row := range rows {
		cells[r] = make([][]string, n)
		for i := range n {
			var v any
			if i < len(row) {
				v = row[i]
			}
			lines := strings.Split(formatValue(v), "\n")
			cells[r][i] = lines
			for _, l := range lines {
				widths[i] = max(widths[i], displayWidth(l))
			}
		}
	}
	right := make([]bool, n)
	for i, c := range cols {
		right[i] = numericColumn(c.Type, rows, i)
	}

	var b strings.Builder
	parts := make([]string, n)
	for i, c := range cols {
		pad := widths[i] - displayWidth(c.Name)
		parts[i] = " " + strings.Repeat(" ", pad/2) + c.Name + strings.Repeat(" ", pad-pad/2) + " "
	}
	writeLine(&b, strings.Join(parts, "|"))
	for i := range n {
		parts[i] = strings.Repeat("-", widths[i]+2)
	}
	writeLine(&b, strings.Join(parts, "+"))
	for _, row := range cells {
		height := 1
		for _, lines := range row {
			height = max(height, len(lines))
		}
		for k := range height {
			for i, lines := range row {
				text, more := "", k < len(lines)-1
				if k < len(lines) {
					text = lines[k]
				}
				pad := strings.Repeat(" ", widths[i]-displayWidth(text))
				if right[i] {
					text = pad + text
				} else {
					text += pad
				}
				marker := " "
				if more {
					marker = "+"
				}
				parts[i] = " " + text + marker
			}
			writeLine(&b, strings.Join(parts, "|"))
		}
	}
	return b.String()
}

// writeLine writes line without its trailing spaces, and a newline.
func writeLine(b *strings.Builder, line string) {
	b.WriteString(strings.TrimRight(line, " "))
	b.WriteByte('\n')
}

// rowsFooter is psql's (1 row) / (N rows).
func rowsFooter(n int) string {
	if n == 1 {
		return "(1 row)"
	}
	return fmt.Sprintf("(%d rows)", n)
}

// numericColumn: a column of a numeric type, or of no particular type
// (any, scalar) whose values are all numbers, is right-aligned.
func numericColumn(typ string, rows [][]any, i int) bool {
	t := strings.ToLower(typ)
	if numericTypes[t] {
		return true
	}
	if t != "" && t != "any" && t != "scalar" {
		return false
	}
	seen := false
	for _, row := range rows {
		if i >= len(row) || row[i] == nil {
			continue
		}
		if !isNumber(row[i]) {
			return false
		}
		seen = true
	}
	return seen
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, *apd.Decimal:
		return true
	}
	return false
}

// formatValue is how one value of a row prints: NULL, numbers and
// booleans as SQL writes them, text as it is, varbinary as \x and hex
// digits, decimals, uuids and datetimes in their String form, arrays and
// maps as JSON.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return nullText
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int8, int16, int32, int64:
		return fmt.Sprint(x)
	case uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case []any, map[string]any, map[any]any:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(toJSON(x)); err != nil {
			return fmt.Sprint(x)
		}
		return strings.TrimSuffix(b.String(), "\n")
	case fmt.Stringer: // *apd.Decimal, uuid.UUID, tuple.Datetime
		return x.String()
	}
	return fmt.Sprint(v)
}

// toJSON makes a decoded value fit for encoding/json: maps with any keys
// get string keys, bytes and extension values become strings.
func toJSON(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return x
	case []byte:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toJSON(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = toJSON(e)
		}
		return out
	case *apd.Decimal:
		return json.Number(x.String())
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// displayWidth is how many terminal columns s takes: a rune takes one,
// but combining marks and zero-width characters none and East Asian wide
// and fullwidth characters (CJK, Hangul, fullwidth forms, most emoji) two.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case r == 0x200B || r == 0x200C || r == 0x200D || r == 0xFEFF || unicode.In(r, unicode.Mn, unicode.Me):
		case isWide(r):
			w += 2
		default:
			w++
		}
	}
	return w
}

// wideRanges are the main East Asian Wide (W) and Fullwidth (F) ranges of
// Unicode's EastAsianWidth.txt.
var wideRanges = [][2]rune{
	{0x1100, 0x115F},   // Hangul Jamo initials
	{0x2E80, 0x303E},   // CJK radicals, symbols and punctuation
	{0x3041, 0x33FF},   // Hiragana, Katakana, Bopomofo, CJK compatibility
	{0x3400, 0x4DBF},   // CJK extension A
	{0x4E00, 0x9FFF},   // CJK unified ideographs
	{0xA000, 0xA4CF},   // Yi
	{0xAC00, 0xD7A3},   // Hangul syllables
	{0xF900, 0xFAFF},   // CJK compatibility ideographs
	{0xFE30, 0xFE4F},   // CJK compatibility forms
	{0xFF00, 0xFF60},   // fullwidth forms
	{0xFFE0, 0xFFE6},   // fullwidth signs
	{0x1F300, 0x1F64F}, // pictographs, emoticons
	{0x1F900, 0x1F9FF}, // supplemental symbols and pictographs
	{0x20000, 0x3FFFD}, // CJK extensions B and beyond
}

func isWide(r rune) bool {
	for _, rg := range wideRanges {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

func uintString(n uint64) string { return strconv.FormatUint(n, 10) }
