package store

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/sdk"
)

// identityCases are records whose stored identities are pinned below:
// every existing database holds keys computed this way, so a change here
// would store every record a second time.
func identityCases() []Record {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC)
	return []Record{
		{Cluster: "prod", Integration: "files", Record: sdk.Record{Timestamp: t0, Body: "ignored",
			Source: sdk.SourceRef{NativeID: "/var/log/app.log:180"}}},
		{Cluster: "prod", Integration: "files", Record: sdk.Record{Timestamp: t0, Service: "api", Host: "h1",
			Body: "GET /x 200"}},
		{Cluster: "prod", Integration: "files", Record: sdk.Record{Timestamp: t0, Service: "api", Host: "h1",
			Body: "GET /x 200"}, Ordinal: 3},
		{Cluster: "stage", Integration: "splunk", Record: sdk.Record{Timestamp: t0.Add(-time.Hour), Service: "db",
			Body: "slow query", Attributes: map[string]string{"pod": "db-0", "container": "pg", "a": ""}}},
		{Cluster: "c", Integration: "i", Record: sdk.Record{Timestamp: time.Unix(0, -5).UTC()}},
	}
}

// Computed by the identity code before its allocation-free rewrite.
var pinnedIdentities = []struct{ dedup, content string }{
	{"5ed699d795be461df01150a68d26704a8c54db0bdd1ed06cf477b7efe861bb60", "e3f5821823838892aff4262cbfa3cf51475eb4c43da5cb6cf4575f0505aace90"},
	{"a689ac6ad5951cdd640e3f163a5763a1a8b76c880ac649b25e3071baf52ef7e8", "660fe82566c7630e17118c4ededd65f99cb63ca4a82b5cf9d865395722318271"},
	{"547512e1dd850f2390a43b0c12df2ac146d84846b2f027a6d4d24c95289c8fbb", "660fe82566c7630e17118c4ededd65f99cb63ca4a82b5cf9d865395722318271"},
	{"237e21a753af132622705bd6fb3d1aa7cfa433cb9bd64da8f6fd07f661dbdbae", "0367ea420b747ee94795bdfc01ed1a96c5aee7a71ca30018d0241a6e8d6c8943"},
	{"9a1b5f519ad759ff7193b855dcef963368e7f422b16ac88afcd8fde8aa7e7e47", "9d0f2f02ba898d2eb93a6ed676a536c101103b0a125f6d9305d49676ba9aa1f6"},
}

func TestIdentityIsStable(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	h := newDedupHasher(secret)
	cases := identityCases()
	require.Len(t, pinnedIdentities, len(cases))
	for i, want := range pinnedIdentities {
		// Twice: the hasher reuses its buffers.
		for range 2 {
			k := h.key(&cases[i])
			require.Equal(t, want.dedup, hex.EncodeToString(k[:]), "dedup key of case %d", i)
		}
		c := ContentKey(&cases[i])
		require.Equal(t, want.content, hex.EncodeToString(c[:]), "content key of case %d", i)
	}
}

func TestDedupKeyAllocs(t *testing.T) {
	h := newDedupHasher([]byte("0123456789abcdef0123456789abcdef"))
	cases := identityCases()
	h.key(&cases[3]) // grows the buffer
	allocs := testing.AllocsPerRun(100, func() {
		for i := range cases {
			h.key(&cases[i])
		}
	})
	// Sorting the attribute names of a record without native id allocates
	// once; nothing else does.
	require.LessOrEqual(t, allocs, 2.0, "allocations per batch of %d keys", len(cases))
}
