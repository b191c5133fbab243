package loganalysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/faultmaven/faultmaven/core/loganalysis/drain"
	"github.com/faultmaven/faultmaven/core/loganalysis/header"
	"github.com/faultmaven/faultmaven/core/loganalysis/records"
)

// ParseOptions configure a Parser, the raw-text path used for files and
// uploads. The zero value is zero-config parsing with multi-line records.
type ParseOptions struct {
	// Format is an explicit header format ("<Date> <Time> <Level>: <Content>");
	// empty means detect headers.
	Format string
	// Masks are regular expressions whose matches become <*> before mining.
	Masks []string
	// MultilineOff makes every line a record.
	MultilineOff bool
	// StripFirstToken drops a label column (BGL, Thunderbird) from each line.
	StripFirstToken bool
	// SimThreshold for the miner; 0 means the miner's default.
	SimThreshold float64
	// MaxTemplates caps the templates kept; 0 means unlimited (a file is
	// finite and every record must be resolvable to its final template).
	MaxTemplates int
}

// Parser splits a byte stream into records, strips their headers and mines
// their templates. Not safe for concurrent use.
type Parser struct {
	opts   ParseOptions
	format *header.Format
	masks  []*regexp.Regexp
	miner  *drain.Miner
	tok    drain.Tokenizer
	orig   []string
	masked []string
	layout string
}

// ParsedRecord is one record with its template cluster.
type ParsedRecord struct {
	records.Record
	ClusterID int
}

// NewParser validates opts and returns a Parser.
func NewParser(opts ParseOptions) (*Parser, error) {
	p := &Parser{opts: opts}
	if opts.Format != "" {
		f, err := header.CompileFormat(opts.Format)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadOption, err)
		}
		p.format = f
	}
	for _, m := range opts.Masks {
		re, err := regexp.Compile(m)
		if err != nil {
			return nil, fmt.Errorf("%w: mask %q: %w", ErrBadOption, m, err)
		}
		p.masks = append(p.masks, re)
	}
	maxT := opts.MaxTemplates
	if maxT <= 0 {
		maxT = 1 << 30
	}
	p.miner = drain.New(drain.Config{SimThreshold: opts.SimThreshold, MaxClusters: maxT, KeepAliases: true})
	return p, nil
}

// Mine adds one message (header already stripped) and returns its cluster.
func (p *Parser) Mine(content string) *drain.Cluster {
	for _, re := range p.masks {
		content = re.ReplaceAllLiteralString(content, drain.Wildcard)
	}
	p.orig, p.masked = p.tok.Tokenize(content, p.orig, p.masked)
	c, _ := p.miner.Add(p.masked)
	return c
}

// Run reads r to the end, calling fn for each record in input order.
func (p *Parser) Run(ctx context.Context, r io.Reader, fn func(ParsedRecord) error) error {
	ro := records.Options{MultilineOff: p.opts.MultilineOff, StripFirstToken: p.opts.StripFirstToken}
	if p.format != nil {
		ro.Parse = p.format.Parse
	}
	sp := records.NewSplitter(r, ro)
	for {
		rec, err := sp.Next(ctx)
		if errors.Is(err, io.EOF) {
			p.layout = sp.Detector().Layout()
			return nil
		}
		if err != nil {
			return err
		}
		c := p.Mine(rec.Header.Content)
		if err := fn(ParsedRecord{Record: rec, ClusterID: c.ID}); err != nil {
			return err
		}
	}
}

// Layout describes the header layout detected by the last Run.
func (p *Parser) Layout() string { return p.layout }

// Template returns the current template of a cluster ("" if unknown),
// following merges: records mined early keep resolving to the template
// that absorbed theirs.
func (p *Parser) Template(clusterID int) string {
	if c := p.miner.Cluster(p.miner.Resolve(clusterID)); c != nil {
		return c.Template()
	}
	return ""
}

// Templates returns the live clusters, most recently used first.
func (p *Parser) Templates() []*drain.Cluster { return p.miner.Clusters() }

// TemplateID is the stable id of a template string (see drain.ID).
func TemplateID(template string) string { return drain.ID(template) }
