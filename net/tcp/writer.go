package tcp

import (
	"bufio"
	"errors"
	"io"
)

// writeBuffer is the size of a connection's write buffer: frames queued
// together are written in one system call.
const writeBuffer = 64 << 10

// errFlushed is what writeLoop returns after writing a closeAfter marker.
var errFlushed = errors.New("closed after flushing")

// writeLoop writes the frames of out in order, flushing whenever the queue
// runs dry, until done is closed or a write fails. A nil frame is a marker:
// flush and return errFlushed (the connection is to be closed). The caller
// closes the connection.
func writeLoop(w io.Writer, out <-chan []byte, done <-chan struct{}) error {
	bw := bufio.NewWriterSize(w, writeBuffer)
	for {
		select {
		case <-done:
			return nil
		case f := <-out:
			if f == nil {
				if err := bw.Flush(); err != nil {
					return err
				}
				return errFlushed
			}
			if _, err := bw.Write(f); err != nil {
				return err
			}
			if len(out) == 0 {
				if err := bw.Flush(); err != nil {
					return err
				}
			}
		}
	}
}
