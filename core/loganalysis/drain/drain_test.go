package drain_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/faultmaven/faultmaven/core/loganalysis/drain"
)

func TestMaskToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello", "hello"},
		{"42", "<*>"},
		{"-17", "<*>"},
		{"0x1f3a", "<*>"},
		{"10.251.73.220:50010", "<*>:<*>"},
		{"/10.10.34.11:45307", "<*>:<*>"},
		{"blk_-6952295868487656571", "<*>"},
		{"(HWID=1973)", "(HWID=<*>)"},
		{"node-246", "node-<*>"},
		{"core.2275", "core.<*>"},
		{"depth....0", "depth....<*>"},
		{"550e8400-e29b-41d4-a716-446655440000", "<*>"},
		{"hdfs://10.1.2.3:8020/user/x", "hdfs://<*>"},
		{"[akka.tcp://sys@host:4040]", "[akka.tcp://<*>]"},
		{"/var/lib/nova/instances/_base", "<*>"},
		{"'/tmp/a/b',", "'<*>',"},
		{"12ms", "<*>"},
		{"onExtend:1514038530000", "onExtend:<*>"},
		{"a##12##b", "a##<*>##b"},
		{"yarn,curi", "yarn,curi"},
		{"true", "<*>"},
		{"data=false", "data=<*>"},
		{"null", "<*>"},
		{"None,", "<*>,"},
		{"nullable", "nullable"},
		{"FF:F2:9F:16:EA:8D", "<*>"},
		{"fe80::1ff:fe23:4567:890a", "<*>"},
		{"eth0", "eth0"},
		{"cp-1.slowvm1.tcloud", "<*>"},
		{"jetty-6.1.26", "jetty-<*>"},
		{"job_1445_0020.", "<*>."},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := drain.MaskToken(tt.in); got != tt.want {
				t.Errorf("MaskToken(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTokenizerGluesUpstreamWildcards(t *testing.T) {
	var tk drain.Tokenizer
	_, masked := tk.Tokenize("[instance: d<*>b<*>eb-<*>d<*>a] free: <*>.<*> MB node-<*>", nil, nil)
	want := []string{"[instance:", "<*>]", "free:", "<*>", "MB", "<*>"}
	if !slices.Equal(masked, want) {
		t.Errorf("Tokenize = %q; want %q", masked, want)
	}
}

func TestTokenizerMatchesMaskToken(t *testing.T) {
	var tk drain.Tokenizer
	orig, masked := tk.Tokenize("  send  42 bytes\tto 10.0.0.1:80 ok ", nil, nil)
	wantOrig := []string{"send", "42", "bytes", "to", "10.0.0.1:80", "ok"}
	wantMasked := []string{"send", "<*>", "bytes", "to", "<*>:<*>", "ok"}
	if !slices.Equal(orig, wantOrig) || !slices.Equal(masked, wantMasked) {
		t.Errorf("Tokenize = %q, %q; want %q, %q", orig, masked, wantOrig, wantMasked)
	}
	o2, m2 := drain.Tokenize("  send  42 bytes\tto 10.0.0.1:80 ok ", nil, nil)
	if !slices.Equal(o2, wantOrig) || !slices.Equal(m2, wantMasked) {
		t.Errorf("drain.Tokenize = %q, %q", o2, m2)
	}
}

func mine(tb testing.TB, m *drain.Miner, lines ...string) []*drain.Cluster {
	tb.Helper()
	var tk drain.Tokenizer
	var out []*drain.Cluster
	for _, l := range lines {
		_, masked := tk.Tokenize(l, nil, nil)
		c, _ := m.Add(masked)
		out = append(out, c)
	}
	return out
}

func TestMinerGrouping(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string
		same     bool
		template string
	}{
		{"numbers vary", []string{"Got assigned task 12", "Got assigned task 977"}, true, "Got assigned task <*>"},
		{"value-like words vary", []string{"Changing view acls to: yarn,curi", "Changing view acls to: root,admin"}, true, "Changing view acls to: <*>"},
		{"ordinary words differ", []string{"VM Started (Lifecycle Event)", "VM Paused (Lifecycle Event)"}, false, ""},
		{"single words", []string{"running", "blocked"}, false, ""},
		{"markers are not values", []string{"Fan speeds ( 1 2 3 **** 5 6 )", "Fan speeds ( 1 2 3 4 5 6 )"}, false, ""},
		{"different prefixes", []string{"caused by dcbf.....0", "caused by icbi.....0"}, false, ""},
		{"lengths differ", []string{"a b c", "a b c d"}, false, ""},
		{"dates in text", []string{"connection from <*> at Sat Jul 9 22:53:19 2005", "connection from <*> at Sun Jun 10 01:02:03 2005"}, true, "connection from <*> at <*> <*> <*> <*>:<*>:<*> <*>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := mine(t, drain.New(drain.Config{}), tt.lines...)
			if got := cs[0] == cs[1]; got != tt.same {
				t.Fatalf("same cluster = %v; want %v (%q, %q)", got, tt.same, cs[0].Template(), cs[1].Template())
			}
			if tt.same && cs[1].Template() != tt.template {
				t.Errorf("template %q; want %q", cs[1].Template(), tt.template)
			}
		})
	}
}

