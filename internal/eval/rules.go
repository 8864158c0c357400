package eval

import (
	"strconv"

	"github.com/google/uuid"
)

// IsTerminal reports whether a run status is final.
func IsTerminal(status string) bool {
	switch status {
	case StatusCompleted, StatusFailed, StatusErrored:
		return true
	}
	return false
}

// Outcome derives a run's outcome: "" while the run is in flight.
func Outcome(r Run) string {
	switch r.Status {
	case StatusFailed, StatusErrored:
		return OutcomeErrored
	case StatusCompleted:
		if len(r.Scores) == 0 {
			return OutcomeNoVerdict
		}
		for _, s := range r.Scores {
			if !s.Passed {
				return OutcomeFailed
			}
		}
		return OutcomePassed
	}
	return ""
}

// Passed decides a score's verdict: for format score, value reaches the
// threshold; for format boolean, value is 1.
func Passed(format string, threshold *float64, value float64) bool {
	if format == FormatBoolean {
		return value >= 1
	}
	t := 0.5
	if threshold != nil {
		t = *threshold
	}
	return value >= t
}

// Summarize rolls runs up into a conversation's eval_summary. A run counts
// as succeeded when it completed with every score passed, as pending while
// in flight, and as failed otherwise. Only critical runs decide Status:
// none without critical runs, pending while one is in flight, success when
// all succeeded, failure when none did, partial otherwise.
func Summarize(runs []Run) Summary {
	var s Summary
	for _, r := range runs {
		s.Total++
		ok, inFlight := Outcome(r) == OutcomePassed, !r.Terminal()
		switch {
		case inFlight:
			s.Pending++
		case ok:
			s.Succeeded++
		default:
			s.Failed++
		}
		if !r.Snapshot.IsCritical {
			continue
		}
		s.CriticalTotal++
		switch {
		case inFlight:
			s.CriticalPending++
		case ok:
			s.CriticalSucceeded++
		default:
			s.CriticalFailed++
		}
	}
	s.Status = verdict(s)
	return s
}

func verdict(s Summary) string {
	switch {
	case s.CriticalTotal == 0:
		return "none"
	case s.CriticalPending > 0:
		return "pending"
	case s.CriticalSucceeded == s.CriticalTotal:
		return "success"
	case s.CriticalSucceeded == 0:
		return "failure"
	}
	return "partial"
}

// PendingSummary is the summary shown while a task holds the guard before
// its runs exist: every earlier run is gone and the verdict is pending.
func PendingSummary() Summary { return Summary{Status: "pending"} }

// namespace is the UUID v5 namespace of Plume's deterministic ids.
var namespace = uuid.MustParse("6f1c1f64-4a39-4c36-9a43-2f1f3f0a7e11")

// RunID is the deterministic id of the run of evaluatorID in generation:
// a redelivered task creates the same runs, never new ones.
func RunID(generation, evaluatorID string) string {
	return uuid.NewSHA1(namespace, []byte("run/"+generation+"/"+evaluatorID)).String()
}

// ScoreID is the deterministic id of the index-th score of a run: writing a
// run's scores twice overwrites, never duplicates.
func ScoreID(runID, evaluatorID string, index int) string {
	return uuid.NewSHA1(namespace, []byte("score/"+runID+"/"+evaluatorID+"/"+strconv.Itoa(index))).String()
}

// TurnID is the deterministic id of the turn at position seq of a
// conversation whose client gave it no id.
func TurnID(conversationID string, seq int) string {
	return uuid.NewSHA1(namespace, []byte("turn/"+conversationID+"/"+strconv.Itoa(seq))).String()
}

// ValidUUID reports whether s is a canonical UUID (36 characters, hyphens in
// place).
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}
