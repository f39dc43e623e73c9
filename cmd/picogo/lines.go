package main

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
	Close() error
}

// newLineReader reads from in; prompt is shown on a terminal only.
func newLineReader(in io.Reader, out io.Writer, prompt string) (lineReader, error) {
	if f, ok := in.(*os.File); ok && readline.DefaultIsTerminal() && f == os.Stdin {
		history := ""
		if home, err := os.UserHomeDir(); err == nil {
			history = filepath.Join(home, ".picogo_history")
		}
		return readline.NewEx(&readline.Config{Prompt: prompt, HistoryFile: history, Stdout: out})
	}
	return &plainLines{sc: bufio.NewScanner(in)}, nil
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

func (p *plainLines) Close() error { return nil }