func TestMinerEviction(t *testing.T) {
	m := drain.New(drain.Config{MaxClusters: 10})
	evicted := 0
	m.OnEvict = func(*drain.Cluster) { evicted++ }
	for i := 0; i < 100; i++ {
		mine(t, m, fmt.Sprintf("event%c%c happened", 'a'+i%26, 'a'+i/26))
	}
	if m.Len() != 10 || evicted != 90 {
		t.Errorf("Len = %d, evicted = %d; want 10, 90", m.Len(), evicted)
	}
	// The most recent survive.
	if cs := m.Clusters(); cs[0].Template() != "eventvd happened" {
		t.Errorf("most recent template %q; want %q", cs[0].Template(), "eventvd happened")
	}
}

func TestMinerRestoreKeepsIDs(t *testing.T) {
	m := drain.New(drain.Config{})
	c := mine(t, m, "user 1 logged in", "user 2 logged in")[1]
	m2 := drain.New(drain.Config{})
	m2.Restore(c.ID, c.Tokens, c.Count)
	got := mine(t, m2, "user 3 logged in", "disk full")
	if got[0].ID != c.ID || got[0].Count != 3 {
		t.Errorf("after restore: id %d count %d; want %d, 3", got[0].ID, got[0].Count, c.ID)
	}
	if got[1].ID <= c.ID {
		t.Errorf("new cluster id %d not above restored %d", got[1].ID, c.ID)
	}
}

func TestID(t *testing.T) {
	a, b := drain.ID("PacketResponder <*> for block <*> terminating"), drain.ID("PacketResponder <*> for block <*> terminating")
	if a != b || len(a) != 13 || a[0] != 't' {
		t.Errorf("ID = %q, %q; want equal 13-char ids starting with t", a, b)
	}
	// Pinned: ids are stored by users and must never change.
	if a != "tc56b31d06bb8" {
		t.Errorf("ID changed: %q", a)
	}
	if drain.ID("x") == drain.ID("y") {
		t.Error("different templates share an id")
	}
}

func TestParams(t *testing.T) {
	tests := []struct {
		tmpl, orig []string
		want       []string
	}{
		{[]string{"send", "<*>", "to", "<*>:<*>"}, []string{"send", "42", "to", "10.0.0.1:80"}, []string{"42", "10.0.0.1", "80"}},
		{[]string{"node-<*>", "up"}, []string{"node-7", "up"}, []string{"7"}},
		{[]string{"(HWID=<*>)"}, []string{"(HWID=1973)"}, []string{"1973"}},
		{[]string{"a"}, []string{"a"}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.tmpl), func(t *testing.T) {
			if got := drain.Params(tt.tmpl, tt.orig); !slices.Equal(got, tt.want) {
				t.Errorf("Params = %q; want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkMinerAdd(b *testing.B) {
	lines := []string{
		"PacketResponder 1 for block blk_38865049064139660 terminating",
		"BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864",
		"Received block blk_3587508140051953248 of size 67108864 from /10.251.42.84",
		"Verification succeeded for blk_-4980916519894289629",
	}
	var tk drain.Tokenizer
	m := drain.New(drain.Config{})
	var orig, masked []string
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		orig, masked = tk.Tokenize(lines[i%len(lines)], orig, masked)
		m.Add(masked)
	}
}

func TestMinerMergesWordVariables(t *testing.T) {
	m := drain.New(drain.Config{})
	users := []string{"admin", "oracle", "guest", "webmaster", "postgres", "nagios", "tomcat"}
	var cs []*drain.Cluster
	for i, u := range users {
		cs = append(cs, mine(t, m, fmt.Sprintf("Invalid user %s from 10.0.0.%d", u, i))...)
	}
	last := cs[len(cs)-1]
	if last.Template() != "Invalid user <*> from <*>" || last.Count != int64(len(users)) {
		t.Errorf("template %q count %d; want one merged template of %d lines", last.Template(), last.Count, len(users))
	}
	// A few states seen often stay apart.
	m = drain.New(drain.Config{})
	var states []*drain.Cluster
	for i := 0; i < 40; i++ {
		st := []string{"Started", "Paused", "Resumed", "Stopped", "Deleted", "Shelved"}[i%6]
		states = append(states, mine(t, m, fmt.Sprintf("instance %d VM %s now", i, st))...)
	}
	if states[0] == states[1] {
		t.Errorf("states merged into %q", states[1].Template())
	}
}

func TestMinerFoldsWordsOnceAPlaceHoldsValues(t *testing.T) {
	m := drain.New(drain.Config{KeepAliases: true})
	cs := mine(t, m,
		"domain cluster_root_backup is no longer served by node-1",
		"domain root_domain is no longer served by node-2",
		"domain root3_domain is no longer served by node-3", // a value: the place is variable
		"domain root_domain is no longer served by node-4",
	)
	last := cs[len(cs)-1]
	if last.Count != 4 || last.Template() != "domain <*> is no longer served by node-<*>" {
		t.Errorf("template %q count %d; want all 4 lines in one", last.Template(), last.Count)
	}
	if m.Resolve(cs[1].ID) != last.ID {
		t.Errorf("merged cluster %d resolves to %d; want %d", cs[1].ID, m.Resolve(cs[1].ID), last.ID)
	}
}
