// Package loghub loads the Loghub-2k benchmark samples and scores log
// parsers on them: grouping accuracy (GA), F1 of group accuracy (FGA),
// parsing accuracy (PA) and F1 of template accuracy (FTA), as defined by
// Zhu et al. (ICSE-SEIP 2019) and Jiang et al. (Loghub-2.0, ISSTA 2024).
//
// The harness itself is a test behind the "loghub" build tag:
//
//	go test -tags loghub -run TestLoghub -v ./core/loganalysis/loghub
//
// It reads ../shared/loghub relative to the repository root and skips when
// that folder is absent.
package loghub
