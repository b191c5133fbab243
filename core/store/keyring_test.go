package store_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/core/store"
)

func TestParseKeyring(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32)))
	k2 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("b", 32)))
	short := base64.StdEncoding.EncodeToString([]byte("short"))
	tests := []struct {
		name    string
		text    string
		ids     []string
		wantErr string
	}{
		{name: "bare key gets a derived id", text: k1, ids: []string{"k" + "3ba3f5f4"}},
		{name: "ids and comments, first is current", text: "# keys, first current\nnew:" + k2 + "\n\nold:" + k1 + "\n", ids: []string{"new", "old"}},
		{name: "comma separated", text: "new:" + k2 + ", old:" + k1, ids: []string{"new", "old"}},
		{name: "empty", text: "# nothing\n", wantErr: "no encryption key"},
		{name: "not base64", text: "a:!!!", wantErr: "not valid base64"},
		{name: "wrong length", text: "a:" + short, wantErr: "want 32"},
		{name: "bad id", text: "a b:" + k1, wantErr: "id"},
		{name: "duplicate id", text: "a:" + k1 + "\na:" + k2, wantErr: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := store.ParseKeyring(tt.text)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), k1, "errors must not hold key material")
				return
			}
			require.NoError(t, err)
			if tt.name == "bare key gets a derived id" {
				require.Len(t, kr.IDs(), 1)
				require.True(t, strings.HasPrefix(kr.CurrentID(), "k"))
				return
			}
			require.Equal(t, tt.ids, kr.IDs())
			require.Equal(t, tt.ids[0], kr.CurrentID())
		})
	}
}

func TestSealOpen(t *testing.T) {
	text, err := store.NewKeyText()
	require.NoError(t, err)
	kr, err := store.ParseKeyring(text)
	require.NoError(t, err)
	id, sealed, err := kr.Seal([]byte("secret line"), []byte("row-1"))
	require.NoError(t, err)
	require.NotContains(t, string(sealed), "secret line")
	pt, err := kr.Open(id, sealed, []byte("row-1"))
	require.NoError(t, err)
	require.Equal(t, "secret line", string(pt))
	_, err = kr.Open(id, sealed, []byte("row-2"))
	require.ErrorIs(t, err, store.ErrDecrypt, "a sealed value moved to another row must not open")
	_, err = kr.Open("nope", sealed, []byte("row-1"))
	require.ErrorIs(t, err, store.ErrUnknownKey)
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path, err := store.CreateKeyFile(dir)
	require.NoError(t, err)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	kr, err := store.ReadKeyFile(path)
	require.NoError(t, err)
	_, err = store.CreateKeyFile(dir)
	require.Error(t, err, "an existing key file must never be overwritten")
	kr2, err := store.ReadKeyFile(path)
	require.NoError(t, err)
	require.Equal(t, kr.IDs(), kr2.IDs())

	require.NoError(t, os.Chmod(path, 0o644))
	_, err = store.ReadKeyFile(path)
	require.ErrorContains(t, err, "0600")
	require.NoError(t, os.Chmod(path, 0o660))
	_, err = store.ReadKeyFile(path)
	require.Error(t, err, "a key file its group may write")
	if os.Geteuid() == 0 { // only root can hand the file to root and to another owner
		require.NoError(t, os.Chmod(path, 0o640))
		require.NoError(t, os.Chown(path, 0, 0))
		_, err = store.ReadKeyFile(path)
		require.NoError(t, err, "0640 owned by root (a Secret volume with fsGroup)")
		require.NoError(t, os.Chown(path, 1000, 1000))
		_, err = store.ReadKeyFile(path)
		require.Error(t, err, "0640 owned by another user")
	}

	env := map[string]string{store.EnvEncryptionKeyFile: filepath.Join(dir, "missing")}
	_, err = store.LoadKeyring(func(k string) string { return env[k] })
	require.Error(t, err)
	_, err = store.LoadKeyring(func(string) string { return "" })
	require.ErrorIs(t, err, store.ErrNoKey)
}

func TestEmbeddedKeyFile(t *testing.T) {
	dir := t.TempDir()
	noEnv := func(string) string { return "" }
	opts := store.Options{DataDir: dir, Getenv: noEnv}
	s, err := store.Open(t.Context(), opts)
	require.NoError(t, err, "the first start creates the key")
	fi, err := os.Stat(filepath.Join(dir, store.KeyFileName))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	id := s.Keyring().CurrentID()
	require.NoError(t, s.Close())

	s, err = store.Open(t.Context(), opts)
	require.NoError(t, err)
	require.Equal(t, id, s.Keyring().CurrentID(), "a restart reuses the key file")
	require.NoError(t, s.Close())

	// The key file lost: refused, and no new key is made over the old data.
	require.NoError(t, os.Rename(filepath.Join(dir, store.KeyFileName), filepath.Join(dir, "saved.key")))
	_, err = store.Open(t.Context(), opts)
	require.ErrorContains(t, err, "key file")
	_, err = os.Stat(filepath.Join(dir, store.KeyFileName))
	require.True(t, os.IsNotExist(err), "no new key file may be created over sealed data")
	require.NoError(t, os.Rename(filepath.Join(dir, "saved.key"), filepath.Join(dir, store.KeyFileName)))
	s, err = store.Open(t.Context(), opts)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}
