package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// ErrNotFound means the asked-for row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict means a write conflicts with stored data: an optimistic
// update lost a race (the caller retries), or the id exists.
var ErrConflict = errors.New("store: concurrent update")

// Cluster is one monitored cluster.
type Cluster struct {
	Name      string
	CreatedAt time.Time
}

// Integration is one enabled plugin instance of a cluster. It holds secret
// references (where a secret comes from), never secret values.
type Integration struct {
	Cluster       string
	Name          string
	Plugin        string
	PluginVersion string // pinned plugin version, when known
	PluginDigest  string // pinned SHA-256 of the plugin binary, when known
	// Config is the instance config without secrets, as JSON.
	Config json.RawMessage
	// SecretRefs maps a config key to where its value comes from, e.g.
	// {"token": {"env": "SPLUNK_TOKEN"}}.
	SecretRefs map[string]SecretRef
	UpdatedAt  time.Time
}

// SecretRef names the source of a secret: an environment variable or a file.
type SecretRef struct {
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"`
}

// InstanceID is "cluster/integration", the plugin instance id.
func (i Integration) InstanceID() string { return i.Cluster + "/" + i.Name }

// Cursor is an integration's ingestion watermark: every record before
// Watermark has been pulled.
type Cursor struct {
	Cluster     string
	Integration string
	Watermark   time.Time
	UpdatedAt   time.Time
}

// Record is one stored log record with its analysis.
type Record struct {
	Cluster     string
	Integration string
	sdk.Record
	// TemplateID and Template come from the analyzer. Template is not kept
	// on the record; it feeds the template table's text.
	TemplateID string
	Template   string
	// Ordinal tells apart records with identical content and timestamp and
	// no native id within one pull (the n-th copy has Ordinal n-1).
	Ordinal int
	// RunID is the analysis run that stored the record (0 = none).
	RunID int64
}

// InsertResult is what one InsertRecords call did.
type InsertResult struct {
	Stored     int // rows newly stored
	Duplicates int // rows already present (or repeated in the batch), skipped
}

// RecordQuery selects stored records.
type RecordQuery struct {
	Cluster     string
	Integration string    // empty = all of the cluster
	Start, End  time.Time // half-open; zero = unbounded
	Limit       int       // 0 = 1000
}

// Template is one log template of a cluster's source, with the number of
// stored records that matched it.
type Template struct {
	Cluster     string
	Integration string
	ID          string
	Template    string
	Severity    sdk.Severity
	Count       int64
	FirstSeen   time.Time
	LastSeen    time.Time
}

// Finding is one analyzer finding, stored per analysis run. Examples hold
// raw log lines and are sealed at rest.
type Finding struct {
	RunID       int64
	Cluster     string
	Integration string
	Kind        string
	TemplateID  string
	Template    string
	Severity    sdk.Severity
	Service     string
	FirstSeen   time.Time
	LastSeen    time.Time
	Count       int64
	Examples    []string
	Score       float64
	Explanation string
	CreatedAt   time.Time
}

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// Run is one analysis run: an ingest job's progress and outcome. Its id is
// the job's id.
type Run struct {
	ID                int64
	Cluster           string
	Integration       string
	From, To          time.Time
	Status            string
	Attempt           int
	RecordsRead       int64
	RecordsStored     int64
	DuplicatesSkipped int64
	Findings          int64
	Error             string
	StartedAt         time.Time
	UpdatedAt         time.Time
	FinishedAt        time.Time // zero while running
}

// AnalyzerState is a sealed analyzer snapshot of one integration, versioned
// for optimistic updates.
type AnalyzerState struct {
	Cluster     string
	Integration string
	Version     int64
	Data        []byte // plain snapshot; sealed at rest
}

// Stats summarises the store.
type Stats struct {
	Dialect        string
	SchemaVersion  int64
	Clusters       int64
	Integrations   int64
	Records        int64
	Templates      int64
	Findings       int64
	Runs           int64
	Partitions     int64 // PostgreSQL record partitions; 0 on SQLite
	OldestRecord   time.Time
	NewestRecord   time.Time
	KeyIDs         []string // keys in the keyring, current first
	RecordsByKeyID map[string]int64
}

