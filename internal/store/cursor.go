package store

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/plume-evals/plume/internal/eval"
)

// A cursor is the opaque position after the last item of a page: the
// organization it was made for and that item's table and index keys. It is
// accepted only if it could have come from the same list for the same
// caller: same organization, the index partition of this query, keys of the
// listed entity in their exact formats. Anything else is ErrBadCursor,
// never a read.

// ErrBadCursor is returned for a cursor that is not one of ours, or not one
// of this list for this caller.
var ErrBadCursor = eval.Errorf(eval.ErrInvalid, "the cursor is invalid or expired")

type cursor struct {
	Org  string            `json:"o"`
	Keys map[string]string `json:"k"`
}

// position describes the cursors one list query accepts.
type position struct {
	index    string // "GSI1" or "GSI2"
	pk       string // the query's index partition key
	skPrefix string // what the index sort key starts with ("" for none)
	entity   string // the listed entity's SK constant: RUN, EVALUATOR, BINDING
}

func (p position) names() []string { return []string{"PK", "SK", p.index + "PK", p.index + "SK"} }

var (
	uuidRE  = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
	stampID = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#` + uuidRE + `$`)
	itemPK  = regexp.MustCompile(`^ORG#` + uuidRE + `#(RUN|EVALUATOR|BINDING)#` + uuidRE + `$`)
)

func encodeCursor(org string, item map[string]types.AttributeValue, p position) string {
	c := cursor{Org: org, Keys: map[string]string{}}
	for _, n := range p.names() {
		if v, ok := item[n].(*types.AttributeValueMemberS); ok {
			c.Keys[n] = v.Value
		}
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(org, s string, p position) (map[string]types.AttributeValue, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 2048 {
		return nil, ErrBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Org != org || len(c.Keys) != 4 {
		return nil, ErrBadCursor
	}
	k := c.Keys
	sk, hasPrefix := strings.CutPrefix(k[p.index+"SK"], p.skPrefix)
	m := itemPK.FindStringSubmatch(k["PK"])
	if m == nil || orgOf(k["PK"]) != org || m[1] != p.entity || k["SK"] != p.entity ||
		k[p.index+"PK"] != p.pk || !hasPrefix || !stampID.MatchString(sk) || !strings.HasSuffix(k["PK"], sk[len(sk)-36:]) {
		return nil, ErrBadCursor
	}
	out := make(map[string]types.AttributeValue, 4)
	for _, n := range p.names() {
		out[n] = str(k[n])
	}
	return out, nil
}
