// Package drain is a pure, streaming log template miner in the manner of
// Drain (He et al., ICWS 2017), with typed masking of variables.
//
// Tokenizer splits a message on white space and masks each token: any
// segment holding a digit (numbers, hex, ids, IPs, ports, sizes,
// durations), URLs after their scheme and absolute paths become Wildcard,
// while delimiters and alphabetic prefixes stay ("node-<*>", "<*>:<*>").
// Miner routes each masked line by token count and first word, then joins
// it to the most similar template. Two ordinary words that differ in the
// same place never merge, which is why one threshold serves every format
// (see Miner). ID derives a stable template id from the template text.
//
// Memory is bounded: Config.MaxClusters caps the templates, evicting the
// least recently used.
//
// Nothing here is safe for concurrent use; the caller serializes.
package drain
