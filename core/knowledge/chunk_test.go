package knowledge_test

import (
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/core/knowledge"
)

func TestChunkMarkdown(t *testing.T) {
	body := "# Title\n\nIntro paragraph that is long enough to be a chunk of its own, more than eighty characters.\n\n" +
		"## Symptoms\n\n- errors\n\n## Diagnosis\n\n```bash\n# not a heading\nkubectl get pods\n```\n\n### Step 2\n\nCheck the logs.\n"
	cs := knowledge.ChunkMarkdown(body, knowledge.ChunkOptions{})
	var headings []string
	for _, c := range cs {
		headings = append(headings, c.Heading)
	}
	want := []string{"", "Symptoms", "Diagnosis", "Diagnosis > Step 2"}
	if strings.Join(headings, "|") != strings.Join(want, "|") {
		t.Fatalf("headings = %q, want %q", headings, want)
	}
	if !strings.Contains(cs[2].Text, "# not a heading") {
		t.Fatalf("fenced comment was treated as a heading: %q", cs[2].Text)
	}
	for i, c := range cs {
		if c.Index != i {
			t.Fatalf("chunk %d has index %d", i, c.Index)
		}
	}

	t.Run("long sections split at paragraphs", func(t *testing.T) {
		long := "## Big\n\n" + strings.Repeat("word ", 100) + "\n\n" + strings.Repeat("more ", 100)
		cs := knowledge.ChunkMarkdown(long, knowledge.ChunkOptions{MaxChars: 600})
		if len(cs) != 2 || cs[1].Heading != "Big" {
			t.Fatalf("got %d chunks (%+v), want 2 under Big", len(cs), cs)
		}
	})
}

func TestParseRunbook(t *testing.T) {
	good := "---\nid: 'rb-x'\ntitle: 'X breaks'\nservices: ['svc']\ntags: ['t']\nsymptoms:\n  - 'boom'\n---\n\n# X breaks\n\nBody.\n"
	cases := []struct {
		name, in, wantErr string
	}{
		{"good", good, ""},
		{"no front matter", "# hi\n", "no YAML front matter"},
		{"unclosed", "---\nid: x\n", "not closed"},
		{"unknown key", "---\nid: x\ntitle: t\nowner: me\n---\nbody\n", "owner"},
		{"missing title", "---\nid: x\n---\nbody\n", "title"},
		{"empty body", "---\nid: x\ntitle: t\n---\n", "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := knowledge.ParseRunbook("test.md", []byte(tc.in))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.ID != "rb-x" || d.Kind != knowledge.KindRunbook || d.Metadata.Symptoms[0] != "boom" || d.Metadata.Source != "test.md" {
					t.Fatalf("parsed %+v", d)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}
