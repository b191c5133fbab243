package drain

import (
	"container/list"
	"hash/fnv"
	"hash/maphash"
	"strconv"
	"strings"
)

// Config tunes a Miner. The zero value works.
type Config struct {
	// SimThreshold is the share of a template's constant tokens a line must
	// repeat to join it. 0 means 0.5.
	SimThreshold float64
	// MaxClusters caps live templates; the least recently used is evicted
	// beyond it. 0 means 10,000.
	MaxClusters int
	// MaxTokens: longer lines are mined on their first MaxTokens tokens.
	// 0 means 256.
	MaxTokens int
	// MergeSiblings: when this many templates differ only in one ordinary
	// word, that word is a variable and they merge (see siblings.go).
	// 0 means 5; 1 or less disables merging.
	MergeSiblings int
	// KeepAliases remembers merged cluster ids for Resolve. Batch parsing
	// needs it; a long-lived stream should not grow the map.
	KeepAliases bool
}

// Cluster is one template: its tokens (Wildcard for variables) and how many
// lines joined it.
type Cluster struct {
	ID     int
	Tokens []string
	Count  int64

	key   bucketKey
	elem  *list.Element
	flags []uint8  // tokenFlags of each token
	own   uint64   // shape hash (sibling index)
	sibs  []uint64 // one-word-blanked shape hashes
}

// Template joins the tokens with single spaces.
func (c *Cluster) Template() string { return strings.Join(c.Tokens, " ") }

// Miner groups lines into templates online, in the manner of Drain (He et
// al., ICWS 2017): lines are routed by token count and first token, then
// joined to the most similar template whose constant tokens they mostly
// repeat. Unlike Drain, two ordinary words that differ in the same place
// ("VM Started" / "VM Paused") never merge: only value-like tokens (those
// with digits, paths, lists, key=value) become variables, which is what lets
// one similarity threshold serve every log format.
//
// A Miner is not safe for concurrent use; the caller serializes.
type Miner struct {
	cfg     Config
	buckets map[bucketKey][]*Cluster
	live    map[int]*Cluster
	lru     *list.List
	nextID  int
	lflags  []uint8
	own     map[uint64][]*Cluster
	sib     map[uint64][]*Cluster
	alias   map[int]int
	seed    maphash.Seed
	// OnEvict, when set, is called for each evicted cluster.
	OnEvict func(*Cluster)
	// OnMerge, when set, is called when cluster from is merged into to.
	OnMerge func(from, to *Cluster)
}

// bucketKey routes lines: token count and the first two tokens when they
// are ordinary words (else Wildcard). Routing on words loses nothing, since
// lines whose words differ never share a template anyway; it keeps the
// candidate lists short when the first token is a variable.
type bucketKey struct {
	n             int
	first, second string
}

// New returns an empty Miner.
func New(cfg Config) *Miner {
	if cfg.SimThreshold <= 0 || cfg.SimThreshold > 1 {
		cfg.SimThreshold = 0.5
	}
	if cfg.MaxClusters <= 0 {
		cfg.MaxClusters = 10000
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 256
	}
	if cfg.MergeSiblings == 0 {
		cfg.MergeSiblings = 5
	}
	return &Miner{cfg: cfg, buckets: map[bucketKey][]*Cluster{}, live: map[int]*Cluster{}, lru: list.New(), nextID: 1,
		own: map[uint64][]*Cluster{}, sib: map[uint64][]*Cluster{}, alias: map[int]int{}, seed: maphash.MakeSeed()}
}

// Len is the number of live templates.
func (m *Miner) Len() int { return len(m.live) }

// Cluster returns a live cluster by id, or nil.
func (m *Miner) Cluster(id int) *Cluster { return m.live[id] }

// Clusters returns the live clusters, most recently used first.
func (m *Miner) Clusters() []*Cluster {
	out := make([]*Cluster, 0, len(m.live))
	for e := m.lru.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*Cluster))
	}
	return out
}

// Add mines one line given as masked tokens (see Tokenize) and returns its
// cluster and whether the cluster's template changed. The miner keeps its
// own copy of tokens.
func (m *Miner) Add(masked []string) (*Cluster, bool) {
	if len(masked) > m.cfg.MaxTokens {
		masked = masked[:m.cfg.MaxTokens]
	}
	key := routeKey(masked)
	cands := m.buckets[key]
	m.lflags = m.lflags[:0]
	for _, t := range masked {
		m.lflags = append(m.lflags, tokenFlags(t))
	}
	var best *Cluster
	bestSim, bestEq := -1.0, -1
	for _, c := range cands {
		sim, eq, ok := similarity(c, masked, m.lflags)
		if !ok {
			continue
		}
		if sim > bestSim || sim == bestSim && eq > bestEq {
			best, bestSim, bestEq = c, sim, eq
		}
	}
	if best != nil && bestSim >= m.cfg.SimThreshold {
		best.Count++
		m.lru.MoveToFront(best.elem)
		changed, reshaped := false, false
		for i, t := range best.Tokens {
			if t != masked[i] && t != Wildcard {
				reshaped = reshaped || best.flags[i]&(fWord|fDeco|fSkel) != 0
				best.Tokens[i] = Wildcard
				best.flags[i] = fWild
				changed = true
			}
		}
		if reshaped {
			m.reshape(best)
		}
		return best, changed
	}
	if c, ok := m.siblingJoin(masked); ok {
		return c, true
	}
	c := &Cluster{ID: m.nextID, Tokens: cloneTokens(masked), Count: 1}
	m.nextID++
	m.insert(c, key)
	// A value where earlier templates had words ("domain root3_domain" after
	// "domain root_domain") folds them in, even across routing buckets.
	m.reshape(c)
	return c, true
}

