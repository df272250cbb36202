package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// report is everything run measured.
type report struct {
	cfg             config
	postgresVersion string
	redisVersion    string
	clusterMasters  int
	postgres        *storage
	redis           *storage
	cluster         *storage // nil when no cluster was measured
	postgresRates   []ratePoint
	redisRates      []ratePoint
}

const gib = 1 << 30

// write prints the report as Markdown.
func (r *report) write(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	p("### Bytes per session at rest")
	p("")
	p("%s sessions, each of a user of its own, started through `Auth.StartSession` and rotated through `Auth.Refresh`; bytes above the empty store, divided by the sessions.", comma(int64(r.cfg.sessions)))
	p("")
	p("PostgreSQL %s (sqlstore): sums over the store's tables after `VACUUM (FULL, ANALYZE)` of each, which leaves no dead space; the last column after plain `VACUUM (ANALYZE)`, taken just before, with the space that the dead row versions of the rotations since the previous reading left.", r.postgresVersion)
	p("")
	p("| rotations per session | rows (`pg_relation_size`) | indexes (`pg_indexes_size`) | total (`pg_total_relation_size`) | total after plain VACUUM |")
	p("| --- | ---: | ---: | ---: | ---: |")
	s := r.postgres
	for _, pt := range s.points {
		t := pt.total
		p("| %s | %.0f | %.0f | %.0f | %.0f |", rotationsLabel(pt.rotations), s.perSession(t.heap), s.perSession(t.indexes), s.perSession(t.compact), s.perSession(t.used))
	}
	if d, n, ok := s.perRotation(); ok {
		p("| each rotation kept (%d to %d) | %.0f | %.0f | %.0f | — |", s.points[1].rotations, s.points[len(s.points)-1].rotations,
			s.perSession(d.heap)/n, s.perSession(d.indexes)/n, s.perSession(d.compact)/n)
	}
	p("")
	settings := "the server's own settings"
	if len(r.cfg.redisConfig) > 0 {
		settings = "set with CONFIG SET: `" + strings.Join(r.cfg.redisConfig, "`, `") + "`"
	}
	p("Redis %s (redisstore, %s): `used_memory` of `INFO memory`%s.", r.redisVersion, settings, map[bool]string{true: "; on the cluster summed over its masters", false: ""}[r.cluster != nil])
	p("")
	header := "| rotations per session | Redis |"
	sep := "| --- | ---: |"
	if r.cluster != nil {
		header += fmt.Sprintf(" Redis Cluster (%d masters) |", r.clusterMasters)
		sep += " ---: |"
	}
	p("%s", header)
	p("%s", sep)
	for i, pt := range r.redis.points {
		row := fmt.Sprintf("| %s | %.0f |", rotationsLabel(pt.rotations), r.redis.perSession(pt.total.used))
		if r.cluster != nil {
			row += fmt.Sprintf(" %.0f |", r.cluster.perSession(r.cluster.points[i].total.used))
		}
		p("%s", row)
	}
	if d, n, ok := r.redis.perRotation(); ok {
		row := fmt.Sprintf("| each rotation kept (%d to %d) | %.0f |", r.redis.points[1].rotations, r.redis.points[len(r.redis.points)-1].rotations, r.redis.perSession(d.used)/n)
		if r.cluster != nil {
			cd, cn, _ := r.cluster.perRotation()
			row += fmt.Sprintf(" %.0f |", r.cluster.perSession(cd.used)/cn)
		}
		p("%s", row)
	}
	p("")

	p("### Rotations per second")
	p("")
	p("Each point runs for %v or %s operations, whichever ends first: `Auth.Refresh` (a Lookup, a signed access token, a Rotate) on the sessions above, then the bare write at the same concurrency, each client on a row or key of its own. The last column is how many bare writes one rotation costs.", r.cfg.duration, comma(r.cfg.maxOps))
	p("")
	p("| store | clients | run | `Auth.Refresh`/s | bare write/s | bare ÷ refresh |")
	p("| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, set := range []struct {
		name, bare string
		pts        []ratePoint
	}{{"PostgreSQL", "`UPDATE … RETURNING`", r.postgresRates}, {"Redis", "`SET`", r.redisRates}} {
		for _, pt := range set.pts {
			p("| %s (bare: %s) | %d | %d | %.0f | %.0f | %.2f |", set.name, set.bare, pt.clients, pt.run, pt.refresh, pt.baseline, pt.baseline/pt.refresh)
		}
	}
	p("")
	p("Medians of the runs:")
	p("")
	p("| store | clients | `Auth.Refresh`/s | bare write/s | bare ÷ refresh |")
	p("| --- | ---: | ---: | ---: | ---: |")
	for _, set := range []struct {
		name string
		pts  []ratePoint
	}{{"PostgreSQL", r.postgresRates}, {"Redis", r.redisRates}} {
		for _, c := range r.cfg.clients {
			var refresh, bare []float64
			for _, pt := range set.pts {
				if pt.clients == c {
					refresh, bare = append(refresh, pt.refresh), append(bare, pt.baseline)
				}
			}
			mr, mb := median(refresh), median(bare)
			p("| %s | %d | %.0f | %.0f | %.2f |", set.name, c, mr, mb, mb/mr)
		}
	}
	p("")

	last := func(s *storage) storagePoint { return s.points[len(s.points)-1] }
	pgLast, redisLast := last(r.postgres), last(r.redis)
	mem, memName := r.redis, "Redis"
	if r.cluster != nil {
		mem, memName = r.cluster, fmt.Sprintf("Redis Cluster (%d masters)", r.clusterMasters)
	}
	memLast := last(mem)
	p("### Projections")
	p("")
	p("From the figures at %d rotations per session: the %s `used_memory` per session; the PostgreSQL total and indexes after VACUUM FULL, and in brackets the total after plain VACUUM. A Redis Cluster master is assumed to hold %s GiB of data; a PostgreSQL shard to keep %s GiB of these indexes in memory.",
		redisLast.rotations, memName, trim(r.cfg.masterGiB), trim(r.cfg.indexGiB))
	p("")
	p("| sessions | Redis `used_memory` | Redis Cluster masters | PostgreSQL disk | PostgreSQL indexes | PostgreSQL shards |")
	p("| ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, n := range []int64{10_000_000, 100_000_000} {
		redisBytes := mem.perSession(memLast.total.used)
		pgBytes := r.postgres.perSession(pgLast.total.compact)
		pgLoose := r.postgres.perSession(pgLast.total.used)
		idxBytes := r.postgres.perSession(pgLast.total.indexes)
		memGiB := float64(n) * redisBytes / gib
		idxGiB := float64(n) * idxBytes / gib
		p("| %s | %s × %.0f B = %.1f GiB | ⌈%.1f / %s⌉ = %d | %s × %.0f B = %.1f GiB (%.1f GiB) | %s × %.0f B = %.1f GiB | ⌈%.1f / %s⌉ = %d |",
			comma(n), comma(n), redisBytes, memGiB, memGiB, trim(r.cfg.masterGiB), int(math.Ceil(memGiB/r.cfg.masterGiB)),
			comma(n), pgBytes, float64(n)*pgBytes/gib, float64(n)*pgLoose/gib, comma(n), idxBytes, idxGiB, idxGiB, trim(r.cfg.indexGiB), int(math.Ceil(idxGiB/r.cfg.indexGiB)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// perRotation returns the growth from the first to the last rotation
// point, and the rotations between them; ok is false with fewer than two.
func (s *storage) perRotation() (footprint, float64, bool) {
	if len(s.points) < 3 {
		return footprint{}, 0, false
	}
	first, last := s.points[1], s.points[len(s.points)-1]
	return last.total.minus(first.total), float64(last.rotations - first.rotations), true
}

func rotationsLabel(n int) string {
	if n == 0 {
		return "none (just started)"
	}
	return fmt.Sprint(n)
}

// comma formats n with thousands separators.
func comma(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// trim formats f without trailing zeros.
func trim(f float64) string { return fmt.Sprint(f) }

// median returns the median of v, which must not be empty.
func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}
