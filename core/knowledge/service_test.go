package knowledge_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/vector"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/embedded"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/qdrantstore"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/qdrantstore/qdranttest"
)

func corpus() []knowledge.Document {
	rb := func(id, title, body string, services ...string) knowledge.Document {
		return knowledge.Document{ID: id, Kind: knowledge.KindRunbook, Title: title, Body: body, Metadata: knowledge.Metadata{Services: services}}
	}
	return []knowledge.Document{
		rb("rb-disk", "Disk full: No space left on device", "## Symptoms\n\nENOSPC, writes fail, no space left on device.\n\n## Remediation\n\nFree space, expand the volume.", "linux", "kafka"),
		rb("rb-tls", "TLS certificate expired", "## Symptoms\n\nx509: certificate has expired or is not yet valid. Handshake failures.\n\n## Remediation\n\nRenew with cert-manager.", "cert-manager"),
		rb("rb-pool", "Database connection pool exhausted", "## Symptoms\n\nHikariPool Connection is not available, request timed out. Requests hang then 504.\n\n## Related runbooks\n\nUse rb-disk when no space left on device.", "java-spring"),
	}
}

type storeKind struct {
	name string
	open func(t *testing.T, dims int) vector.Store
}

func storeKinds() []storeKind {
	return []storeKind{
		{"embedded", func(t *testing.T, dims int) vector.Store {
			s, err := embedded.Open("", embedded.DefaultOptions(dims))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"qdrant stand-in", func(t *testing.T, dims int) vector.Store {
			_, host, port := qdranttest.Start(t)
			s, err := qdrantstore.Open(t.Context(), qdrantstore.Options{Host: host, Port: port, Collection: "kb", Dimensions: dims})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
}

func newService(t *testing.T, st vector.Store, dir string, now func() time.Time) *knowledge.Service {
	t.Helper()
	emb, err := embed.NewBuiltin(embed.BuiltinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := knowledge.New(knowledge.Options{Embedder: emb, Store: st, Dir: dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestServiceOnEachStore(t *testing.T) {
	for _, sk := range storeKinds() {
		t.Run(sk.name, func(t *testing.T) {
			svc := newService(t, sk.open(t, 384), "", nil)
			defer svc.Close()
			st, err := svc.Ingest(t.Context(), corpus(), nil)
			if err != nil || st.Documents != 3 {
				t.Fatalf("Ingest = %+v, %v", st, err)
			}

			t.Run("finds the runbook by its symptom, with the matched chunk", func(t *testing.T) {
				cases := map[string]string{
					"writes fail with No space left on device":             "rb-disk",
					"x509: certificate has expired":                        "rb-tls",
					"HikariPool-1 - Connection is not available after 30s": "rb-pool",
				}
				for q, want := range cases {
					hits, err := svc.Search(t.Context(), knowledge.Query{Text: q, Limit: 3})
					if err != nil {
						t.Fatal(err)
					}
					if len(hits) == 0 || hits[0].ID != want {
						t.Fatalf("%q: top hit %v, want %s", q, hits, want)
					}
					if hits[0].Chunk == "" || hits[0].Score <= 0 {
						t.Fatalf("%q: hit without chunk or score: %+v", q, hits[0])
					}
				}
			})

			t.Run("tenant isolation: incidents and findings stay in their cluster", func(t *testing.T) {
				var docs []knowledge.Document
				for _, c := range []string{"prod-a", "prod-b"} {
					for i := range 5 {
						docs = append(docs, knowledge.Document{
							ID: fmt.Sprintf("inc-%s-%d", c, i), Kind: knowledge.KindIncident, Title: "Disk full on broker",
							Body: "No space left on device on kafka-broker; writes failed.", Metadata: knowledge.Metadata{Cluster: c},
						})
					}
				}
				if _, err := svc.Ingest(t.Context(), docs, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.IngestFindings(t.Context(), []knowledge.Finding{{Cluster: "prod-b", Service: "kafka-broker-2", Template: "No space left on device"}}); err != nil {
					t.Fatal(err)
				}
				for _, tc := range []struct{ cluster, forbidden string }{{"prod-a", "prod-b"}, {"prod-b", "prod-a"}, {"", "prod-"}} {
					hits, err := svc.Search(t.Context(), knowledge.Query{Text: "no space left on device", Cluster: tc.cluster, Limit: 100})
					if err != nil {
						t.Fatal(err)
					}
					if len(hits) == 0 {
						t.Fatalf("cluster %q: no hits", tc.cluster)
					}
					for _, h := range hits {
						if h.Cluster != "" && h.Cluster != tc.cluster {
							t.Fatalf("search for cluster %q returned %s of cluster %q", tc.cluster, h.ID, h.Cluster)
						}
					}
				}
			})

			t.Run("replace and delete", func(t *testing.T) {
				d := corpus()[1]
				d.Body = "## Symptoms\n\nCompletely different text about penguins."
				if _, err := svc.Ingest(t.Context(), []knowledge.Document{d}, nil); err != nil {
					t.Fatal(err)
				}
				hits, _ := svc.Search(t.Context(), knowledge.Query{Text: "penguins", Limit: 1})
				if len(hits) == 0 || hits[0].ID != "rb-tls" || hits[0].Chunk != "Completely different text about penguins." {
					t.Fatalf("after replace: %+v", hits)
				}
				if err := svc.Delete(t.Context(), "rb-tls"); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.Get("rb-tls"); !errors.Is(err, knowledge.ErrNotFound) {
					t.Fatalf("Get after delete: %v", err)
				}
				hits, _ = svc.Search(t.Context(), knowledge.Query{Text: "penguins certificate", Limit: 10})
				for _, h := range hits {
					if h.ID == "rb-tls" {
						t.Fatal("deleted document still found")
					}
				}
			})
		})
	}
}

func TestServiceRejectsBadInput(t *testing.T) {
	svc := newService(t, storeKinds()[0].open(t, 384), "", nil)
	defer svc.Close()
	bad := []knowledge.Document{
		{ID: "", Kind: knowledge.KindNote, Title: "t", Body: "b"},
		{ID: "a b", Kind: knowledge.KindNote, Title: "t", Body: "b"},
		{ID: "x", Kind: "poem", Title: "t", Body: "b"},
		{ID: "x", Kind: knowledge.KindIncident, Title: "t", Body: "b"},
		{ID: "x", Kind: knowledge.KindNote, Title: "t", Body: "b", Metadata: knowledge.Metadata{Cluster: "Prod A"}},
	}
	for i, d := range bad {
		if _, err := svc.Ingest(t.Context(), []knowledge.Document{d}, nil); !errors.Is(err, knowledge.ErrInvalid) {
			t.Fatalf("case %d: err = %v, want ErrInvalid", i, err)
		}
	}
	for _, q := range []knowledge.Query{{Text: ""}, {Text: "x", Limit: 101}, {Text: "x", Cluster: "A B"}, {Text: "x", Kinds: []knowledge.Kind{"poem"}}} {
		if _, err := svc.Search(t.Context(), q); !errors.Is(err, knowledge.ErrInvalid) {
			t.Fatalf("Search(%+v): err = %v, want ErrInvalid", q, err)
		}
	}
}

func TestFreshnessBoostsRecentIncidents(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	svc := newService(t, storeKinds()[0].open(t, 384), "", func() time.Time { return now })
	defer svc.Close()
	mk := func(id string, age time.Duration) knowledge.Document {
		return knowledge.Document{ID: id, Kind: knowledge.KindIncident, Title: "Disk full", Body: "No space left on device.",
			Metadata: knowledge.Metadata{Cluster: "prod", UpdatedAt: now.Add(-age)}}
	}
	if _, err := svc.Ingest(t.Context(), []knowledge.Document{mk("old", 365*24*time.Hour), mk("new", time.Hour)}, nil); err != nil {
		t.Fatal(err)
	}
	hits, err := svc.Search(t.Context(), knowledge.Query{Text: "no space left", Cluster: "prod"})
	if err != nil || len(hits) != 2 || hits[0].ID != "new" {
		t.Fatalf("hits = %+v, %v; want the recent incident first", hits, err)
	}
}

func TestServiceRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *knowledge.Service {
		emb, _ := embed.NewBuiltin(embed.BuiltinOptions{})
		st, err := embedded.Open(filepath.Join(dir, "vectors"), embedded.DefaultOptions(emb.Dimensions()))
		if err != nil {
			t.Fatal(err)
		}
		svc, err := knowledge.New(knowledge.Options{Embedder: emb, Store: st, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	svc := open()
	if _, err := svc.Ingest(t.Context(), corpus(), nil); err != nil {
		t.Fatal(err)
	}
	q := knowledge.Query{Text: "requests hang then 504, connection not available", Limit: 3}
	before, err := svc.Search(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	svc = open()
	defer svc.Close()
	after, err := svc.Search(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("results differ after restart:\nbefore %+v\nafter  %+v", before, after)
	}

	t.Run("another embedder is refused", func(t *testing.T) {
		emb, _ := embed.NewBuiltin(embed.BuiltinOptions{Dimensions: 384, CharWeight: 0.9, WordWeight: 1, BigramWeight: 0.6})
		st, _ := embedded.Open("", embedded.DefaultOptions(384))
		if _, err := knowledge.New(knowledge.Options{Embedder: emb, Store: st, Dir: dir}); !errors.Is(err, knowledge.ErrEmbedderChanged) {
			t.Fatalf("err = %v, want ErrEmbedderChanged", err)
		}
	})
}

func TestFindingDocument(t *testing.T) {
	f := knowledge.Finding{Cluster: "prod", Service: "orders-api", Template: "Connection is not available <num>ms", Explanation: "pool exhausted",
		FirstSeen: time.Date(2024, 3, 5, 13, 32, 7, 0, time.UTC), LastSeen: time.Date(2024, 3, 5, 13, 50, 0, 0, time.UTC)}
	d, err := knowledge.FindingDocument(f)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := knowledge.FindingDocument(f)
	if d.ID != d2.ID || d.Kind != knowledge.KindFinding || d.Metadata.Cluster != "prod" || d.Metadata.Services[0] != "orders-api" {
		t.Fatalf("finding document = %+v", d)
	}
	f.Cluster = "other"
	d3, _ := knowledge.FindingDocument(f)
	if d3.ID == d.ID {
		t.Fatal("same id for findings of two clusters")
	}
	if _, err := knowledge.FindingDocument(knowledge.Finding{Template: "x"}); err == nil {
		t.Fatal("finding without cluster accepted")
	}
}

func TestBoosts(t *testing.T) {
	svc := newService(t, storeKinds()[0].open(t, 384), "", nil)
	defer svc.Close()
	body := "## Symptoms\n\nConsumers fall behind and lag grows."
	docs := []knowledge.Document{
		{ID: "a-generic", Kind: knowledge.KindRunbook, Title: "Consumer lag", Body: body, Metadata: knowledge.Metadata{Services: []string{"any"}}},
		{ID: "b-kafka", Kind: knowledge.KindRunbook, Title: "Consumer lag", Body: body, Metadata: knowledge.Metadata{Services: []string{"kafka"}}},
		{ID: "c-verified", Kind: knowledge.KindRunbook, Title: "Consumer lag", Body: body, Metadata: knowledge.Metadata{Verified: true}},
	}
	if _, err := svc.Ingest(t.Context(), docs, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		q    knowledge.Query
		want string
	}{
		{"service named in the question", knowledge.Query{Text: "kafka consumers fall behind"}, "b-kafka"},
		{"service given with the query", knowledge.Query{Text: "consumers fall behind", Services: []string{"kafka"}}, "b-kafka"},
		{"verified runbook wins a tie", knowledge.Query{Text: "consumers fall behind"}, "c-verified"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := svc.Search(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 3 || hits[0].ID != tc.want || hits[0].Boost <= 1 {
				t.Fatalf("hits = %+v, want %s first with a boost", hits, tc.want)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	emb, _ := embed.NewBuiltin(embed.BuiltinOptions{})
	st, _ := embedded.Open("", embedded.DefaultOptions(emb.Dimensions()))
	svc, err := knowledge.New(knowledge.Options{Embedder: emb, Store: st, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	st2, err := svc.Ingest(t.Context(), corpus(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Search(t.Context(), knowledge.Query{Text: "disk full"}); err != nil {
		t.Fatal(err)
	}
	_, _ = svc.Search(t.Context(), knowledge.Query{Text: ""})
	got := gather(t, reg)
	want := map[string]float64{
		`faultmaven_knowledge_searches_total{outcome="ok"}`:          1,
		`faultmaven_knowledge_searches_total{outcome="invalid"}`:     1,
		`faultmaven_knowledge_chunks_ingested_total{kind="runbook"}`: float64(st2.Chunks),
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

// gather flattens counters into "name{label="value"}" -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetCounter() == nil {
				continue
			}
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestSearchDropsPointsUnknownToTheCatalog(t *testing.T) {
	emb, _ := embed.NewBuiltin(embed.BuiltinOptions{})
	st, _ := embedded.Open("", embedded.DefaultOptions(emb.Dimensions()))
	svc, err := knowledge.New(knowledge.Options{Embedder: emb, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.Ingest(t.Context(), corpus(), nil); err != nil {
		t.Fatal(err)
	}
	// A point left in the store by a delete that never reached it.
	vecs, _ := emb.Embed(t.Context(), []string{"no space left on device"})
	ghost := vector.Point{ID: vector.PointID("ghost", 0), Vector: vecs[0], Payload: vector.Payload{DocID: "ghost", Kind: "runbook", Title: "ghost", Text: "no space left on device"}}
	if err := st.Upsert(t.Context(), []vector.Point{ghost}); err != nil {
		t.Fatal(err)
	}
	hits, err := svc.Search(t.Context(), knowledge.Query{Text: "no space left on device", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.ID == "ghost" {
			t.Fatal("search returned a point whose document is not in the catalog")
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	svc := newService(t, storeKinds()[0].open(t, 384), t.TempDir(), nil)
	defer svc.Close()
	if _, err := svc.Ingest(t.Context(), corpus(), nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 4)
	for w := range 3 {
		go func() {
			for i := range 20 {
				if _, err := svc.Search(t.Context(), knowledge.Query{Text: fmt.Sprintf("no space left %d %d", w, i)}); err != nil {
					done <- err
					return
				}
				svc.List(knowledge.ListOptions{AllClusters: true})
			}
			done <- nil
		}()
	}
	go func() {
		for i := range 10 {
			d := knowledge.Document{ID: fmt.Sprintf("n%d", i), Kind: knowledge.KindNote, Title: "note", Body: "disk filled again"}
			if _, err := svc.Ingest(t.Context(), []knowledge.Document{d}, nil); err != nil {
				done <- err
				return
			}
			if i%2 == 0 {
				if err := svc.Delete(t.Context(), d.ID); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got := len(svc.List(knowledge.ListOptions{Kind: knowledge.KindNote})); got != 5 {
		t.Fatalf("%d notes left, want 5", got)
	}
}
