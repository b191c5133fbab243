package knowledge

import (
	"strings"
)

// Chunk is a section of a document.
type Chunk struct {
	Index   int    `json:"index"`
	Heading string `json:"heading,omitempty"` // heading path, "Diagnosis steps" or "Setup > Step 2"
	Text    string `json:"text"`
}

// ChunkOptions configures Markdown chunking. The zero value works.
type ChunkOptions struct {
	// MaxChars splits sections longer than this at paragraph breaks
	// (default 1500).
	MaxChars int
	// MinChars merges a section shorter than this into the next one
	// (default 80), so that a lone heading does not become a chunk.
	MinChars int
}

func (o ChunkOptions) withDefaults() ChunkOptions {
	if o.MaxChars <= 0 {
		o.MaxChars = 1500
	}
	if o.MinChars <= 0 {
		o.MinChars = 80
	}
	return o
}

// ChunkMarkdown splits a Markdown body into chunks at ATX headings (#..###),
// never inside fenced code blocks (a "# comment" in a shell block is not a
// heading). Long sections are split at blank lines outside fences.
func ChunkMarkdown(body string, o ChunkOptions) []Chunk {
	o = o.withDefaults()
	type section struct {
		heading string
		lines   []string
	}
	var (
		secs    []section
		cur     section
		inFence bool
		fence   string
		path    [4]string
	)
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		trim := strings.TrimSpace(line)
		if f := fenceMarker(trim); f != "" {
			switch {
			case !inFence:
				inFence, fence = true, f
			case strings.HasPrefix(trim, fence) && strings.TrimSpace(strings.TrimLeft(trim, fence[:1])) == "":
				inFence = false
			}
		}
		if !inFence {
			if level, title := atxHeading(trim); level > 0 && level <= 3 {
				secs = append(secs, cur)
				path[level] = title
				for l := level + 1; l < len(path); l++ {
					path[l] = ""
				}
				var parts []string
				for l := 2; l <= 3; l++ { // the H1 is the title, carried separately
					if path[l] != "" {
						parts = append(parts, path[l])
					}
				}
				if level == 1 {
					parts = nil
				}
				cur = section{heading: strings.Join(parts, " > ")}
				continue
			}
		}
		cur.lines = append(cur.lines, line)
	}
	secs = append(secs, cur)

	var chunks []Chunk
	var carry string
	for i, s := range secs {
		text := strings.TrimSpace(strings.Join(s.lines, "\n"))
		if carry != "" {
			text = strings.TrimSpace(carry + "\n\n" + text)
			carry = ""
		}
		if text == "" {
			continue
		}
		if len(text) < o.MinChars && i < len(secs)-1 && s.heading == "" {
			carry = text
			continue
		}
		for _, part := range splitLong(text, o.MaxChars) {
			chunks = append(chunks, Chunk{Index: len(chunks), Heading: s.heading, Text: part})
		}
	}
	if carry != "" {
		chunks = append(chunks, Chunk{Index: len(chunks), Text: carry})
	}
	return chunks
}

func fenceMarker(trim string) string {
	for _, f := range []string{"```", "~~~"} {
		if strings.HasPrefix(trim, f) {
			return f
		}
	}
	return ""
}

func atxHeading(trim string) (int, string) {
	level := 0
	for level < len(trim) && trim[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || level >= len(trim) || trim[level] != ' ' {
		return 0, ""
	}
	return level, strings.TrimSpace(strings.TrimRight(trim[level:], "# "))
}

// splitLong splits text at blank lines outside fences into parts of at
// most max characters (a single paragraph longer than max stays whole).
func splitLong(text string, max int) []string {
	if len(text) <= max {
		return []string{text}
	}
	var paras []string
	var cur []string
	inFence := false
	for _, line := range strings.Split(text, "\n") {
		if fenceMarker(strings.TrimSpace(line)) != "" {
			inFence = !inFence
		}
		if strings.TrimSpace(line) == "" && !inFence {
			if len(cur) > 0 {
				paras = append(paras, strings.Join(cur, "\n"))
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		paras = append(paras, strings.Join(cur, "\n"))
	}
	var out []string
	var b strings.Builder
	for _, p := range paras {
		if b.Len() > 0 && b.Len()+2+len(p) > max {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(p)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
