package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
)

var importSpec = spec{
	name:     "import",
	synopsis: "plume import [<file.jsonl> | --file <file.jsonl> | -] [--concurrency <n>] [--url <url>] [--key <key>]",
	about: `Imports conversations from JSONL, one conversation per line: the body of
PUT /v1/v2/conversations/{id} (agent_id, session_type, channel, status, turns, ...)
with the conversation's UUID in "id". Each line is reported (created, replaced,
or failed with the API's reason) and the import goes on after a failure; a
summary ends the report. Lines with the same id are sent in file order. Blank
lines are skipped. Reads standard input when no file is given or the file is -.
Exits 1 when any line failed. A conversation that arrives "closed" is evaluated
automatically when its agent's eval config allows it.`,
	examples: `  plume import conversations.jsonl
  plume import --file conversations.jsonl --concurrency 8
  gunzip -c export.jsonl.gz | plume import -

  A line:
  {"id": "8c3f0a52-6d1e-4b7a-9f20-3e5d7c9b1a04", "agent_id": "00000000-0000-4000-8000-0000000000a1", "session_type": "live", "channel": "chat", "status": "closed", "turns": [{"role": "user", "content": "Can I return these shoes?"}, {"role": "assistant", "content": "Yes, within 30 days."}]}`,
}

// maxLine bounds one line; the API itself refuses bodies over 1 MiB (413).
const maxLine = 8 << 20

// importLine is one conversation to send.
type importLine struct {
	n    int
	id   string
	body []byte
}

// importResult is the outcome of one line: "created", "replaced" or
// "failed" (with err).
type importResult struct {
	n      int
	id     string
	status string
	err    error
}

func (c *cli) runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := importSpec
	fs := s.flags()
	file := fs.String("file", "", "JSONL `file` to read; - or none reads standard input")
	conc := fs.Int("concurrency", 4, "`n` conversations sent at once (1..64)")
	af := addAPIFlags(fs)
	pos, code, ok := s.parse(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case len(pos) > 1:
		return s.usageError(stderr, "one file at most")
	case len(pos) == 1 && *file != "":
		return s.usageError(stderr, "give the file as an argument or with --file, not both")
	case len(pos) == 1:
		*file = pos[0]
	}
	if *conc < 1 || *conc > 64 {
		return s.usageError(stderr, "--concurrency: want 1..64")
	}
	cl, err := c.client(af, stderr)
	if err != nil {
		return s.usageError(stderr, err.Error())
	}
	in := c.stdin
	if *file != "" && *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return s.fail(stderr, err)
		}
		defer f.Close()
		in = f
	}

	results := make(chan importResult)
	// Lines go to workers by their id, so that two lines of one
	// conversation are sent in file order and the last one wins.
	shards := make([]chan importLine, *conc)
	var wg sync.WaitGroup
	for i := range shards {
		shards[i] = make(chan importLine)
		wg.Go(func() {
			for l := range shards[i] {
				results <- putConversation(ctx, cl, l)
			}
		})
	}
	go func() {
		defer close(results)
		defer wg.Wait()
		defer func() {
			for _, sh := range shards {
				close(sh)
			}
		}()
		r := bufio.NewReaderSize(in, 64<<10)
		for n := 1; ctx.Err() == nil; n++ {
			line, tooLong, err := readLine(r, maxLine)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				results <- importResult{n: n, status: "failed", err: fmt.Errorf("reading the input: %w", err)}
				return
			}
			if tooLong {
				results <- importResult{n: n, status: "failed", err: fmt.Errorf("the line is longer than %d MiB", maxLine>>20)}
				continue
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			id, body, err := parseLine(line)
			if err != nil {
				results <- importResult{n: n, id: id, status: "failed", err: err}
				continue
			}
			h := fnv.New32a()
			_, _ = h.Write([]byte(id))
			select {
			case shards[int(h.Sum32()%uint32(len(shards)))] <- importLine{n: n, id: id, body: body}:
			case <-ctx.Done():
			}
		}
	}()

	counts := map[string]int{}
	for r := range results {
		counts[r.status]++
		switch {
		case r.err == nil:
			fmt.Fprintf(stdout, "line %d: %-8s %s\n", r.n, r.status, r.id)
		case r.id != "":
			fmt.Fprintf(stdout, "line %d: failed   %s: %v\n", r.n, r.id, r.err)
		default:
			fmt.Fprintf(stdout, "line %d: failed: %v\n", r.n, r.err)
		}
	}
	total := counts["created"] + counts["replaced"] + counts["failed"]
	fmt.Fprintf(stdout, "%d %s: %d created, %d replaced, %d failed\n",
		total, plural(total, "line"), counts["created"], counts["replaced"], counts["failed"])
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "plume import: interrupted; the lines not reported above were not sent")
		return exitFail
	}
	if counts["failed"] > 0 {
		return exitFail
	}
	return exitOK
}

func putConversation(ctx context.Context, cl *client, l importLine) importResult {
	status, err := cl.do(ctx, http.MethodPut, "/v1/v2/conversations/"+url.PathEscape(l.id), nil, l.body, nil)
	switch {
	case err != nil:
		return importResult{n: l.n, id: l.id, status: "failed", err: err}
	case status == http.StatusCreated:
		return importResult{n: l.n, id: l.id, status: "created"}
	default:
		return importResult{n: l.n, id: l.id, status: "replaced"}
	}
}

// parseLine splits a JSONL line into the conversation id and the PUT body
// (the object without "id").
func parseLine(line []byte) (id string, body []byte, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return "", nil, fmt.Errorf("not JSON: %v (at byte %d)", err, se.Offset)
		}
		return "", nil, errors.New("not a JSON object")
	}
	raw, ok := m["id"]
	if !ok {
		return "", nil, errors.New(`no "id" (the conversation's UUID)`)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", nil, fmt.Errorf(`"id" is %s, not a string`, oneLine(string(raw), 40))
	}
	if id, err = canonicalUUID(s); err != nil {
		return "", nil, fmt.Errorf(`"id": %v`, err)
	}
	delete(m, "id")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return id, nil, err
	}
	return id, bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// readLine returns the next line without its line ending. A line longer
// than limit is consumed and reported with tooLong, without being kept.
// A last line without a newline is a line; after it, io.EOF.
func readLine(r *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > limit {
			tooLong, line = true, nil
		} else if !tooLong {
			line = append(line, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && (len(line) > 0 || tooLong) {
			err = nil
		}
		if err != nil {
			return nil, false, err
		}
		return bytes.TrimRight(line, "\r\n"), tooLong, nil
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
