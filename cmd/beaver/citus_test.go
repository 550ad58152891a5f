package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/pgtest"
	"github.com/beaver-analytics/beaver/schema/pgtest/citustest"
)

// TestInitCitus distributes a new database on the Citus test cluster with
// `beaver init --citus`, runs it again (nothing to do), refuses Beaver's
// own partitions there, and refuses --citus on a server without Citus.
func TestInitCitus(t *testing.T) {
	url := citustest.URL(t, citustest.Options{NoInit: true})
	out, code := runBeaver(t, "", "init", "--citus", "--shards", "4", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "database ready: flows distributed by person on Citus, 4 shards per table on 2 workers")
	out, code = runBeaver(t, "", "init", "--citus", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "4 shards per table on 2 workers")
	require.Contains(t, out, `msg="flows distributed by person on Citus" workers=2 shards=4`)
	out, code = runBeaver(t, "", "init", "--partitions", "4", "--database-url", url)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "the flows are distributed by Citus")
	out, code = runBeaver(t, "", "init", "--citus", "--partitions", "4", "--database-url", url)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "give --shards")

	plain := pgtest.URL(t)
	out, code = runBeaver(t, "", "init", "--citus", "--database-url", plain)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "CREATE EXTENSION citus failed")
	require.Contains(t, out, "shared_preload_libraries")
}
