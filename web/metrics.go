package web

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// metrics counts HTTP requests for /metrics (Prometheus text format).
type metrics struct {
	mu       sync.Mutex
	requests map[requestKey]*requestStat
}

type requestKey struct {
	method, route string
	status        int
}

type requestStat struct {
	count   uint64
	seconds float64
}

func newMetrics() *metrics { return &metrics{requests: map[requestKey]*requestStat{}} }

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := requestKey{method, route, status}
	st := m.requests[k]
	if st == nil {
		st = &requestStat{}
		m.requests[k] = st
	}
	st.count++
	st.seconds += d.Seconds()
}

func (m *metrics) write(b *strings.Builder) {
	m.mu.Lock()
	keys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	stats := make(map[requestKey]requestStat, len(keys))
	for _, k := range keys {
		stats[k] = *m.requests[k]
	}
	m.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		a, c := keys[i], keys[j]
		if a.route != c.route {
			return a.route < c.route
		}
		if a.method != c.method {
			return a.method < c.method
		}
		return a.status < c.status
	})
	b.WriteString("# HELP beaver_http_requests_total HTTP requests served, by method, route and status.\n# TYPE beaver_http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(b, "beaver_http_requests_total{method=%q,route=%q,status=\"%d\"} %d\n", k.method, k.route, k.status, stats[k].count)
	}
	b.WriteString("# HELP beaver_http_request_duration_seconds_sum Total time spent serving requests.\n# TYPE beaver_http_request_duration_seconds_sum counter\n")
	for _, k := range keys {
		fmt.Fprintf(b, "beaver_http_request_duration_seconds_sum{method=%q,route=%q,status=\"%d\"} %g\n", k.method, k.route, k.status, stats[k].seconds)
	}
}

// jobStates are River's job states, always reported (zero when absent) so
// that dashboards see every series.
var jobStates = []string{"available", "cancelled", "completed", "discarded", "pending", "retryable", "running", "scheduled"}

// writeDBMetrics appends River job counts by state and the pool's stats.
func writeDBMetrics(ctx context.Context, b *strings.Builder, pool *pgxpool.Pool, logger *slog.Logger) {
	counts := map[string]int64{}
	rows, err := pool.Query(ctx, "SELECT state::text, count(*) FROM river_job GROUP BY state")
	if err == nil {
		for rows.Next() {
			var st string
			var n int64
			if err := rows.Scan(&st, &n); err == nil {
				counts[st] = n
			}
		}
		rows.Close()
		err = rows.Err()
	}
	if err != nil {
		logger.Warn("metrics: count river jobs", "err", err)
	} else {
		b.WriteString("# HELP beaver_river_jobs River jobs by state.\n# TYPE beaver_river_jobs gauge\n")
		for _, st := range jobStates {
			fmt.Fprintf(b, "beaver_river_jobs{state=%q} %d\n", st, counts[st])
		}
	}
	s := pool.Stat()
	gauges := []struct {
		name, help string
		v          int64
	}{
		{"beaver_db_pool_acquired_conns", "Connections in use.", int64(s.AcquiredConns())},
		{"beaver_db_pool_idle_conns", "Idle connections.", int64(s.IdleConns())},
		{"beaver_db_pool_total_conns", "Open connections.", int64(s.TotalConns())},
		{"beaver_db_pool_max_conns", "Largest pool size allowed.", int64(s.MaxConns())},
	}
	for _, g := range gauges {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", g.name, g.help, g.name, g.name, g.v)
	}
	fmt.Fprintf(b, "# HELP beaver_db_pool_acquires_total Connections acquired from the pool.\n# TYPE beaver_db_pool_acquires_total counter\nbeaver_db_pool_acquires_total %d\n", s.AcquireCount())
	fmt.Fprintf(b, "# HELP beaver_db_pool_acquire_wait_seconds_total Time spent waiting for a connection.\n# TYPE beaver_db_pool_acquire_wait_seconds_total counter\nbeaver_db_pool_acquire_wait_seconds_total %g\n", s.AcquireDuration().Seconds())
}
