package api

import (
	"context"
	"errors"
	"net/http"
	"path"
	"strings"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/store"
)

type orgKey struct{}

// orgID returns the organization the request was authenticated for.
func orgID(r *http.Request) string {
	id, _ := r.Context().Value(orgKey{}).(string)
	return id
}

// authenticate resolves x-api-key to its organization. Keys are looked up
// by their SHA-256 and cached for KeyTTL; revoked and unknown keys are 401.
func (a *API) authenticate(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The API Gateway proxy splits header values on commas; join them
		// back so a key containing one still matches.
		secret := strings.Join(r.Header.Values("x-api-key"), ",")
		if secret == "" {
			a.fail(w, r, eval.Errorf(eval.ErrUnauthorized, "missing x-api-key header"))
			return
		}
		k, err := a.key(r.Context(), store.HashKey(secret))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), orgKey{}, k.OrgID)))
	})
}

func (a *API) key(ctx context.Context, hash string) (eval.APIKey, error) {
	now := a.Now()
	a.mu.Lock()
	c, ok := a.keys[hash]
	a.mu.Unlock()
	if !ok || now.After(c.expires) {
		k, err := a.Store.KeyByHash(ctx, hash)
		if errors.Is(err, eval.ErrUnauthorized) {
			return eval.APIKey{}, eval.Errorf(eval.ErrUnauthorized, "unknown or revoked API key")
		}
		if err != nil {
			return eval.APIKey{}, err
		}
		c = cachedKey{key: k, expires: now.Add(a.KeyTTL)}
		a.mu.Lock()
		if a.keys == nil || len(a.keys) > 10000 {
			a.keys = map[string]cachedKey{}
		}
		a.keys[hash] = c
		a.mu.Unlock()
	}
	if c.key.RevokedAt != nil {
		return eval.APIKey{}, eval.Errorf(eval.ErrUnauthorized, "unknown or revoked API key")
	}
	return c.key, nil
}

// contract turns the mux's own plain-text 404 and 405 into ErrorResponses
// and keeps any panic from reaching the client as anything but a 500.
func (a *API) contract(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log(r).ErrorContext(r.Context(), "panic", "panic", v)
				writeJSON(w, http.StatusInternalServerError, errorResponse{"internal_error", "an internal error occurred; it has been logged"})
			}
		}()
		// The mux answers a path that is not canonical ("//v1/evaluators",
		// "/a/../b") with a text/html redirect; to a client it is a path
		// with no route, as in FastAPI.
		if p := r.URL.EscapedPath(); !canonical(p) {
			writeJSON(w, http.StatusNotFound, errorResponse{"not_found", "no route for " + r.Method + " " + r.URL.Path})
			return
		}
		_, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// Let the mux compute Allow for a known path with a wrong method.
		rec := &headerOnly{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			writeJSON(w, http.StatusMethodNotAllowed, errorResponse{"method_not_allowed", "method " + r.Method + " is not allowed on " + r.URL.Path})
			return
		}
		writeJSON(w, http.StatusNotFound, errorResponse{"not_found", "no route for " + r.Method + " " + r.URL.Path})
	})
}

// canonical reports whether p is a path the mux routes as is: rooted and
// unchanged by cleaning (net/http's cleanPath keeps a trailing slash).
func canonical(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if p[len(p)-1] == '/' && c != "/" {
		c += "/"
	}
	return c == p
}

// headerOnly records the status and headers of the mux's fallback answer.
type headerOnly struct {
	header http.Header
	status int
}

func (h *headerOnly) Header() http.Header         { return h.header }
func (h *headerOnly) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerOnly) WriteHeader(s int)           { h.status = s }
