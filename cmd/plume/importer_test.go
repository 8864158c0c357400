package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestImport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	agent := uuid.NewString()
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	conv := func(id, channel string) string {
		m := map[string]any{"id": id, "agent_id": agent, "session_type": "live", "channel": channel, "status": "active",
			"metadata": map[string]any{"note": "<b>&</b>"},
			"turns":    []map[string]any{{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}}}
		js, _ := json.Marshal(m)
		return string(js)
	}
	input := strings.Join([]string{
		conv(a, "chat"), // 1 created
		conv(b, "voice"),
		"",                  // 3 skipped
		`{"id": "not-json"`, // 4
		`{"agent_id": "x"}`, // 5 no id
		`{"id": "42"}`,      // 6 not a uuid
		`{"id": 7}`,         // 7 not a string
		`["an", "array"]`,   // 8
		`{"id": "` + c + `", "agent_id": "` + agent + `", "session_type": "live", "channel": "chat"}`, // 9 API: no status
		conv(a, "email"), // 10 replaces line 1
	}, "\n") // no final newline: the last line still counts
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}

	r := f.run("import", path, "--concurrency", "3")
	if r.code != exitFail {
		t.Errorf("exit %d, want 1 (some lines failed); stderr %s", r.code, r.stderr)
	}
	got := lines(r.stdout)
	slices.Sort(got[:len(got)-1]) // reported as they finish
	want := []string{
		"line 10: replaced " + a,
		"line 1: created  " + a,
		"line 2: created  " + b,
		"line 4: failed: not JSON: unexpected end of JSON input (at byte 17)",
		`line 5: failed: no "id" (the conversation's UUID)`,
		`line 6: failed: "id": "42" is not a UUID`,
		`line 7: failed: "id" is 7, not a string`,
		"line 8: failed: not a JSON object",
		"line 9: failed   " + c + ": 422 validation error",
		"  body.status: Field required",
		"9 lines: 2 created, 1 replaced, 6 failed",
	}
	slices.Sort(want[:len(want)-1])
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("report:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The good lines are stored; for a repeated id the last line won, and
	// the body arrived intact.
	for id, channel := range map[string]string{a: "email", b: "voice"} {
		code, body := f.call("GET", "/v1/v2/conversations/"+id, nil)
		var got struct {
			Channel      string         `json:"channel"`
			MessageCount int            `json:"message_count"`
			Metadata     map[string]any `json:"metadata"`
		}
		_ = json.Unmarshal(body, &got)
		if code != 200 || got.Channel != channel || got.MessageCount != 2 || got.Metadata["note"] != "<b>&</b>" {
			t.Errorf("conversation %s: %d %+v; want channel %s, 2 turns, metadata intact", id, code, got, channel)
		}
	}
	if code, _ := f.call("GET", "/v1/v2/conversations/"+c, nil); code != 404 {
		t.Errorf("conversation of the refused line: %d, want 404", code)
	}
}

func TestImportStdin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := uuid.NewString()
	line := `{"id": "` + id + `", "agent_id": "` + uuid.NewString() + `", "session_type": "test", "channel": "chat", "status": "active"}` + "\r\n"
	for i, args := range [][]string{{"import"}, {"import", "-"}, {"import", "--file", "-"}} {
		want := "line 1: replaced " + id + "\n1 line: 0 created, 1 replaced, 0 failed\n"
		if i == 0 {
			want = "line 1: created  " + id + "\n1 line: 1 created, 0 replaced, 0 failed\n"
		}
		if r := run(t, f.cli, line, args...); r.code != exitOK || r.stdout != want {
			t.Errorf("%v: exit %d\n%s%s\nwant:\n%s", args, r.code, r.stdout, r.stderr, want)
		}
	}
	if r := f.run("import", filepath.Join(t.TempDir(), "missing.jsonl")); r.code != exitFail || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestReadLine(t *testing.T) {
	t.Parallel()
	in := "short\n" + strings.Repeat("x", 100) + "\nlast"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	type line struct {
		text    string
		tooLong bool
	}
	var got []line
	for {
		l, tooLong, err := readLine(r, 50)
		if err != nil {
			break
		}
		got = append(got, line{string(l), tooLong})
	}
	want := []line{{"short", false}, {"", true}, {"last", false}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
