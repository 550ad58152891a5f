package scaleout_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/schema/pgtest"
	"github.com/beaver-analytics/beaver/schema/pgtest/citustest"
)

var (
	smallOnce  sync.Once
	smallFiles []string
	smallErr   error
)

// smallRegion is a region of 1,000 persons for the failure tests.
func smallRegion(t *testing.T) []string {
	t.Helper()
	smallOnce.Do(func() {
		dir, err := os.MkdirTemp("", "beaver-scaleout-small-")
		if err != nil {
			smallErr = err
			return
		}
		if _, err := synth.WriteCSV(context.Background(), synth.Config{Persons: 1000, Years: 8, Seed: 5}, dir, nil); err != nil {
			smallErr = err
			return
		}
		smallFiles, smallErr = synth.Files(dir)
	})
	require.NoError(t, smallErr)
	return smallFiles
}

// TestWorkerDownDuringStudy stops a worker node while the comparator study
// runs on Citus: the run does not fail, its state names the step that
// waits and why; once the node is back the run completes, and its results
// equal those of one PostgreSQL on the same region byte for byte.
func TestWorkerDownDuringStudy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	paths := smallRegion(t)
	single := pgtest.Pool(t)
	citus := citustest.Pool(t)
	load(t, single, paths)
	load(t, citus, paths)
	protocol := examples(t)["comparator-new-users.json"]
	svcS := &study.Service{Pool: single, River: client(t, single), Logger: quiet()}
	want := document(t, svcS, run(t, svcS, protocol))

	svc := &study.Service{Pool: citus, River: client(t, citus), Logger: quiet()}
	sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: protocol})
	require.NoError(t, err)
	// Let the run start, then take worker 2 away.
	for {
		p, err := svc.Status(ctx, sub.RunID)
		require.NoError(t, err)
		require.NotEqual(t, study.StateDone, p.State, "the run ended before the node was stopped")
		if p.StepsDone >= 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	citustest.StopWorker(t, 2)
	stopped := true
	defer func() {
		if stopped {
			citustest.StartWorker(t, 2)
		}
	}()
	var waiting *study.StepProgress
	for waiting == nil {
		p, err := svc.Status(ctx, sub.RunID)
		require.NoError(t, err)
		require.NotEqual(t, study.StateFailed, p.State, "the run failed with a node down: %s", p.Error)
		require.NotEqual(t, study.StateDone, p.State, "the run ended with a node down")
		for i := range p.Steps {
			if strings.HasPrefix(p.Steps[i].Error, "waiting to retry") {
				waiting = &p.Steps[i]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("with the node down, step %s says: %s", waiting.Name, waiting.Error)
	require.Contains(t, waiting.Error, "attempt 1 of")
	citustest.StartWorker(t, 2)
	stopped = false

	p, err := svc.Wait(ctx, sub.RunID, nil)
	require.NoError(t, err)
	require.Equal(t, study.StateDone, p.State, p.Error)
	for _, s := range p.Steps {
		require.Empty(t, s.Error, "step %s", s.Name)
	}
	got := document(t, svc, sub.RunID)
	require.True(t, bytes.Equal(want, got), "the results after the outage differ from one server's")
}
