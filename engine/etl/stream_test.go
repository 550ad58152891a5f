package etl_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// pipes returns streams fed by a producer that writes their contents
// alternately, in pieces, as beaver synth --load does; the producer stops
// early with fail, when not nil, after writing half of the first stream.
func pipes(contents map[string]string, order []string, fail error) ([]etl.Stream, chan error) {
	var streams []etl.Stream
	writers := map[string]*io.PipeWriter{}
	for _, flow := range order {
		pr, pw := io.Pipe()
		streams = append(streams, etl.Stream{Name: "test/" + flow + ".csv", Flow: flow, R: pr})
		writers[flow] = pw
	}
	done := make(chan error, 1)
	go func() {
		var err error
		defer func() {
			for _, pw := range writers {
				pw.CloseWithError(err)
			}
			done <- err
		}()
		lines := map[string][]string{}
		for _, flow := range order {
			lines[flow] = strings.SplitAfter(contents[flow], "\n")
		}
		for i := 0; ; i++ {
			more := false
			for k, flow := range order {
				if fail != nil && k == 0 && i == len(lines[flow])/2 {
					err = fail
					return
				}
				if i < len(lines[flow]) {
					more = true
					if _, err = io.WriteString(writers[flow], lines[flow][i]); err != nil {
						return
					}
				}
			}
			if !more {
				return
			}
		}
	}()
	return streams, done
}

// TestLoadStreams imports event flows from streams written alternately: the
// rows are checked as a file's are (the same quarantine, by stream name and
// line), hashed as read, and the same content again is unchanged, as files
// would be.
func TestLoadStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	registry := write(t, "person.csv", persons, "product.csv", products)
	contents := map[string]string{"pharmacy": pharmacy, "sdo": sdo, "exemption": exemptions}
	order := []string{"pharmacy", "sdo", "exemption"}
	streams, produced := pipes(contents, order, nil)
	o := opts()
	o.Streams = streams
	res, err := etl.Load(ctx, pool, registry, o)
	require.NoError(t, err)
	require.NoError(t, <-produced)
	require.Equal(t, etl.StatePublished, res.State)
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM pharmacy"))
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM sdo"))
	require.EqualValues(t, 3, count(t, pool, "SELECT count(*) FROM sdo_diagnosis WHERE person_id = 1 AND discharge_id = 'H1-0001'"))
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM exemption"))
	want := []quarantined{
		{"pharmacy.csv", 3, "person_id", "unknown_person"},
		{"pharmacy.csv", 4, "packs", "not_positive"},
		{"pharmacy.csv", 5, "dispensing_date", "date_after_import"},
		{"pharmacy.csv", 6, "dispensing_date", "before_birth"},
		{"pharmacy.csv", 7, "dispensing_date", "after_death"},
		{"pharmacy.csv", 8, "aic", "unknown_code"},
		{"pharmacy.csv", 9, "dispensing_date", "bad_date"},
		{"pharmacy.csv", 10, "aic", "code_out_of_validity"},
		{"pharmacy.csv", 11, "person_id", "required"},
		{"pharmacy.csv", 12, "*", "field_count"},
		{"sdo.csv", 3, "diag_princ", "unknown_code"},
		{"sdo.csv", 4, "diag_princ", "code_out_of_validity"},
		{"sdo.csv", 5, "discharge_date", "date_order"},
		{"sdo.csv", 7, "person_id+discharge_id", "duplicate_key"},
		{"exemption.csv", 3, "code", "code_out_of_validity"},
	}
	require.Equal(t, want, quarantine(t, pool, res.ImportID))
	require.EqualValues(t, 15, res.RowsRejected)
	require.EqualValues(t, 6+2+12+6+3, res.RowsRead)
	for _, f := range res.Files[2:] {
		require.True(t, f.Streamed, f.Path)
		require.Equal(t, etl.FilePublished, f.State, f.Path)
		require.Len(t, f.SHA256, 64, f.Path)
		require.EqualValues(t, len(contents[f.Flow]), f.Bytes, f.Path)
	}

	// The same content as files: unchanged.
	files := write(t, "pharmacy.csv", pharmacy, "sdo.csv", sdo, "exemption.csv", exemptions)
	again, err := etl.Load(ctx, pool, files, opts())
	require.NoError(t, err)
	require.Equal(t, etl.StateUnchanged, again.State)

	// Streamed again, with one new stream: the known ones are dropped, the
	// new one published as version 2.
	contents["er"] = "person_id;access_id;arrival_date;triage;diag_princ\n2;ER1;2022-04-01;2;4019\n"
	streams, produced = pipes(contents, []string{"pharmacy", "sdo", "exemption", "er"}, nil)
	o.Streams = streams
	res3, err := etl.Load(ctx, pool, nil, o)
	require.NoError(t, err)
	require.NoError(t, <-produced)
	require.Equal(t, etl.StatePublished, res3.State)
	require.EqualValues(t, 2, res3.DataVersion)
	require.Equal(t, []etl.FileState{etl.FileSkipped, etl.FileSkipped, etl.FileSkipped, etl.FilePublished},
		[]etl.FileState{res3.Files[0].State, res3.Files[1].State, res3.Files[2].State, res3.Files[3].State})
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM pharmacy"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM er WHERE data_version = 2"))
	require.Empty(t, quarantine(t, pool, res3.ImportID))
}

// TestLoadStreamFailure: a producer that fails midway fails the import,
// which publishes nothing and leaves no leaf behind; the other streams
// stop too (the test would hang otherwise).
func TestLoadStreamFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	registry := write(t, "person.csv", persons, "product.csv", products)
	big := "person_id;dispensing_date;aic;packs\n" + strings.Repeat("1;2022-01-01;012345678;1\n", 20000)
	contents := map[string]string{"pharmacy": big, "exemption": exemptions}
	boom := errors.New("generator exploded")
	streams, produced := pipes(contents, []string{"pharmacy", "exemption"}, boom)
	o := opts()
	o.Streams = streams
	res, err := etl.Load(ctx, pool, registry, o)
	require.ErrorContains(t, err, "generator exploded")
	require.ErrorIs(t, <-produced, boom)
	require.Equal(t, etl.StateFailed, res.State)
	require.Zero(t, count(t, pool, "SELECT count(*) FROM pharmacy"))
	require.Zero(t, count(t, pool, "SELECT count(*) FROM pg_class WHERE relname ~ '^(pharmacy|exemption)_p[0-9]+_v[0-9]+$'"))

	// A stream whose header is another flow's, and streams that cannot be.
	streams, produced = pipes(map[string]string{"er": exemptions}, []string{"er"}, nil)
	o.Streams = streams
	_, err = etl.Load(ctx, pool, registry, o)
	require.ErrorContains(t, err, "test/er.csv")
	require.ErrorContains(t, err, "header")
	<-produced
	for _, bad := range []struct {
		streams []etl.Stream
		msg     string
	}{
		{[]etl.Stream{{Name: "p", Flow: "person", R: io.NopCloser(strings.NewReader(persons))}}, "person is not an event flow"},
		{[]etl.Stream{{Name: "a", Flow: "er", R: io.NopCloser(strings.NewReader(""))}, {Name: "b", Flow: "er", R: io.NopCloser(strings.NewReader(""))}}, "two streams of flow er"},
		{[]etl.Stream{{Name: "x", Flow: "pharmcy", R: io.NopCloser(strings.NewReader(""))}}, `unknown flow "pharmcy"`},
	} {
		o.Streams = bad.streams
		_, err := etl.Load(ctx, pool, registry, o)
		require.ErrorContains(t, err, bad.msg)
	}
}
