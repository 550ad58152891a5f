package etl

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/pgtest/citustest"
)

// TestCitusImportPublishesWhole imports into a distributed database: the
// rows reach the shards on both workers through the leaves, attached at
// the publish; a second import of the same keys is refused row by row as
// on one server.
func TestCitusImportPublishesWhole(t *testing.T) {
	ctx := context.Background()
	pool := citustest.Pool(t)
	paths := writeFiles(t, "person.csv", leafPersons, "pharmacy.csv", leafPharmacy)
	o := leafOpts()
	o.Partitions = 0 // Citus's shards take the place of the partitions
	res, err := Load(ctx, pool, paths, o)
	require.NoError(t, err)
	require.Equal(t, StatePublished, res.State)
	require.EqualValues(t, 5, scalar(t, pool, "SELECT count(*) FROM person"))
	pharmacy := scalar(t, pool, "SELECT count(*) FROM pharmacy")
	require.Positive(t, pharmacy)
	// The published leaf is a distributed table co-located with person.
	require.EqualValues(t, 1, scalar(t, pool, `SELECT count(*) FROM citus_tables t
		WHERE t.table_name = 'pharmacy_p0_v1'::regclass AND t.colocation_id = (SELECT colocation_id FROM citus_tables WHERE table_name = 'person'::regclass)`))
	// Both workers hold rows of the flow.
	require.EqualValues(t, 2, scalar(t, pool, `SELECT count(DISTINCT nodename) FROM citus_shards
		WHERE table_name = 'pharmacy_p0_v1'::regclass AND shard_size > 0`))
}

// TestCitusPublishWithAWorkerDown stops a worker inside the publishing
// transaction: the commit fails, nothing is published, the leaves are
// gone, and once the node is back the next import publishes the same
// version whole.
func TestCitusPublishWithAWorkerDown(t *testing.T) {
	ctx := context.Background()
	pool := citustest.Pool(t)
	paths := writeFiles(t, "person.csv", leafPersons, "pharmacy.csv", leafPharmacy)
	o := leafOpts()
	o.Partitions = 0
	o.beforeCommit = func() error {
		citustest.StopWorker(t, 2)
		return nil
	}
	res, err := Load(ctx, pool, paths, o)
	citustest.StartWorker(t, 2)
	require.Error(t, err)
	require.Equal(t, StateFailed, res.State)
	t.Logf("the publish failed as it should: %v", err)
	require.EqualValues(t, 0, scalar(t, pool, "SELECT count(*) FROM etl_data_version"))
	require.EqualValues(t, 0, scalar(t, pool, "SELECT count(*) FROM person"))
	require.EqualValues(t, 0, scalar(t, pool, "SELECT count(*) FROM pharmacy"))

	o.beforeCommit = nil
	res, err = Load(ctx, pool, paths, o)
	require.NoError(t, err)
	require.Equal(t, StatePublished, res.State)
	require.EqualValues(t, 1, res.DataVersion)
	require.EqualValues(t, 5, scalar(t, pool, "SELECT count(*) FROM person"))
	require.EqualValues(t, 0, scalar(t, pool, leafTablesSQL+" AND NOT relispartition"))
}
