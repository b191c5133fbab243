package storetest

import (
	"bytes"
	"os/exec"
)

// pgDump runs pg_dump of one schema (data and definitions) and returns its
// output.
func pgDump(dbURL, schema string) ([]byte, error) {
	cmd := exec.Command("pg_dump", "--no-owner", "--schema="+schema, "--dbname="+dbURL)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, errorf("%w: %s", err, errb.String())
	}
	return out.Bytes(), nil
}
