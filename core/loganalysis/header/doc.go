// Package header finds and strips the header of log lines with no
// configuration: timestamps in the common forms, severity words, logger or
// component names, pids, bracketed thread names, '|' columns, plus JSON
// and logfmt lines.
//
// A Detector learns one stream's layout, the kinds of the fields that open
// its lines ("ts num level comp:"), from its first lines, then strips that
// many fields from every line that fits. Lines that do not fit fall back to
// a per-line reading (a level word shortly after a timestamp, else the
// timestamp); batches of such lines teach it further layouts, so files that
// concatenate several formats are read too. Format is the explicit
// alternative, in the Loghub benchmark notation.
//
// A Detector is not safe for concurrent use. ParseTimestamp and Format are.
package header
