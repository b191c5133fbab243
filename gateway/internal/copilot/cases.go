package copilot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/faultmaven/faultmaven/core/agent"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/gateway/internal/auth"
)

// Case states the extension knows; anything else breaks its labels.
const (
	stateInquiry       = "inquiry"
	stateInvestigating = "investigating"
	stateResolved      = "resolved"
	stateClosed        = "closed"
)

var nextStates = map[string][]string{
	stateInquiry:       {stateInvestigating, stateResolved, stateClosed},
	stateInvestigating: {stateResolved, stateClosed},
	stateResolved:      {stateInvestigating, stateClosed},
	stateClosed:        {},
}

// summary is the CaseSummary the extension reads (plus the 2.0 fields it
// ignores, for contract fidelity).
func (h *handler) summary(c store.Case, messages int) map[string]any {
	terminal := c.State == stateClosed
	var resolvedAt, closedAt any
	if c.State == stateResolved {
		resolvedAt = c.UpdatedAt
	}
	if terminal {
		closedAt = c.UpdatedAt
	}
	return map[string]any{
		"case_id": c.ID, "title": c.Title, "description": "", "state": c.State, "priority": "medium",
		"created_at": c.CreatedAt, "updated_at": c.UpdatedAt, "last_activity_at": c.UpdatedAt,
		"resolved_at": resolvedAt, "closed_at": closedAt, "closure_reason": nil,
		"current_turn": c.CurrentTurn, "message_count": messages, "turns_without_progress": 0,
		"user_id": c.Owner, "owner_id": c.Owner, "organization_id": "", "source": "extension", "stage": "",
		"is_terminal": terminal, "valid_next_states": nextStates[c.State], "cluster": c.Cluster,
	}
}

func (h *handler) listCases(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.FromContext(r.Context())
	limit, offset, err := pageParams(r)
	if err != nil {
		writeProblem(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	cs, total, err := h.o.Store.ListCases(r.Context(), u.ID, limit, offset)
	if err != nil {
		h.storeError(w, "listing cases", err)
		return
	}
	out := make([]map[string]any, 0, len(cs))
	for _, c := range cs {
		out = append(out, h.summary(c, 2*c.CurrentTurn))
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": out, "total_count": total, "limit": limit, "offset": offset,
		"has_more": offset+len(cs) < total})
}

func (h *handler) createCase(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.FromContext(r.Context())
	var body struct {
		Title    *string        `json:"title"`
		Metadata map[string]any `json:"metadata"`
	}
	if !decodeLenient(w, r, &body) {
		return
	}
	h.idempotent(w, r, "POST /cases", func() (int, any, string) {
		now := h.o.Now().UTC()
		c := store.Case{ID: auth.NewID("case_"), Owner: u.ID, State: stateInquiry, Cluster: h.o.DefaultCluster,
			CreatedAt: now, UpdatedAt: now}
		if body.Title != nil {
			c.Title = strings.TrimSpace(*body.Title)
		}
		if cl, ok := body.Metadata["cluster"].(string); ok && cl != "" {
			if _, known := h.o.LogIntegrations(cl); !known {
				return fail(http.StatusUnprocessableEntity, "cluster "+cl+" is not configured")
			}
			c.Cluster = cl
		}
		if c.Title == "" {
			_, total, err := h.o.Store.ListCases(r.Context(), u.ID, 1, 0)
			if err != nil {
				h.o.Logger.Error("copilot: counting cases", "err", err)
				return fail(http.StatusServiceUnavailable, "creating a case failed; retry")
			}
			c.Title = fmt.Sprintf("Case-%s-%d", now.Format("0102"), total+1)
		}
		if err := h.o.Store.CreateCase(r.Context(), c); err != nil {
			h.o.Logger.Error("copilot: creating a case", "err", err)
			return fail(http.StatusServiceUnavailable, "creating a case failed; retry")
		}
		return http.StatusCreated, h.summary(c, 0), "/api/v1/cases/" + c.ID
	})
}

// ownCase loads the user's case named in the route, writing 404 if none.
func (h *handler) ownCase(w http.ResponseWriter, r *http.Request) (store.Case, bool) {
	u, _ := auth.FromContext(r.Context())
	c, err := h.o.Store.GetCase(r.Context(), u.ID, mux.Vars(r)["id"])
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, http.StatusNotFound, "case not found")
		return c, false
	case err != nil:
		h.storeError(w, "reading a case", err)
		return c, false
	}
	return c, true
}

