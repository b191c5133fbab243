package drain

import "hash/maphash"

// Sibling merging. The word rule in similarity keeps "VM Started" apart
// from "VM Paused", which is right for a handful of states but wrong for
// word-valued variables such as user names ("Invalid user admin from <*>",
// "Invalid user oracle from <*>"). So templates that are identical except
// for one ordinary word are indexed by their shape with that word blanked;
// when Config.MergeSiblings of them exist and the word looks like a value
// (many distinct words, each seen a few times: see variableWord), they
// merge into one template with <*> there. Later lines with yet another word
// join the merged template directly.

// maxSiblingTokens bounds the (quadratic) sibling lookup to ordinary
// message lengths.
const maxSiblingTokens = 64

// shapeTok is token i as the sibling index sees it: words and markers as
// they are, values as Wildcard, position p blanked.
func shapeTok(tok string, f uint8, i, p int) string {
	if i == p || f&(fWord|fDeco|fSkel) == 0 {
		return Wildcard
	}
	return tok
}

func (m *Miner) shapeHash(toks []string, flags []uint8, p int) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	var n [1]byte
	n[0] = byte(len(toks))
	h.Write(n[:])
	for i, t := range toks {
		h.WriteString(shapeTok(t, flags[i], i, p))
		h.WriteByte(0)
	}
	return h.Sum64()
}

func shapeEqual(c *Cluster, toks []string, flags []uint8, p int) bool {
	if len(c.Tokens) != len(toks) {
		return false
	}
	for i, t := range toks {
		if shapeTok(c.Tokens[i], c.flags[i], i, -1) != shapeTok(t, flags[i], i, p) {
			return false
		}
	}
	return true
}

func siblingEqual(c *Cluster, toks []string, flags []uint8, p int) bool {
	if len(c.Tokens) != len(toks) || c.flags[p]&fWord == 0 {
		return false
	}
	for i, t := range toks {
		if shapeTok(c.Tokens[i], c.flags[i], i, p) != shapeTok(t, flags[i], i, p) {
			return false
		}
	}
	return true
}

func (m *Miner) siblingsOn() bool { return m.cfg.MergeSiblings > 1 }

// index adds c under its own shape and under each one-word-blanked shape.
func (m *Miner) index(c *Cluster) {
	if !m.siblingsOn() || len(c.Tokens) < 3 || len(c.Tokens) > maxSiblingTokens {
		return
	}
	c.own = m.shapeHash(c.Tokens, c.flags, -1)
	m.own[c.own] = append(m.own[c.own], c)
	c.sibs = c.sibs[:0]
	for p := range c.flags {
		if !variableSlot(c.Tokens, c.flags, p) {
			continue
		}
		h := m.shapeHash(c.Tokens, c.flags, p)
		m.sib[h] = append(m.sib[h], c)
		c.sibs = append(c.sibs, h)
	}
}

func (m *Miner) unindex(c *Cluster) {
	if c.own == 0 && len(c.sibs) == 0 {
		return
	}
	m.own[c.own] = drop(m.own[c.own], c)
	if len(m.own[c.own]) == 0 {
		delete(m.own, c.own)
	}
	for _, h := range c.sibs {
		m.sib[h] = drop(m.sib[h], c)
		if len(m.sib[h]) == 0 {
			delete(m.sib, h)
		}
	}
	c.own, c.sibs = 0, c.sibs[:0]
}

func drop(list []*Cluster, c *Cluster) []*Cluster {
	for i, x := range list {
		if x == c {
			copy(list[i:], list[i+1:])
			list[len(list)-1] = nil
			return list[:len(list)-1]
		}
	}
	return list
}

// siblingJoin places a line that matched no template: into a template that
// already has a wildcard where the line has a new word, or, when this line
// makes MergeSiblings templates differing in one word, into their merge.
func (m *Miner) siblingJoin(masked []string) (*Cluster, bool) {
	if !m.siblingsOn() || len(masked) < 3 || len(masked) > maxSiblingTokens {
		return nil, false
	}
	for p := range m.lflags {
		if !variableSlot(masked, m.lflags, p) {
			continue
		}
		h := m.shapeHash(masked, m.lflags, p)
		for _, c := range m.own[h] {
			if c.Tokens[p] == Wildcard && shapeEqual(c, masked, m.lflags, p) {
				m.absorbLine(c, masked)
				return c, true
			}
		}
		var sibs []*Cluster
		for _, c := range m.sib[h] {
			if siblingEqual(c, masked, m.lflags, p) {
				sibs = append(sibs, c)
			}
		}
		if len(sibs)+1 >= m.cfg.MergeSiblings && variableWord(sibs) {
			return m.mergeSiblings(sibs, p, masked), true
		}
	}
	return nil, false
}

