package app

import (
	"fmt"
	"os"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/gateway/internal/auth"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

// NewAuth builds the token service from the config's users, resolving
// their passwords from env or files now, so a missing secret stops the
// start instead of failing logins later.
func NewAuth(cfg config.Config, st store.Conversations) (*auth.Service, error) {
	var accounts []auth.Account
	for _, u := range cfg.Auth.Users {
		pw, err := u.Password.Resolve(os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("auth.users %s: password: %w", u.Username, err)
		}
		if pw == "" {
			return nil, fmt.Errorf("auth.users %s: password is empty", u.Username)
		}
		accounts = append(accounts, auth.Account{Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
			Roles: u.Roles, Password: pw})
	}
	return auth.New(auth.Options{Accounts: accounts, Store: st, AccessTTL: cfg.Auth.AccessTTL, RefreshTTL: cfg.Auth.RefreshTTL}), nil
}

// defaultCluster is the cluster a case searches when it names none: the
// only one configured, else none.
func defaultCluster(cfg config.Config) string {
	if len(cfg.Clusters) == 1 {
		return cfg.Clusters[0].Name
	}
	return ""
}