// Clusters stores clusters and their integration instances.
type Clusters interface {
	UpsertCluster(ctx context.Context, name string) error
	ListClusters(ctx context.Context) ([]Cluster, error)
	UpsertIntegration(ctx context.Context, in Integration) error
	GetIntegration(ctx context.Context, cluster, name string) (Integration, error)
	ListIntegrations(ctx context.Context, cluster string) ([]Integration, error)
}

// Cursors stores ingestion watermarks.
type Cursors interface {
	// GetCursor returns ErrNotFound before the first advance.
	GetCursor(ctx context.Context, cluster, integration string) (Cursor, error)
	// AdvanceCursor moves the watermark forward; it never moves it back.
	AdvanceCursor(ctx context.Context, cluster, integration string, watermark time.Time) error
}

// Records stores raw records, sealed, exactly once each.
type Records interface {
	// InsertRecords stores the records not yet stored and skips the others
	// (same source native id, or same content, timestamp and ordinal when
	// there is none). In the same transaction it adds the stored records to
	// their templates' counts, so counts are exactly-once too.
	InsertRecords(ctx context.Context, recs []Record) (InsertResult, error)
	// Seen reports, for each record, whether it is already stored by a run
	// other than its RunID, that is, whether an earlier run's analyzer has
	// already observed it. A retried run still sees the records its own
	// earlier attempt stored as unseen.
	Seen(ctx context.Context, recs []Record) ([]bool, error)
	// QueryRecords returns records in time order, decrypted.
	QueryRecords(ctx context.Context, q RecordQuery) ([]Record, error)
	CountRecords(ctx context.Context, cluster, integration string) (int64, error)
	// ApplyRetention deletes records older than cutoff (PostgreSQL drops
	// whole day partitions ending at or before cutoff's day) and, on
	// PostgreSQL, creates the partitions of the next days ahead.
	ApplyRetention(ctx context.Context, cutoff time.Time) (int64, error)
}

// Templates stores the templates of each cluster's sources.
type Templates interface {
	// UpsertTemplates records template text and severity. Counts and
	// first/last seen come from InsertRecords and are left alone.
	UpsertTemplates(ctx context.Context, ts []Template) error
	// ListTemplates lists a cluster's templates (one integration's when
	// integration is set), most frequent first.
	ListTemplates(ctx context.Context, cluster, integration string) ([]Template, error)
}

// Findings stores analysis findings.
type Findings interface {
	// ReplaceFindings makes fs the findings of run runID for one
	// integration (a retried run replaces, never adds).
	ReplaceFindings(ctx context.Context, runID int64, cluster, integration string, fs []Finding) error
	// ListFindings returns the latest finding of each (integration, kind,
	// template) of a cluster whose LastSeen is at or after since, highest
	// score first.
	ListFindings(ctx context.Context, cluster string, since time.Time) ([]Finding, error)
}

// Runs stores analysis runs.
type Runs interface {
	// StartRun creates the run, or on a retry returns the existing one
	// with Attempt and Status updated. The window of the first attempt
	// wins, so a retry pulls exactly the same window.
	StartRun(ctx context.Context, r Run) (Run, error)
	UpdateRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, id int64) (Run, error)
}

// AnalyzerStates stores analyzer snapshots.
type AnalyzerStates interface {
	// GetAnalyzerState returns ErrNotFound when none was saved.
	GetAnalyzerState(ctx context.Context, cluster, integration string) (AnalyzerState, error)
	// PutAnalyzerState saves st if the stored version is still
	// st.Version (0 = none yet), else ErrConflict. The new version is
	// st.Version+1.
	PutAnalyzerState(ctx context.Context, st AnalyzerState) error
}

// Leases implement a per-integration concurrency limit across processes.
type Leases interface {
	// AcquireLease takes (or renews, for the same holder) one of limit
	// slots of key until now+ttl. It reports false when all are held.
	AcquireLease(ctx context.Context, key, holder string, limit int, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, key, holder string) error
}

// Store is the whole relational store.
type Store interface {
	Clusters
	Cursors
	Records
	Templates
	Findings
	Runs
	AnalyzerStates
	Leases
	Conversations
	// Dialect is "postgres" or "sqlite".
	Dialect() string
	// Migrate applies pending migrations and returns the schema version.
	Migrate(ctx context.Context) (int64, error)
	Stats(ctx context.Context) (Stats, error)
	Keyring() *Keyring
	Close() error
}

// Dialect names.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)
