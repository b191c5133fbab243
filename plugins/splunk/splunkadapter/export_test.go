package splunkadapter

// Exported for tests.
var (
	QuoteLiteral = quoteLiteral
	Epoch        = epoch
)