func (m *Miner) insert(c *Cluster, key bucketKey) {
	c.key = key
	c.flags = make([]uint8, len(c.Tokens))
	for i, t := range c.Tokens {
		c.flags[i] = tokenFlags(t)
	}
	m.buckets[key] = append(m.buckets[key], c)
	m.live[c.ID] = c
	c.elem = m.lru.PushFront(c)
	m.index(c)
	for len(m.live) > m.cfg.MaxClusters {
		old := m.lru.Back().Value.(*Cluster)
		m.remove(old)
		if m.OnEvict != nil {
			m.OnEvict(old)
		}
	}
}

func (m *Miner) remove(c *Cluster) {
	m.unbucket(c)
	m.unindex(c)
	delete(m.live, c.ID)
	m.lru.Remove(c.elem)
}

func (m *Miner) unbucket(c *Cluster) {
	key := c.key
	list := drop(m.buckets[key], c)
	if len(list) == 0 {
		delete(m.buckets, key)
	} else {
		m.buckets[key] = list
	}
}

// Restore re-inserts a saved cluster (from a snapshot) with its id and
// count. Ids above every restored id are used for new clusters.
func (m *Miner) Restore(id int, tokens []string, count int64) *Cluster {
	if old := m.live[id]; old != nil {
		m.remove(old)
	}
	c := &Cluster{ID: id, Tokens: cloneTokens(tokens), Count: count}
	if id >= m.nextID {
		m.nextID = id + 1
	}
	m.insert(c, routeKey(c.Tokens))
	return c
}

func cloneTokens(t []string) []string {
	out := make([]string, len(t))
	for i, s := range t {
		out[i] = strings.Clone(s)
	}
	return out
}

func routeKey(masked []string) bucketKey {
	k := bucketKey{n: len(masked), first: Wildcard, second: Wildcard}
	if len(masked) > 0 && wordLike(masked[0]) {
		k.first = masked[0]
	}
	if len(masked) > 1 && wordLike(masked[1]) {
		k.second = masked[1]
	}
	return k
}

// Token flags, computed once per token.
const (
	fWord uint8 = 1 << iota // wordLike
	fDeco                   // decorative
	fSkel                   // holds a wildcard next to letters
	fWild                   // exactly Wildcard
)

func tokenFlags(t string) uint8 {
	if t == Wildcard {
		return fWild
	}
	var f uint8
	if wordLike(t) {
		f |= fWord
	}
	if decorative(t) {
		f |= fDeco
	}
	if strings.Contains(t, Wildcard) && hasLetter(t) { // the wildcard has no letters
		f |= fSkel
	}
	return f
}

// similarity compares a template with a line of the same length. ok is
// false when an ordinary word differs (a different message); sim is the
// share of the template's constant tokens the line repeats.
func similarity(c *Cluster, line []string, lf []uint8) (sim float64, eq int, ok bool) {
	consts := 0
	for i, t := range c.Tokens {
		tf := c.flags[i]
		if tf == fWild {
			continue
		}
		consts++
		if t == line[i] {
			eq++
			continue
		}
		f := lf[i]
		if tf&f&fWord != 0 || (tf|f)&fDeco != 0 || tf&f&fSkel != 0 && skeletonDiffers(t, line[i]) {
			return 0, 0, false
		}
	}
	if consts == 0 {
		return 1, 0, true
	}
	return float64(eq) / float64(consts), eq, true
}

// ID derives a short, stable id from a template string: the same template
// gets the same id in every process and after a restart.
func ID(template string) string {
	h := fnv.New64a()
	h.Write([]byte(template))
	s := strconv.FormatUint(h.Sum64(), 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return "t" + s[:12]
}

// Params returns the parts of the original tokens that the template's
// wildcards stand for, in order.
func Params(tmpl, orig []string) []string {
	var out []string
	for i, t := range tmpl {
		if i >= len(orig) {
			break
		}
		if !strings.Contains(t, Wildcard) {
			continue
		}
		if t == Wildcard {
			out = append(out, orig[i])
			continue
		}
		out = append(out, matchParts(t, orig[i])...)
	}
	return out
}

// matchParts aligns a token pattern such as "node-<*>" or "<*>:<*>" with its
// original text and returns the wildcard parts. On a mismatch it returns
// the whole original token.
func matchParts(pat, s string) []string {
	parts := strings.Split(pat, Wildcard)
	if !strings.HasPrefix(s, parts[0]) {
		return []string{s}
	}
	pos := len(parts[0])
	var out []string
	for k := 1; k < len(parts); k++ {
		lit := parts[k]
		var end int
		if lit == "" {
			if k == len(parts)-1 {
				end = len(s)
			} else {
				end = pos
			}
		} else if k == len(parts)-1 {
			if !strings.HasSuffix(s, lit) || len(s)-len(lit) < pos {
				return []string{s}
			}
			end = len(s) - len(lit)
		} else {
			j := strings.Index(s[pos:], lit)
			if j < 0 {
				return []string{s}
			}
			end = pos + j
		}
		out = append(out, s[pos:end])
		pos = end + len(lit)
	}
	return out
}
