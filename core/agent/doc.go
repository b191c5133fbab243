// Package agent answers a troubleshooting question: it gathers the
// cluster's logs for a time window (through the integrations' plugins, or
// from logs the user hands over), mines and scores them with loganalysis,
// searches the knowledge base with the question and the evidence, and
// composes an answer: the likely cause and its onset, the evidence, the
// runbooks that fit and the next steps.
//
// The reasoner here is the builtin one: deterministic and offline, with no
// model. It ranks what the analyzer found and lets the runbooks speak; it
// does not invent causes the logs do not show. An LLM reasoner
// (OpenAI-compatible or Anthropic) is not built yet.
package agent