func (h *handler) getCase(w http.ResponseWriter, r *http.Request) {
	if c, ok := h.ownCase(w, r); ok {
		out := h.summary(c, 2*c.CurrentTurn)
		out["milestones_completed"], out["pending_milestones"], out["evidence_count"] = []string{}, []string{}, 0
		writeJSON(w, http.StatusOK, out)
	}
}

func (h *handler) caseUI(w http.ResponseWriter, r *http.Request) {
	if c, ok := h.ownCase(w, r); ok {
		writeJSON(w, http.StatusOK, map[string]any{"case_id": c.ID, "title": c.Title, "state": c.State,
			"created_at": c.CreatedAt, "updated_at": c.UpdatedAt, "current_turn": c.CurrentTurn,
			"valid_next_states": nextStates[c.State], "cluster": c.Cluster})
	}
}

func (h *handler) renameCase(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title *string `json:"title"`
		State *string `json:"state"`
	}
	if !decodeLenient(w, r, &body) {
		return
	}
	m := h.lock("case\x00" + mux.Vars(r)["id"])
	m.Lock()
	defer m.Unlock()
	c, ok := h.ownCase(w, r)
	if !ok {
		return
	}
	if body.Title != nil {
		if t := strings.TrimSpace(*body.Title); t != "" {
			c.Title = clipRunes(t, 200)
		}
	}
	if body.State != nil && *body.State != c.State {
		if !slices.Contains(nextStates[c.State], *body.State) {
			writeProblem(w, http.StatusUnprocessableEntity, fmt.Sprintf("state %q cannot follow %q", *body.State, c.State))
			return
		}
		c.State = *body.State
	}
	resolved := body.State != nil && *body.State == stateResolved && c.State == stateResolved
	c.UpdatedAt = h.o.Now().UTC()
	if err := h.o.Store.UpdateCase(r.Context(), c); err != nil {
		h.storeError(w, "updating a case", err)
		return
	}
	if resolved {
		h.recordIncident(r.Context(), c)
	}
	writeJSON(w, http.StatusOK, h.summary(c, 2*c.CurrentTurn))
}

func (h *handler) deleteCase(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.FromContext(r.Context())
	err := h.o.Store.DeleteCase(r.Context(), u.ID, mux.Vars(r)["id"])
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, http.StatusNotFound, "case not found")
	case err != nil:
		h.storeError(w, "deleting a case", err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *handler) generateTitle(w http.ResponseWriter, r *http.Request) {
	var body struct {
		MaxWords int `json:"max_words"`
	}
	if !decodeLenient(w, r, &body) {
		return
	}
	c, ok := h.ownCase(w, r)
	if !ok {
		return
	}
	ms, _, err := h.o.Store.ListMessages(r.Context(), c.ID, 10, 0)
	if err != nil {
		h.storeError(w, "reading messages", err)
		return
	}
	for _, m := range ms {
		if m.Role == "user" {
			if t := titleFrom(m.Content, body.MaxWords); t != "" {
				w.Header().Set("x-title-source", "first-question")
				writeJSON(w, http.StatusOK, map[string]string{"title": t})
				return
			}
		}
	}
	writeProblem(w, http.StatusUnprocessableEntity, "not enough context: the case has no question yet")
}

