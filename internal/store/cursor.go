package store

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/plume-evals/plume/internal/eval"
)

// A cursor is the opaque position after the last item of a page: the
// organization it was made for and the item's table and index keys. A cursor
// that does not decode, was made for another organization or names a key
// outside the caller's organization is ErrBadCursor, never a read.

// ErrBadCursor is returned for a cursor that is not one of ours or not the
// caller's.
var ErrBadCursor = eval.Errorf(eval.ErrInvalid, "the cursor is invalid or expired")

type cursor struct {
	Org  string            `json:"o"`
	Keys map[string]string `json:"k"`
}

func encodeCursor(org string, item map[string]types.AttributeValue, names ...string) string {
	c := cursor{Org: org, Keys: map[string]string{}}
	for _, n := range names {
		if v, ok := item[n].(*types.AttributeValueMemberS); ok {
			c.Keys[n] = v.Value
		}
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(org, s string, names ...string) (map[string]types.AttributeValue, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 2048 {
		return nil, ErrBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Org != org || len(c.Keys) != len(names) {
		return nil, ErrBadCursor
	}
	out := make(map[string]types.AttributeValue, len(names))
	for _, n := range names {
		v, ok := c.Keys[n]
		if !ok || (strings.HasSuffix(n, "PK") && orgOf(v) != org) {
			return nil, ErrBadCursor
		}
		out[n] = str(v)
	}
	return out, nil
}
