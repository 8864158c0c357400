package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// barWidth is the width of the bar between its brackets.
const barWidth = 20

// progress shows a task's progress on w: on a terminal one line redrawn in
// place, with the time waited; elsewhere (a log, a pipe) a plain line each
// time the task changes.
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	now   func() time.Time
	last  string
	drawn bool
}

func newProgress(w io.Writer, tty bool, now func() time.Time) *progress {
	return &progress{w: w, tty: tty, start: now(), now: now}
}

// update shows t.
func (p *progress) update(t task) {
	line := describe(t)
	if p.tty {
		waited := p.now().Sub(p.start).Round(time.Second)
		fmt.Fprintf(p.w, "\r\x1b[K%s  %s", line, waited)
		p.drawn = true
		return
	}
	if line != p.last {
		fmt.Fprintln(p.w, line)
		p.last = line
	}
}

// end ends the redrawn line, so that what follows starts on its own.
func (p *progress) end() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// describe renders a task as a bar and its counts:
//
//	[##########----------] 3/6 runs  completed 2  failed 0  errored 1  running
func describe(t task) string {
	done := t.Completed + t.Failed + t.Errored
	switch {
	case t.Status == "queued":
		return bar(0, 0) + " queued, waiting for a worker"
	case t.Total == 0 && t.Status == "completed":
		return bar(1, 1) + " 0 runs: no evaluator is bound to the conversation's agent or scenario"
	case t.Total == 0:
		return bar(0, 0) + " " + t.Status + ", planning the runs"
	}
	return fmt.Sprintf("%s %d/%d runs  completed %d  failed %d  errored %d  %s",
		bar(done, t.Total), done, t.Total, t.Completed, t.Failed, t.Errored, t.Status)
}

// bar draws done of total in barWidth cells.
func bar(done, total int) string {
	n := 0
	if total > 0 {
		n = min(max(done*barWidth/total, 0), barWidth)
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", barWidth-n) + "]"
}
