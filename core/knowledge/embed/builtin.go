package embed

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
)

// BuiltinOptions configures the builtin embedder. The zero value works.
type BuiltinOptions struct {
	// Dimensions of the output vectors (default 384).
	Dimensions int
	// Weights of the feature families (defaults: words 1, bigrams 0.6,
	// character n-grams 0.35).
	WordWeight, BigramWeight, CharWeight float64
	// CharNGramMin and CharNGramMax bound the character n-gram lengths
	// (defaults 3 and 5).
	CharNGramMin, CharNGramMax int
}

// DefaultBuiltinOptions returns the defaults.
func DefaultBuiltinOptions() BuiltinOptions {
	return BuiltinOptions{Dimensions: 384, WordWeight: 1, BigramWeight: 0.6, CharWeight: 0.35, CharNGramMin: 3, CharNGramMax: 5}
}

// Builtin is the deterministic feature-hashing embedder.
//
// Why these features: whole words carry the meaning, bigrams keep short
// phrases ("connection refused", "disk full") apart from the same words
// scattered in a text, and character n-grams make variants meet
// ("hikaricp"/"hikari", "OOMKilled"/"oom killed") without a vocabulary.
// Term frequency is damped (1 + ln tf) so that one repeated word cannot
// dominate a chunk.
type Builtin struct {
	o BuiltinOptions
}

var _ Embedder = (*Builtin)(nil)

// NewBuiltin returns a builtin embedder.
func NewBuiltin(o BuiltinOptions) (*Builtin, error) {
	d := DefaultBuiltinOptions()
	if o.Dimensions == 0 {
		o.Dimensions = d.Dimensions
	}
	if o.WordWeight == 0 && o.BigramWeight == 0 && o.CharWeight == 0 {
		o.WordWeight, o.BigramWeight, o.CharWeight = d.WordWeight, d.BigramWeight, d.CharWeight
	}
	if o.CharNGramMin == 0 {
		o.CharNGramMin = d.CharNGramMin
	}
	if o.CharNGramMax == 0 {
		o.CharNGramMax = d.CharNGramMax
	}
	if o.Dimensions < 8 {
		return nil, fmt.Errorf("embed: builtin dimensions %d: want >= 8", o.Dimensions)
	}
	if o.CharNGramMin < 1 || o.CharNGramMax < o.CharNGramMin {
		return nil, fmt.Errorf("embed: builtin character n-gram range [%d,%d] is invalid", o.CharNGramMin, o.CharNGramMax)
	}
	if o.WordWeight < 0 || o.BigramWeight < 0 || o.CharWeight < 0 {
		return nil, fmt.Errorf("embed: builtin weights must not be negative")
	}
	return &Builtin{o: o}, nil
}

// Name implements Embedder; it encodes the parameters, since two builtin
// embedders with other parameters make incompatible vectors.
func (b *Builtin) Name() string {
	return fmt.Sprintf("builtin-v1-d%d-w%g-b%g-c%g-n%d-%d", b.o.Dimensions, b.o.WordWeight, b.o.BigramWeight, b.o.CharWeight, b.o.CharNGramMin, b.o.CharNGramMax)
}

// Dimensions implements Embedder.
func (b *Builtin) Dimensions() int { return b.o.Dimensions }

// Embed implements Embedder.
func (b *Builtin) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = b.EmbedOne(t)
	}
	return out, nil
}

// EmbedOne embeds a single text.
func (b *Builtin) EmbedOne(text string) []float32 {
	toks := Tokens(text)
	type feat struct {
		w float64
		n int
	}
	feats := map[string]feat{}
	add := func(key string, w float64) {
		f := feats[key]
		f.w += w
		f.n++
		feats[key] = f
	}
	for i, t := range toks {
		add("w:"+t, b.o.WordWeight)
		if i > 0 && b.o.BigramWeight > 0 {
			add("b:"+toks[i-1]+" "+t, b.o.BigramWeight)
		}
		if b.o.CharWeight > 0 && t[0] != '<' {
			grams := charNGrams(t, b.o.CharNGramMin, b.o.CharNGramMax)
			if len(grams) > 0 {
				// A word's n-grams share its weight, so long words do
				// not outweigh short ones.
				w := b.o.CharWeight / math.Sqrt(float64(len(grams)))
				for _, g := range grams {
					add("c:"+g, w)
				}
			}
		}
	}
	v := make([]float64, b.o.Dimensions)
	for key, f := range feats {
		h := fnv.New64a()
		h.Write([]byte(key))
		x := h.Sum64()
		idx := int(x % uint64(b.o.Dimensions))
		sign := 1.0
		if x>>63 == 1 {
			sign = -1
		}
		// Sublinear damping of repeated features: mean weight x (1 + ln n).
		v[idx] += sign * f.w / float64(f.n) * (1 + math.Log(float64(f.n)))
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, len(v))
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

func charNGrams(w string, lo, hi int) []string {
	s := "^" + w + "$"
	rs := []rune(s)
	var out []string
	for n := lo; n <= hi; n++ {
		for i := 0; i+n <= len(rs); i++ {
			out = append(out, string(rs[i:i+n]))
		}
	}
	return out
}
