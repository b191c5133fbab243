package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables and the file name that supply the encryption keys.
const (
	EnvEncryptionKey     = "FAULTMAVEN_ENCRYPTION_KEY"
	EnvEncryptionKeyFile = "FAULTMAVEN_ENCRYPTION_KEY_FILE"
	// KeyFileName is the key file the embedded default creates in the data
	// dir on first start.
	KeyFileName = "encryption.key"
)

// Keyring holds the AES-256-GCM keys that seal raw log text at rest. The
// first key is current: new data is sealed with it. The others only open
// data sealed before a rotation.
//
// Text form (FAULTMAVEN_ENCRYPTION_KEY, or one entry per line in
// FAULTMAVEN_ENCRYPTION_KEY_FILE):
//
//	id:base64-of-32-bytes    explicit key id (letters, digits, - _ .)
//	base64-of-32-bytes       id derived from the key ("k" + 8 hex digits of its SHA-256)
//
// In the environment variable, entries are separated by commas. Blank lines
// and lines starting with # are ignored. To rotate: put a new key first,
// keep the old ones after it until no row sealed with them remains.
//
// A Keyring is safe for concurrent use.
type Keyring struct {
	current string
	ids     []string
	aeads   map[string]cipher.AEAD
}

// ErrNoKey means no encryption key is configured.
var ErrNoKey = errors.New("store: no encryption key: set " + EnvEncryptionKey + " (base64 of 32 bytes) or " + EnvEncryptionKeyFile)

// ErrUnknownKey means data was sealed with a key id that is not in the keyring.
var ErrUnknownKey = errors.New("store: data sealed with a key that is not in the keyring")

// ErrDecrypt means a sealed value did not authenticate under its key: a
// wrong key with the right id, or tampered data.
var ErrDecrypt = errors.New("store: cannot decrypt: wrong encryption key or tampered data")

// ParseKeyring parses the text form described on [Keyring]. Errors never
// contain key material.
func ParseKeyring(text string) (*Keyring, error) {
	kr := &Keyring{aeads: map[string]cipher.AEAD{}}
	var entries []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, e := range strings.Split(line, ",") {
			if e = strings.TrimSpace(e); e != "" {
				entries = append(entries, e)
			}
		}
	}
	for i, e := range entries {
		id, b64, ok := strings.Cut(e, ":")
		if !ok {
			id, b64 = "", e
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("store: encryption key entry %d: not valid base64", i+1)
		}
		if len(key) != 32 {
			return nil, fmt.Errorf("store: encryption key entry %d: %d bytes, want 32 (AES-256)", i+1, len(key))
		}
		if id == "" {
			sum := sha256.Sum256(key)
			id = "k" + hex.EncodeToString(sum[:4])
		}
		if !validKeyID(id) {
			return nil, fmt.Errorf("store: encryption key entry %d: id %q: use letters, digits, - _ . (at most 32)", i+1, id)
		}
		if _, dup := kr.aeads[id]; dup {
			return nil, fmt.Errorf("store: encryption key id %q appears twice", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("store: encryption key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("store: encryption key %q: %w", id, err)
		}
		kr.aeads[id] = aead
		kr.ids = append(kr.ids, id)
	}
	if len(kr.ids) == 0 {
		return nil, ErrNoKey
	}
	kr.current = kr.ids[0]
	return kr, nil
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// NewKeyText returns the text of a fresh random key entry ("id:base64").
func NewKeyText() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("store: generating key: %w", err)
	}
	sum := sha256.Sum256(key)
	return "k" + hex.EncodeToString(sum[:4]) + ":" + base64.StdEncoding.EncodeToString(key), nil
}

// LoadKeyring reads the keyring from FAULTMAVEN_ENCRYPTION_KEY or
// FAULTMAVEN_ENCRYPTION_KEY_FILE (the variable wins when both are set). With
// neither it returns ErrNoKey.
func LoadKeyring(getenv func(string) string) (*Keyring, error) {
	if v := getenv(EnvEncryptionKey); v != "" {
		return ParseKeyring(v)
	}
	if p := getenv(EnvEncryptionKeyFile); p != "" {
		return ReadKeyFile(p)
	}
	return nil, ErrNoKey
}

// ReadKeyFile reads a key file. It holds the only thing protecting the
// data, so a file others may read, or that its group may write, is
// refused; the group may read it only when root owns it (PostgreSQL's rule
// for ssl_key_file), which is how a Kubernetes Secret volume with fsGroup
// hands a key to a non-root process (root:fsGroup, 0440 or 0640).
func ReadKeyFile(path string) (*Keyring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("store: encryption key file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o037 != 0 || perm&0o040 != 0 && !rootOwned(st) {
		return nil, fmt.Errorf("store: encryption key file %s has mode %v: make it 0600 (or 0640 owned by root)", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("store: encryption key file: %w", err)
	}
	kr, err := ParseKeyring(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return kr, nil
}

// CreateKeyFile writes a fresh key to dir/encryption.key with mode 0600. It
// never overwrites an existing file.
func CreateKeyFile(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("store: data dir: %w", err)
	}
	text, err := NewKeyText()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, KeyFileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("store: creating key file: %w", err)
	}
	content := "# FaultMaven encryption keys: id:base64, the first is current. Back this file up;\n" +
		"# without it the stored logs cannot be read.\n" + text + "\n"
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return "", fmt.Errorf("store: writing key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("store: writing key file: %w", err)
	}
	return path, f.Close()
}

// CurrentID is the id of the key that seals new data.
func (k *Keyring) CurrentID() string { return k.current }

// IDs lists the key ids, current first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// Seal encrypts plaintext under the current key. aad binds the ciphertext
// to its row (it is authenticated, not stored). The result is nonce||ciphertext.
func (k *Keyring) Seal(plaintext, aad []byte) (keyID string, sealed []byte, err error) {
	aead := k.aeads[k.current]
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return "", nil, fmt.Errorf("store: nonce: %w", err)
	}
	return k.current, aead.Seal(out, out, plaintext, aad), nil
}

// Open decrypts a value sealed by Seal under keyID.
func (k *Keyring) Open(keyID string, sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w (key id %q)", ErrUnknownKey, keyID)
	}
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("%w (key id %q)", ErrDecrypt, keyID)
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w (key id %q)", ErrDecrypt, keyID)
	}
	return pt, nil
}
