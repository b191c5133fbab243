package local_test

import (
	"testing"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/local"
)

func TestOpenPersistsInDataDir(t *testing.T) {
	dir := t.TempDir()
	svc, err := local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc := knowledge.Document{ID: "n1", Kind: knowledge.KindNote, Title: "Broker disk", Body: "kafka-broker-2 volume is 500 GiB."}
	if _, err := svc.Ingest(t.Context(), []knowledge.Document{doc}, nil); err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	svc, err = local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	hits, err := svc.Search(t.Context(), knowledge.Query{Text: "broker volume size"})
	if err != nil || len(hits) != 1 || hits[0].ID != "n1" {
		t.Fatalf("after reopen: %+v, %v", hits, err)
	}
	if _, err := local.Open("", local.Options{}); err == nil {
		t.Fatal("Open with an empty data dir succeeded")
	}
}
