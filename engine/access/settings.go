package access

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/beaver-analytics/beaver/schema/errs"
)

// Settings are what an admin may change at run time.
type Settings struct {
	// MinCount is the small-cell threshold k: counts from 1 to k-1 are
	// suppressed in everything shown or exported.
	MinCount int `json:"min_count"`
}

// DefaultSettings are the settings of a fresh install.
var DefaultSettings = Settings{MinCount: 5}

// MaxMinCount bounds k: above it most tables of a regional study would be
// blank.
const MaxMinCount = 100

// Validate checks the settings' values.
func (st Settings) Validate() error {
	if st.MinCount < 2 || st.MinCount > MaxMinCount {
		return fmt.Errorf("%w: min_count: must be between 2 and %d, not %d", errs.Invalid, MaxMinCount, st.MinCount)
	}
	return nil
}

// Settings returns the current settings (the defaults for keys never set).
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	st := DefaultSettings
	rows, err := s.Pool.Query(ctx, "SELECT key, value FROM app_setting")
	if err != nil {
		return st, fmt.Errorf("access: read settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var value []byte
		if err := rows.Scan(&key, &value); err != nil {
			return st, fmt.Errorf("access: read settings: %w", err)
		}
		if key == "min_count" {
			if err := json.Unmarshal(value, &st.MinCount); err != nil {
				return st, fmt.Errorf("access: setting min_count: %w", err)
			}
		}
	}
	return st, rows.Err()
}

// SetSettings stores the settings.
func (s *Service) SetSettings(ctx context.Context, userID int64, st Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO app_setting (key, value, updated_by) VALUES ('min_count', $1, $2)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by`,
		st.MinCount, nullID(userID))
	if err != nil {
		return fmt.Errorf("access: store settings: %w", err)
	}
	return nil
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
