package synth

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRegistryAndStreamEqualWrite: WriteRegistry's files and StreamEvents'
// streams are byte for byte the files Write makes (beaver synth --load
// imports the first and streams the second).
func TestRegistryAndStreamEqualWrite(t *testing.T) {
	cfg := Config{Persons: 3000, Years: 3, StartYear: 2015, Seed: 11, Anomalies: true}
	all, reg := t.TempDir(), t.TempDir()
	want, err := Write(context.Background(), cfg, all, CSV, nil)
	require.NoError(t, err)
	got, err := WriteRegistry(context.Background(), cfg, reg, nil)
	require.NoError(t, err)
	require.Equal(t, want.Rows, got.Rows, "the registry pass counts every flow's rows")
	for _, name := range append(append([]string{}, DictionaryFlows...), RegistryFlows...) {
		a, err := os.ReadFile(filepath.Join(all, name+".csv"))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(reg, name+".csv"))
		require.NoError(t, err)
		require.True(t, bytes.Equal(a, b), name)
	}
	for _, name := range EventFlows {
		_, err := os.Stat(filepath.Join(reg, name+".csv"))
		require.True(t, os.IsNotExist(err), "%s is not written by WriteRegistry", name)
	}

	// The streams, each read by its own goroutine as a pipe would be.
	writers := map[string]io.Writer{}
	bufs := map[string]*bytes.Buffer{}
	for _, name := range EventFlows {
		bufs[name] = &bytes.Buffer{}
		writers[name] = bufs[name]
	}
	st, err := StreamEvents(context.Background(), cfg, writers, nil)
	require.NoError(t, err)
	for _, name := range PersonFlows {
		require.Equal(t, want.Rows[name], st.Rows[name], name)
	}
	for _, name := range EventFlows {
		a, err := os.ReadFile(filepath.Join(all, name+".csv"))
		require.NoError(t, err)
		require.True(t, bytes.Equal(a, bufs[name].Bytes()), name)
	}

	_, err = StreamEvents(context.Background(), cfg, map[string]io.Writer{"person": io.Discard}, nil)
	require.ErrorContains(t, err, "person is a registry flow")
	_, err = StreamEvents(context.Background(), cfg, map[string]io.Writer{"pharmcy": io.Discard}, nil)
	require.ErrorContains(t, err, `no event flow "pharmcy"`)
}
