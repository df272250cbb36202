package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtkit/auth/internal/testenv"
)

// TestRun measures every store at a tiny size and checks that the report
// has every row, with positive numbers only.
func TestRun(t *testing.T) {
	srv := servers{
		postgres: testenv.PostgresURL(t),
		redis:    testenv.RedisURL(t),
		cluster:  testenv.RedisClusterAddrs(t),
	}
	cfg := config{
		sessions:    200,
		rotations:   []int{1, 3},
		loadClients: 8,
		clients:     []int{1, 4, 16},
		duration:    200 * time.Millisecond,
		maxOps:      100_000,
		runs:        1,
		masterGiB:   25,
		indexGiB:    16,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, cfg, srv, &out, io.Discard); err != nil {
		t.Fatalf("run = %v", err)
	}
	report := out.String()

	want := map[string]int{ // the beginning of a row, and how many rows begin so
		"| none (just started) |":         2,
		"| 1 |":                           2,
		"| 3 |":                           2,
		"| each rotation kept (1 to 3) |": 2,
		"| 10,000,000 |":                  1,
		"| 100,000,000 |":                 1,
	}
	for _, store := range []string{"PostgreSQL (bare: `UPDATE … RETURNING`)", "Redis (bare: `SET`)"} {
		for _, c := range cfg.clients {
			for r := 1; r <= cfg.runs; r++ {
				want["| "+store+" | "+strconv.Itoa(c)+" | "+strconv.Itoa(r)+" |"] = 1
			}
		}
	}
	for _, store := range []string{"PostgreSQL", "Redis"} {
		for _, c := range cfg.clients {
			want["| "+store+" | "+strconv.Itoa(c)+" |"] = 1
		}
	}
	rows := dataRows(report)
	for prefix, n := range want {
		got := 0
		for _, row := range rows {
			if strings.HasPrefix(row, prefix) {
				got++
			}
		}
		if got != n {
			t.Errorf("rows beginning %q: %d; want %d", prefix, got, n)
		}
	}
	for _, row := range rows {
		if cells := strings.Count(row, "|") - 1; cells < 2 {
			t.Errorf("row %q has %d cells; want at least 2", row, cells)
		}
		nums := number.FindAllString(row, -1)
		if len(nums) == 0 {
			t.Errorf("row %q has no number", row)
		}
		for _, s := range nums {
			if v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64); err != nil || !(v > 0) {
				t.Errorf("row %q: number %q is not positive", row, s)
			}
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", report)
	}
}

// number matches a number of the report, with its sign and thousands
// separators.
var number = regexp.MustCompile(`-?[0-9][0-9,]*(\.[0-9]+)?`)

// dataRows returns the rows of the report's tables, without their header
// and separator rows.
func dataRows(report string) []string {
	var out []string
	lines := strings.Split(report, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "|") || strings.HasPrefix(l, "| ---") {
			continue
		}
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "| ---") {
			continue // a header
		}
		out = append(out, l)
	}
	return out
}

func TestParseInts(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		ok   bool
	}{
		{"1,4,16", []int{1, 4, 16}, true},
		{"10", []int{10}, true},
		{" 1, 10", []int{1, 10}, true},
		{"", nil, false},
		{"0", nil, false},
		{"4,1", nil, false},
		{"1,1", nil, false},
		{"x", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseInts(tt.in)
			if (err == nil) != tt.ok || !slices.Equal(got, tt.want) {
				t.Errorf("parseInts(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}
