package knowledge_test

import (
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/core/knowledge"
)

func FuzzParseRunbook(f *testing.F) {
	f.Add([]byte("---\nid: rb-x\ntitle: X\n---\n# X\n\n## Symptoms\n\nboom\n"))
	f.Add([]byte("---\nid: x\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := knowledge.ParseRunbook("fuzz.md", data)
		if err != nil {
			return
		}
		if verr := d.Validate(); verr != nil {
			t.Fatalf("ParseRunbook returned an invalid document: %v", verr)
		}
	})
}

func FuzzChunkMarkdown(f *testing.F) {
	f.Add("# T\n\nintro\n\n## A\n\n```\n# x\n```\n\n### B\n\ntext\n", 100)
	f.Add("~~~\n## not a heading\n~~~\n## H\nbody", 10)
	f.Fuzz(func(t *testing.T, body string, max int) {
		cs := knowledge.ChunkMarkdown(body, knowledge.ChunkOptions{MaxChars: max})
		for i, c := range cs {
			if c.Index != i {
				t.Fatalf("chunk %d has index %d", i, c.Index)
			}
			if strings.TrimSpace(c.Text) == "" {
				t.Fatalf("chunk %d is empty", i)
			}
		}
	})
}
