package knowledge_test

import (
	"context"
	"fmt"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/embedded"
)

func Example() {
	ctx := context.Background()
	emb, _ := embed.NewBuiltin(embed.DefaultBuiltinOptions())
	store, _ := embedded.Open("", embedded.DefaultOptions(emb.Dimensions())) // "" = in memory
	kb, _ := knowledge.New(knowledge.Options{Embedder: emb, Store: store})
	defer kb.Close()

	doc, _ := knowledge.ParseRunbook("rb-disk-full.md", []byte(`---
id: rb-disk-full
title: 'Disk full: No space left on device'
services: [linux, kafka]
tags: [disk]
symptoms: ['No space left on device']
---
# Disk full

## Symptoms

Writes fail with ENOSPC: No space left on device.

## Remediation

Free space or grow the volume.
`))
	if _, err := kb.Ingest(ctx, []knowledge.Document{doc}, nil); err != nil {
		fmt.Println(err)
		return
	}
	hits, _ := kb.Search(ctx, knowledge.Query{Text: "kafka broker: No space left on device", Limit: 1})
	fmt.Println(hits[0].ID, "/", hits[0].Heading)
	// Output: rb-disk-full / Symptoms
}
