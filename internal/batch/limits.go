package batch

import (
	"bytes"
	"fmt"
	"io"
)

// sizeLimiter passes through at most limit bytes of a file and then fails with
// ErrFileTooLarge, so that the limit holds while streaming and not only after the fact. It
// also makes every error of the underlying reader sticky, which the peeking in decodeText
// relies on: bufio forgets an error once it has reported it.
type sizeLimiter struct {
	r io.Reader
	// left is the number of bytes still allowed; negative means no limit.
	left  int64
	limit int64
	err   error
}

// newSizeLimiter limits r to limit bytes; a negative limit means none.
func newSizeLimiter(r io.Reader, limit int64) *sizeLimiter {
	return &sizeLimiter{r: r, left: limit, limit: limit}
}

// Read reads from the file, reading one byte beyond the limit to find out whether the file
// goes on: only then is the limit exceeded.
func (s *sizeLimiter) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.left >= 0 && int64(len(p)) > s.left+1 {
		p = p[:s.left+1]
	}

	n, err := s.r.Read(p)
	if s.left >= 0 && int64(n) > s.left {
		n = int(s.left)
		s.left = 0
		s.err = &limitError{cause: ErrFileTooLarge, reason: fmt.Sprintf(
			"file is larger than the limit of %s", byteSize(s.limit))}
		return n, s.err
	}
	if s.left >= 0 {
		s.left -= int64(n)
	}
	s.err = err
	return n, err
}

// recordLimiter sits between the header's buffered reader and the csv reader and fails
// with ErrRecordTooLong as soon as one record passes limit bytes, before the csv reader
// buffers it whole. It tells records apart the way CSV does: a newline ends a record
// unless an odd number of quotes came before it in the record. Malformed quoting may make
// it count wrong, but the csv reader then stops at that record first. It also counts
// physical lines, for the errors that name the line where reading stopped.
type recordLimiter struct {
	r     io.Reader
	limit int
	// line is the physical line of the next byte; start the line the current record
	// started on.
	line, start int
	size        int
	quoted      bool
	err         error
}

// newRecordLimiter limits the records read from r, whose first byte is on line firstLine.
func newRecordLimiter(r io.Reader, limit, firstLine int) *recordLimiter {
	return &recordLimiter{r: r, limit: limit, line: firstLine, start: firstLine}
}

// Read passes on the bytes before the first one past the limit; the next call fails.
func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	cut := l.scan(p[:n])
	if cut < 0 {
		return n, err
	}
	l.err = &limitError{cause: ErrRecordTooLong, reason: fmt.Sprintf(
		"record is longer than the limit of %s", byteSize(int64(l.limit)))}
	if cut == 0 {
		return 0, l.err
	}
	return cut, nil
}

// scan follows records through b a line at a time, and returns the index of the first
// byte past the limit, or -1.
func (l *recordLimiter) scan(b []byte) int {
	for off := 0; off < len(b); {
		seg := b[off:]
		nl := bytes.IndexByte(seg, '\n')
		if nl >= 0 {
			seg = seg[:nl]
		}
		if l.size+len(seg) > l.limit {
			return off + l.limit - l.size
		}
		l.size += len(seg)
		// Each quote opens or closes a quoted cell; "" inside one does both.
		if bytes.Count(seg, []byte{'"'})%2 == 1 {
			l.quoted = !l.quoted
		}
		if nl < 0 {
			return -1
		}

		l.line++
		off += nl + 1
		if !l.quoted {
			l.size, l.start = 0, l.line
		} else if l.size++; l.size > l.limit {
			return off - 1
		}
	}
	return -1
}

// byteSize writes a byte count for people: "100 MiB", "64 KiB", "1000 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