// variableSlot: where a word may be a variable. Not the first word (the
// event itself: "boot (command 7)", "halt (command 9)"), and only after an
// ordinary word that is not a "label:" ("user admin", "for root"), which
// keeps "program interrupt: illegal ..." and "tickTime set to" constant.
func variableSlot(toks []string, flags []uint8, p int) bool {
	if p < 1 || flags[p]&fWord == 0 || flags[p-1]&fWord == 0 {
		return false
	}
	prev := toks[p-1]
	return prev[len(prev)-1] != ':'
}

// variableWord tells a word-valued variable (user names: many values, each
// seen a few times) from a small set of states or commands (few values, each
// seen often): distinct values must be at least a third of the lines.
func variableWord(sibs []*Cluster) bool {
	var lines int64 = 1 // the line being placed
	for _, c := range sibs {
		lines += c.Count
	}
	return int64(len(sibs)+1)*3 >= lines
}

func (m *Miner) absorbLine(c *Cluster, masked []string) {
	c.Count++
	m.lru.MoveToFront(c.elem)
	for i, t := range c.Tokens {
		if t != masked[i] && t != Wildcard {
			c.Tokens[i] = Wildcard
			c.flags[i] = fWild
		}
	}
}

func (m *Miner) mergeSiblings(sibs []*Cluster, p int, masked []string) *Cluster {
	target := sibs[0]
	m.unindex(target)
	m.unbucket(target)
	for _, s := range sibs[1:] {
		for i, t := range target.Tokens {
			if t != s.Tokens[i] {
				target.Tokens[i] = Wildcard
			}
		}
		target.Count += s.Count
		if m.cfg.KeepAliases {
			m.alias[s.ID] = target.ID
		}
		m.remove(s)
		if m.OnMerge != nil {
			m.OnMerge(s, target)
		}
	}
	target.Tokens[p] = Wildcard
	for i, t := range target.Tokens {
		if t != masked[i] {
			target.Tokens[i] = Wildcard
		}
		target.flags[i] = tokenFlags(target.Tokens[i])
	}
	target.Count++
	target.key = routeKey(target.Tokens)
	m.buckets[target.key] = append(m.buckets[target.key], target)
	m.index(target)
	m.lru.MoveToFront(target.elem)
	return target
}

// Resolve follows merges: the id of the live template that now holds the
// lines of cluster id (itself when it was never merged). Merges are only
// remembered with Config.KeepAliases.
func (m *Miner) Resolve(id int) int {
	for {
		to, ok := m.alias[id]
		if !ok {
			return id
		}
		id = to
	}
}

// reshape re-indexes c after one of its words became a wildcard, and folds
// in the templates that differ from it only by a word in that place: the
// place has shown it holds values ("domain cluster_root_backup",
// "domain root_domain", then "domain root3_domain").
func (m *Miner) reshape(c *Cluster) {
	if !m.siblingsOn() {
		return
	}
	m.unindex(c)
	m.index(c)
	if c.own == 0 {
		return
	}
	var absorb []*Cluster
	for _, s := range m.sib[c.own] {
		if s != c && len(s.Tokens) == len(c.Tokens) && shapeEqualTo(s, c) {
			absorb = append(absorb, s)
		}
	}
	if len(absorb) == 0 {
		return
	}
	m.unindex(c)
	for _, s := range absorb {
		for i, t := range c.Tokens {
			if t != s.Tokens[i] {
				c.Tokens[i] = Wildcard
				c.flags[i] = fWild
			}
		}
		c.Count += s.Count
		if m.cfg.KeepAliases {
			m.alias[s.ID] = c.ID
		}
		m.remove(s)
		if m.OnMerge != nil {
			m.OnMerge(s, c)
		}
	}
	m.index(c)
}

// shapeEqualTo: s, with one of its words blanked, has the shape of c.
func shapeEqualTo(s, c *Cluster) bool {
	diff := -1
	for i := range c.Tokens {
		a, b := shapeTok(s.Tokens[i], s.flags[i], i, -1), shapeTok(c.Tokens[i], c.flags[i], i, -1)
		if a == b {
			continue
		}
		if diff >= 0 || b != Wildcard || !variableSlot(s.Tokens, s.flags, i) {
			return false
		}
		diff = i
	}
	return true
}
