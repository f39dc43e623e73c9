package cli

import (
	"bufio"
	"io"
	"os"
	"path/filepath"

	"github.com/chzyer/readline"
)

// lineReader reads the console's lines: with editing and history on a
// terminal, plainly from a pipe or a file (scripts, tests).
type lineReader interface {
	Readline() (string, error)
	// SetPrompt sets the prompt of the next line (a terminal's only).
	SetPrompt(string)
	// SaveHistory adds an entry to the history (a terminal's only): the
	// console saves each statement once, whatever lines it took.
	SaveHistory(string) error
	Close() error
}

// newLineReader reads from in; prompt is shown on a terminal only, and
// interactive says it is one.
func newLineReader(in io.Reader, out io.Writer, prompt string) (lr lineReader, interactive bool, err error) {
	if f, ok := in.(*os.File); ok && readline.DefaultIsTerminal() && f == os.Stdin {
		history := ""
		if home, err := os.UserHomeDir(); err == nil {
			history = filepath.Join(home, ".picogo_history")
		}
		rl, err := readline.NewEx(&readline.Config{Prompt: prompt, HistoryFile: history, Stdout: out,
			DisableAutoSaveHistory: true})
		return rl, true, err
	}
	return newPlainLines(in), false, nil
}

// maxLineBytes bounds one line of a script (a long INSERT ... VALUES).
const maxLineBytes = 64 << 20

// newPlainLines reads lines from in without a prompt.
func newPlainLines(in io.Reader) *plainLines {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	return &plainLines{sc: sc}
}

// plainLines reads lines without a prompt: the input is not a person.
type plainLines struct{ sc *bufio.Scanner }

func (p *plainLines) Readline() (string, error) {
	if !p.sc.Scan() {
		if err := p.sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return p.sc.Text(), nil
}

func (p *plainLines) SetPrompt(string)         {}
func (p *plainLines) SaveHistory(string) error { return nil }
func (p *plainLines) Close() error             { return nil }