// titleFrom makes a title of a question's first words.
func titleFrom(text string, maxWords int) string {
	if maxWords <= 0 || maxWords > 12 {
		maxWords = 8
	}
	first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	words := strings.Fields(first)
	if len(words) == 0 || strings.HasPrefix(first, "[") {
		return ""
	}
	t := strings.Join(words[:min(maxWords, len(words))], " ")
	if len(words) > maxWords {
		t += "…"
	}
	return clipRunes(t, 120)
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func (h *handler) listMessages(w http.ResponseWriter, r *http.Request) {
	c, ok := h.ownCase(w, r)
	if !ok {
		return
	}
	limit, offset, err := pageParams(r)
	if err != nil {
		writeProblem(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	ms, total, err := h.o.Store.ListMessages(r.Context(), c.ID, limit, offset)
	if err != nil {
		h.storeError(w, "reading messages", err)
		return
	}
	out := make([]map[string]any, 0, len(ms))
	for _, m := range ms {
		out = append(out, map[string]any{"message_id": m.ID, "role": m.Role, "content": m.Content,
			"created_at": m.CreatedAt, "turn_number": m.TurnNumber, "author_id": nil, "metadata": map[string]any{}})
	}
	resp := map[string]any{"messages": out, "total_count": total, "retrieved_count": len(out),
		"has_more": offset+len(out) < total}
	if offset+len(out) < total {
		resp["next_offset"] = offset + len(out)
	}
	writeJSON(w, http.StatusOK, resp)
}

// turnInput is what one turn carries.
type turnInput struct {
	query, pasted, inputType, sourceURL string
	intentType, intentData              string
	files                               []agent.Attachment
	processed                           []map[string]any
}

// readTurn parses a multipart turn (or, for other clients, a JSON one).
func (h *handler) readTurn(w http.ResponseWriter, r *http.Request) (turnInput, int, string) {
	var in turnInput
	r.Body = http.MaxBytesReader(w, r.Body, maxTurnBytes)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body struct {
			Query         string `json:"query"`
			PastedContent string `json:"pasted_content"`
		}
		data, err := io.ReadAll(r.Body)
		if err == nil {
			err = json.Unmarshal(data, &body)
		}
		if err != nil {
			return in, http.StatusUnprocessableEntity, "invalid JSON body"
		}
		in.query, in.pasted = strings.TrimSpace(body.Query), body.PastedContent
		return in, 0, ""
	}
	if err := r.ParseMultipartForm(16 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return in, http.StatusRequestEntityTooLarge, fmt.Sprintf("the turn is over %d MiB", maxTurnBytes>>20)
		}
		return in, http.StatusUnprocessableEntity, "want multipart/form-data with query, pasted_content or files"
	}
	defer r.MultipartForm.RemoveAll()
	get := func(k string) string { return r.FormValue(k) }
	in.query, in.pasted = strings.TrimSpace(get("query")), get("pasted_content")
	in.inputType, in.sourceURL = get("input_type"), get("source_url")
	in.intentType, in.intentData = get("intent_type"), get("intent_data")
	now := h.o.Now().UTC()
	for _, fh := range r.MultipartForm.File["files"] {
		if fh.Size > maxFileBytes {
			return in, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s is %d bytes, over the %d MiB limit", fh.Filename, fh.Size, maxFileBytes>>20)
		}
		text, err := readPart(fh)
		if err != nil {
			return in, http.StatusUnprocessableEntity, fmt.Sprintf("%s: %v", fh.Filename, err)
		}
		name := filepath.Base(fh.Filename)
		in.files = append(in.files, agent.Attachment{Name: name, Text: text})
		in.processed = append(in.processed, map[string]any{"file_id": auth.NewID("file_"), "filename": name,
			"file_size": fh.Size, "processing_status": "completed", "source_type": "file", "upload_source": "upload",
			"uploaded_at": now})
	}
	return in, 0, ""
}

func readPart(fh *multipart.FileHeader) (string, error) {
	f, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	return string(data), err
}

// defaultQuestion is asked when a turn brings only logs.
const defaultQuestion = "What stands out in these logs, and what is the likely cause?"

func (h *handler) submitTurn(w http.ResponseWriter, r *http.Request) {
	in, status, detail := h.readTurn(w, r)
	if status != 0 {
		writeProblem(w, status, detail)
		return
	}
	if in.query == "" && strings.TrimSpace(in.pasted) == "" && len(in.files) == 0 && in.intentType == "" {
		writeProblem(w, http.StatusUnprocessableEntity, "a turn needs a query, pasted content or files")
		return
	}
	caseID := mux.Vars(r)["id"]
	h.idempotent(w, r, "POST /cases/"+caseID+"/turns", func() (int, any, string) {
		m := h.lock("case\x00" + caseID)
		m.Lock()
		defer m.Unlock()
		u, _ := auth.FromContext(r.Context())
		c, err := h.o.Store.GetCase(r.Context(), u.ID, caseID)
		if errors.Is(err, store.ErrNotFound) {
			return fail(http.StatusNotFound, "case not found")
		}
		if err != nil {
			h.o.Logger.Error("copilot: reading a case", "err", err)
			return fail(http.StatusServiceUnavailable, "reading the case failed; retry")
		}
		return h.turn(r.Context(), c, in)
	})
}

// turn answers one turn and records it: the user's message and the
// answer share the new turn number.
func (h *handler) turn(ctx context.Context, c store.Case, in turnInput) (int, any, string) {
	now := h.o.Now().UTC()
	turnNo := c.CurrentTurn + 1
	var answer string
	progress := false
	if in.intentType == "status_transition" {
		var data struct {
			ToState string `json:"to_state"`
		}
		_ = json.Unmarshal([]byte(in.intentData), &data)
		if !slices.Contains(nextStates[c.State], data.ToState) {
			return fail(http.StatusUnprocessableEntity, fmt.Sprintf("state %q cannot follow %q", data.ToState, c.State))
		}
		c.State = data.ToState
		answer = "Case marked " + data.ToState + "."
	}
	if in.query != "" || strings.TrimSpace(in.pasted) != "" || len(in.files) > 0 {
		req := agent.Request{Question: in.query, Cluster: c.Cluster, Attachments: in.files}
		if req.Question == "" {
			req.Question = defaultQuestion
		}
		if strings.TrimSpace(in.pasted) != "" {
			req.Attachments = append(req.Attachments, agent.Attachment{Name: "pasted.log", Text: in.pasted})
		}
		if c.Cluster != "" {
			ids, _ := h.o.LogIntegrations(c.Cluster)
			req.Integrations = ids
			if h.o.MetricIntegrations != nil {
				req.MetricIntegrations = h.o.MetricIntegrations(c.Cluster)
			}
		}
		rep, err := h.o.Asker.Ask(ctx, req)
		switch {
		case errors.Is(err, agent.ErrInvalid):
			return fail(http.StatusUnprocessableEntity, err.Error())
		case errors.Is(err, context.DeadlineExceeded):
			return fail(http.StatusGatewayTimeout, "no answer in time; attach fewer logs or narrow the question")
		case err != nil:
			h.o.Logger.Error("copilot: answering a turn", "err", err)
			return fail(http.StatusInternalServerError, "the answer failed; the server log has the details")
		}
		answer = rep.Answer
		progress = rep.Cause != nil
		if c.State == stateInquiry {
			c.State = stateInvestigating
		}
	}
	userText := in.query
	if strings.TrimSpace(in.pasted) != "" {
		userText = strings.TrimSpace(userText + fmt.Sprintf("\n\n[pasted %d bytes of logs]", len(in.pasted)))
	}
	for _, f := range in.files {
		userText = strings.TrimSpace(userText + fmt.Sprintf("\n\n[attached %s, %d bytes]", f.Name, len(f.Text)))
	}
	if userText == "" {
		userText = "[" + in.intentType + "]"
	}
	msgs := []store.Message{
		{ID: auth.NewID("msg_"), CaseID: c.ID, TurnNumber: turnNo, Role: "user", Content: userText, CreatedAt: now},
		{ID: auth.NewID("msg_"), CaseID: c.ID, TurnNumber: turnNo, Role: "assistant", Content: answer, CreatedAt: now.Add(time.Millisecond)},
	}
	if err := h.o.Store.AppendMessages(ctx, c.ID, msgs); err != nil {
		h.o.Logger.Error("copilot: storing a turn", "err", err)
		return fail(http.StatusServiceUnavailable, "storing the turn failed; retry")
	}
	c.CurrentTurn = turnNo
	c.UpdatedAt = now
	if strings.HasPrefix(c.Title, "Case-") && in.query != "" {
		if t := titleFrom(in.query, 8); t != "" {
			c.Title = t
		}
	}
	if err := h.o.Store.UpdateCase(ctx, c); err != nil {
		h.o.Logger.Error("copilot: updating a case", "err", err)
		return fail(http.StatusServiceUnavailable, "storing the turn failed; retry")
	}
	if in.intentType == "status_transition" && c.State == stateResolved {
		h.recordIncident(ctx, c)
	}
	processed := in.processed
	if processed == nil {
		processed = []map[string]any{}
	}
	milestones := []string{}
	if progress {
		milestones = append(milestones, "likely_cause_identified")
	}
	return http.StatusOK, map[string]any{
		"agent_response": answer, "turn_number": turnNo, "case_state": c.State,
		"milestones_completed": milestones, "progress_made": progress, "attachments_processed": processed,
		"suggested_actions": []any{}, "progress_transparency": nil,
	}, ""
}
