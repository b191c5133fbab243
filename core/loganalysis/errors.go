package loganalysis

import "errors"

// ErrBadOption reports an invalid option (a bad format or mask).
var ErrBadOption = errors.New("loganalysis: bad option")
