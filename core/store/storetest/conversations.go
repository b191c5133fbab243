package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/core/store"
)

type openFunc func(t *testing.T) (store.Store, store.Options, *Clock)

// runConversations is the part of the suite for [store.Conversations].
func runConversations(t *testing.T, b Backend, t0 time.Time, open openFunc) {
	hash := func(v string) []byte { h := sha256.Sum256([]byte(v)); return h[:] }

	t.Run("tokens are kept by hash and revoked", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		tok := store.AuthToken{Hash: hash("a1"), UserID: "u1", Kind: "access", SessionID: "s1",
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		require.NoError(t, s.PutToken(ctx, tok))
		require.NoError(t, s.PutToken(ctx, store.AuthToken{Hash: hash("r1"), UserID: "u1", Kind: "refresh", SessionID: "s1",
			CreatedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour)}))
		require.NoError(t, s.PutToken(ctx, store.AuthToken{Hash: hash("old"), UserID: "u1", Kind: "access",
			CreatedAt: t0.Add(-2 * time.Hour), ExpiresAt: t0.Add(-time.Hour)}))
		require.NoError(t, s.PutToken(ctx, store.AuthToken{Hash: hash("a2"), UserID: "u2", Kind: "access",
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))

		got, err := s.GetToken(ctx, hash("a1"))
		require.NoError(t, err)
		require.Equal(t, tok.Hash, got.Hash)
		require.Equal(t, "u1", got.UserID)
		require.Equal(t, "access", got.Kind)
		require.Equal(t, "s1", got.SessionID)
		require.True(t, got.CreatedAt.Equal(t0), "created %v, want %v", got.CreatedAt, t0)
		require.True(t, got.ExpiresAt.Equal(t0.Add(time.Hour)), "expires %v", got.ExpiresAt)
		require.True(t, got.RevokedAt.IsZero(), "a new token is live, got revoked at %v", got.RevokedAt)
		_, err = s.GetToken(ctx, hash("nope"))
		require.ErrorIs(t, err, store.ErrNotFound)

		at := t0.Add(time.Minute)
		require.NoError(t, s.RevokeToken(ctx, hash("a1"), at))
		require.NoError(t, s.RevokeToken(ctx, hash("a1"), at.Add(time.Minute)), "revoking twice is a no-op")
		got, err = s.GetToken(ctx, hash("a1"))
		require.NoError(t, err)
		require.True(t, got.RevokedAt.Equal(at), "revoked at %v, want the first revocation %v", got.RevokedAt, at)
		require.ErrorIs(t, s.RevokeToken(ctx, hash("nope"), at), store.ErrNotFound)

		// u1: a1 already revoked, old expired: only r1 is live.
		n, err := s.RevokeUserTokens(ctx, "u1", t0.Add(2*time.Minute))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		got, err = s.GetToken(ctx, hash("r1"))
		require.NoError(t, err)
		require.True(t, got.RevokedAt.Equal(t0.Add(2*time.Minute)), "revoked at %v", got.RevokedAt)
		got, err = s.GetToken(ctx, hash("a2"))
		require.NoError(t, err)
		require.True(t, got.RevokedAt.IsZero(), "another user's token must stay live")

		n, err = s.DeleteExpiredTokens(ctx, t0)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = s.GetToken(ctx, hash("old"))
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.GetToken(ctx, hash("a1"))
		require.NoError(t, err, "a revoked token is kept until it expires")

		require.Error(t, s.PutToken(ctx, store.AuthToken{UserID: "u1", ExpiresAt: t0}), "a token without hash")
	})

	t.Run("sessions are created and replaced", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		_, err := s.GetSession(ctx, "s1")
		require.ErrorIs(t, err, store.ErrNotFound)
		se := store.Session{ID: "s1", ClientID: "ext-1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		require.NoError(t, s.PutSession(ctx, se))
		got, err := s.GetSession(ctx, "s1")
		require.NoError(t, err)
		require.Equal(t, "ext-1", got.ClientID)
		require.Empty(t, got.UserID)
		require.True(t, got.ExpiresAt.Equal(se.ExpiresAt), "expires %v", got.ExpiresAt)
		se.UserID, se.ExpiresAt = "u1", t0.Add(2*time.Hour)
		require.NoError(t, s.PutSession(ctx, se))
		got, err = s.GetSession(ctx, "s1")
		require.NoError(t, err)
		require.Equal(t, "u1", got.UserID)
		require.True(t, got.ExpiresAt.Equal(t0.Add(2*time.Hour)), "expires %v", got.ExpiresAt)
		require.True(t, got.CreatedAt.Equal(t0), "created %v", got.CreatedAt)

		require.NoError(t, s.PutSession(ctx, store.Session{ID: "s2", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}))
		n, err := s.DeleteExpiredSessions(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = s.GetSession(ctx, "s2")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.GetSession(ctx, "s1")
		require.NoError(t, err, "a live session is kept")
	})

	t.Run("cases belong to their owner", func(t *testing.T) {
		s, _, clk := open(t)
		ctx := t.Context()
		c := store.Case{ID: "c1", Owner: "alice", Title: "checkout 500s", State: "inquiry", Cluster: "prod"}
		require.NoError(t, s.CreateCase(ctx, c))
		require.ErrorIs(t, s.CreateCase(ctx, c), store.ErrConflict)
		require.ErrorIs(t, s.CreateCase(ctx, store.Case{ID: "c1", Owner: "bob"}), store.ErrConflict, "case ids are global")
		got, err := s.GetCase(ctx, "alice", "c1")
		require.NoError(t, err)
		require.Equal(t, c.Title, got.Title)
		require.Equal(t, c.State, got.State)
		require.Equal(t, c.Cluster, got.Cluster)
		require.True(t, got.CreatedAt.Equal(t0), "created %v, want the store clock %v", got.CreatedAt, t0)
		require.True(t, got.UpdatedAt.Equal(t0), "updated %v, want %v", got.UpdatedAt, t0)

		_, err = s.GetCase(ctx, "bob", "c1")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.GetCase(ctx, "alice", "nope")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, s.UpdateCase(ctx, store.Case{ID: "c1", Owner: "bob", Title: "mine"}), store.ErrNotFound)
		require.ErrorIs(t, s.DeleteCase(ctx, "bob", "c1"), store.ErrNotFound)
		list, total, err := s.ListCases(ctx, "bob", 10, 0)
		require.NoError(t, err)
		require.Empty(t, list)
		require.Zero(t, total)

		clk.Set(t0.Add(time.Minute))
		got.Title, got.State, got.Cluster, got.CurrentTurn, got.UpdatedAt = "checkout 502s", "investigating", "", 3, time.Time{}
		require.NoError(t, s.UpdateCase(ctx, got))
		got, err = s.GetCase(ctx, "alice", "c1")
		require.NoError(t, err)
		require.Equal(t, "checkout 502s", got.Title)
		require.Equal(t, "investigating", got.State)
		require.Empty(t, got.Cluster)
		require.Equal(t, 3, got.CurrentTurn)
		require.True(t, got.CreatedAt.Equal(t0), "created %v must not change", got.CreatedAt)
		require.True(t, got.UpdatedAt.Equal(t0.Add(time.Minute)), "updated %v, want %v", got.UpdatedAt, t0.Add(time.Minute))

		require.NoError(t, s.DeleteCase(ctx, "alice", "c1"))
		_, err = s.GetCase(ctx, "alice", "c1")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, s.DeleteCase(ctx, "alice", "c1"), store.ErrNotFound)
		require.ErrorIs(t, s.UpdateCase(ctx, got), store.ErrNotFound)
		require.Error(t, s.CreateCase(ctx, store.Case{ID: "x"}), "a case without owner")
	})

	t.Run("cases list most recently updated first", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		// Updated minutes: c-a 1, c-b 5, c-c 3, c-d 5 (tie with c-b), c-e 2.
		for _, c := range []struct {
			id  string
			min int
		}{{"c-a", 1}, {"c-b", 5}, {"c-c", 3}, {"c-d", 5}, {"c-e", 2}} {
			require.NoError(t, s.CreateCase(ctx, store.Case{ID: c.id, Owner: "alice", CreatedAt: t0,
				UpdatedAt: t0.Add(time.Duration(c.min) * time.Minute)}))
		}
		require.NoError(t, s.CreateCase(ctx, store.Case{ID: "c-z", Owner: "bob", UpdatedAt: t0.Add(time.Hour)}))
		ids := func(cs []store.Case) []string {
			out := []string{}
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		for _, tc := range []struct {
			limit, offset int
			want          []string
		}{
			{0, 0, []string{"c-b", "c-d", "c-c", "c-e", "c-a"}},
			{2, 0, []string{"c-b", "c-d"}},
			{2, 2, []string{"c-c", "c-e"}},
			{2, 4, []string{"c-a"}},
			{2, 5, []string{}},
		} {
			list, total, err := s.ListCases(ctx, "alice", tc.limit, tc.offset)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(list), "limit %d offset %d", tc.limit, tc.offset)
			require.Equal(t, 5, total, "the total counts every case of the owner")
		}
	})

	t.Run("messages append in order and page", func(t *testing.T) {
		s, _, clk := open(t)
		ctx := t.Context()
		require.NoError(t, s.CreateCase(ctx, store.Case{ID: "c1", Owner: "alice"}))
		require.NoError(t, s.CreateCase(ctx, store.Case{ID: "c2", Owner: "alice"}))
		first := []store.Message{
			{ID: "m1", TurnNumber: 1, Role: "user", Content: "why is checkout failing?"},
			{ID: "m2", TurnNumber: 1, Role: "assistant", Content: "payments time out since 10:02"},
			{ID: "m3", TurnNumber: 1, Role: "system", Content: ""},
		}
		require.NoError(t, s.AppendMessages(ctx, "c1", first))
		for i, m := range first {
			require.EqualValues(t, i+1, m.Seq, "sequence written back")
			require.Equal(t, "c1", m.CaseID)
			require.True(t, m.CreatedAt.Equal(t0), "created %v", m.CreatedAt)
		}
		require.NoError(t, s.AppendMessages(ctx, "c2", []store.Message{{ID: "x1", Role: "user", Content: "other case"}}))
		clk.Set(t0.Add(time.Minute))
		second := []store.Message{
			{ID: "m4", TurnNumber: 2, Role: "user", Content: "and now?"},
			{ID: "m5", TurnNumber: 2, Role: "assistant", Content: "recovered at 10:07", CreatedAt: t0.Add(2 * time.Minute)},
		}
		require.NoError(t, s.AppendMessages(ctx, "c1", second))
		require.EqualValues(t, 4, second[0].Seq)
		require.EqualValues(t, 5, second[1].Seq)

		all, total, err := s.ListMessages(ctx, "c1", 0, 0)
		require.NoError(t, err)
		require.Equal(t, 5, total)
		require.Len(t, all, 5)
		for i, m := range append(first, second...) {
			require.Equal(t, m.ID, all[i].ID)
			require.EqualValues(t, i+1, all[i].Seq)
			require.Equal(t, m.Role, all[i].Role)
			require.Equal(t, m.TurnNumber, all[i].TurnNumber)
			require.Equal(t, m.Content, all[i].Content)
			require.True(t, m.CreatedAt.Equal(all[i].CreatedAt), "message %d created %v, want %v", i, all[i].CreatedAt, m.CreatedAt)
		}
		page, total, err := s.ListMessages(ctx, "c1", 2, 1)
		require.NoError(t, err)
		require.Equal(t, 5, total)
		require.Len(t, page, 2)
		require.Equal(t, "m2", page[0].ID)
		require.Equal(t, "m3", page[1].ID)

		require.ErrorIs(t, s.AppendMessages(ctx, "nope", []store.Message{{ID: "m", Role: "user"}}), store.ErrNotFound)
		require.Error(t, s.AppendMessages(ctx, "c1", []store.Message{{Role: "user", Content: "no id"}}))
		none, total, err := s.ListMessages(ctx, "nope", 10, 0)
		require.NoError(t, err)
		require.Empty(t, none)
		require.Zero(t, total)
	})

	t.Run("deleting a case deletes its messages", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		require.NoError(t, s.CreateCase(ctx, store.Case{ID: "c1", Owner: "alice"}))
		require.NoError(t, s.CreateCase(ctx, store.Case{ID: "c2", Owner: "alice"}))
		require.NoError(t, s.AppendMessages(ctx, "c1", []store.Message{{ID: "m1", Role: "user", Content: "old"}, {ID: "m2", Role: "assistant"}}))
		require.NoError(t, s.AppendMessages(ctx, "c2", []store.Message{{ID: "k1", Role: "user", Content: "kept"}}))
		require.NoError(t, s.DeleteCase(ctx, "alice", "c1"))
		_, total, err := s.ListMessages(ctx, "c1", 0, 0)
		require.NoError(t, err)
		require.Zero(t, total)
		_, total, err = s.ListMessages(ctx, "c2", 0, 0)
		require.NoError(t, err)
		require.Equal(t, 1, total, "another case's messages stay")
		// A new case with the same id starts a fresh transcript.
		require.NoError(t, s.CreateCase(ctx, store.Case{ID: "c1", Owner: "bob"}))
		ms := []store.Message{{ID: "n1", Role: "user", Content: "new"}}
		require.NoError(t, s.AppendMessages(ctx, "c1", ms))
		require.EqualValues(t, 1, ms[0].Seq)
		got, _, err := s.ListMessages(ctx, "c1", 0, 0)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, "new", got[0].Content)
	})

	t.Run("concurrent appends to one case never collide", func(t *testing.T) {
		s, _, _ := open(t)
		ctx := t.Context()
		require.NoError(t, s.CreateCase(ctx, store.Case{ID: "c1", Owner: "alice"}))
		const writers, rounds = 6, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*rounds)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					pair := []store.Message{
						{ID: fmt.Sprintf("w%d-r%d-q", w, r), Role: "user", Content: "q"},
						{ID: fmt.Sprintf("w%d-r%d-a", w, r), Role: "assistant", Content: "a"},
					}
					if err := s.AppendMessages(ctx, "c1", pair); err != nil {
						errs <- err
						return
					}
					if pair[1].Seq != pair[0].Seq+1 {
						errs <- fmt.Errorf("pair %s got sequences %d and %d", pair[0].ID, pair[0].Seq, pair[1].Seq)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		all, total, err := s.ListMessages(ctx, "c1", 0, 0)
		require.NoError(t, err)
		require.Equal(t, writers*rounds*2, total)
		for i, m := range all {
			require.EqualValues(t, i+1, m.Seq, "sequences are 1..n without gaps")
			if i%2 == 1 {
				// An append's messages are consecutive: a question is
				// followed by its own answer.
				require.Equal(t, all[i-1].ID[:len(all[i-1].ID)-1]+"a", m.ID)
			}
		}
	})

	t.Run("idempotent responses: first writer wins", func(t *testing.T) {
		s, _, clk := open(t)
		ctx := t.Context()
		_, err := s.GetIdempotent(ctx, "alice", "k1")
		require.ErrorIs(t, err, store.ErrNotFound)
		first := store.IdempotentResponse{Owner: "alice", Key: "k1", Route: "POST /cases", Status: 201,
			Location: "/api/v1/cases/c1", Body: []byte(`{"case_id":"c1"}`)}
		require.NoError(t, s.PutIdempotent(ctx, first))
		require.NoError(t, s.PutIdempotent(ctx, store.IdempotentResponse{Owner: "alice", Key: "k1", Route: "POST /cases",
			Status: 500, Body: []byte(`{"later":true}`)}))
		got, err := s.GetIdempotent(ctx, "alice", "k1")
		require.NoError(t, err)
		require.Equal(t, first.Route, got.Route)
		require.Equal(t, 201, got.Status)
		require.Equal(t, first.Location, got.Location)
		require.Equal(t, first.Body, got.Body)
		require.True(t, got.CreatedAt.Equal(t0), "created %v", got.CreatedAt)
		_, err = s.GetIdempotent(ctx, "bob", "k1")
		require.ErrorIs(t, err, store.ErrNotFound, "keys are per owner")

		clk.Set(t0.Add(time.Hour))
		require.NoError(t, s.PutIdempotent(ctx, store.IdempotentResponse{Owner: "bob", Key: "k1", Route: "DELETE /cases/c9", Status: 204}))
		got, err = s.GetIdempotent(ctx, "bob", "k1")
		require.NoError(t, err)
		require.Equal(t, 204, got.Status)
		require.Empty(t, got.Body)

		n, err := s.DeleteIdempotentBefore(ctx, t0.Add(time.Minute))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = s.GetIdempotent(ctx, "alice", "k1")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.GetIdempotent(ctx, "bob", "k1")
		require.NoError(t, err)
	})

	if b.Dump != nil {
		t.Run("a dump never holds message or replay text", func(t *testing.T) {
			opts := b.Fresh(t)
			s := Open(t, opts, NewKeyring(t))
			ctx := t.Context()
			marker := uuid.NewString()
			title := "case title in clear " + uuid.NewString()
			require.NoError(t, s.CreateCase(ctx, store.Case{ID: "c1", Owner: "alice", Title: title}))
			require.NoError(t, s.AppendMessages(ctx, "c1", []store.Message{
				{ID: "m1", Role: "user", Content: "card holder " + marker + " cannot pay"}}))
			require.NoError(t, s.PutIdempotent(ctx, store.IdempotentResponse{Owner: "alice", Key: "k", Route: "POST /cases/c1/queries",
				Status: 200, Body: []byte(`{"answer":"` + marker + `"}`)}))
			ms, _, err := s.ListMessages(ctx, "c1", 0, 0)
			require.NoError(t, err)
			require.Contains(t, ms[0].Content, marker, "the marker must be readable through the store")
			dump := b.Dump(t, opts)
			require.True(t, bytes.Contains(dump, []byte(title)), "dump should hold case titles in clear: is it a real dump?")
			require.False(t, bytes.Contains(dump, []byte(marker)), "the dump contains the raw marker %s", marker)
		})
	}
}
