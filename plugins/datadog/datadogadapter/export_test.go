package datadogadapter

// Exported for tests.
var (
	BuildQuery = buildQuery
	Quote      = quote
)
