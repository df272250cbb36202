#!/usr/bin/env bash
# Usage: scripts/with-test-servers.sh COMMAND [ARG...]
#
# Starts a throwaway PostgreSQL, a Redis and a three-node Redis Cluster,
# listening on loopback only, exports their addresses as
# AUTH_TEST_POSTGRES_URL, AUTH_TEST_REDIS_URL and AUTH_TEST_REDIS_CLUSTER
# (host:port,host:port,host:port), runs COMMAND, and stops both servers and removes their data afterwards,
# whatever COMMAND returns. A server that cannot be started is an error when
# CI=true; otherwise its variable stays unset and the tests that need it skip.
set -euo pipefail

work=$(mktemp -d "${TMPDIR:-/tmp}/authtest.XXXXXX")
chmod 0755 "$work"
pg_started=""
redis_pid=""
cluster_pids=""

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
	if [ -n "$pg_started" ]; then as_pg pg_ctl -D "$work/pg" -m immediate -w stop >/dev/null 2>&1 || true; fi
	if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
	for p in $cluster_pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

fail_or_warn() {
	if [ "${CI:-}" = "true" ]; then echo "with-test-servers: $*" >&2; exit 1; fi
	echo "with-test-servers: $* (tests that need it will skip)" >&2
}

free_port() {
	local p
	for _ in $(seq 1 50); do
		# Below 25000, so that a cluster node's bus port (port + 10000) is
		# free-ish too.
		p=$((15000 + RANDOM % 10000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}

pg_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return 0; }; done
	command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

# PostgreSQL
if bin=$(pg_bin) && [ -n "$bin" ]; then
	export PATH="$bin:$PATH"
	pg_port=$(free_port)
	mkdir -p "$work/pg"
	[ "$(id -u)" = 0 ] && chown postgres "$work/pg"
	if as_pg initdb -D "$work/pg" -A trust -U postgres --no-sync >"$work/initdb.log" 2>&1 &&
		as_pg pg_ctl -D "$work/pg" -l "$work/pg/server.log" -w -t 60 \
			-o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
			start >/dev/null; then
		pg_started=1
		export AUTH_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
	else
		cat "$work/initdb.log" "$work/pg/server.log" 2>/dev/null | tail -20 >&2 || true
		fail_or_warn "PostgreSQL did not start"
	fi
else
	fail_or_warn "PostgreSQL (initdb) not found"
fi

# Redis
if command -v redis-server >/dev/null 2>&1; then
	redis_port=$(free_port)
	redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$work" --logfile "$work/redis.log" --daemonize no &
	redis_pid=$!
	ok=""
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null; then ok=1; break; fi
		sleep 0.1
	done
	if [ -n "$ok" ]; then
		export AUTH_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
	else
		fail_or_warn "Redis did not start"
	fi
else
	fail_or_warn "redis-server not found"
fi

# Redis Cluster: three masters, no replicas.
wait_port() {
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}
# start_cluster starts three nodes on fresh ports (each distinct, with its
# bus port, port + 10000, free too) and joins them; it fails, leaving the
# nodes to cleanup, when the cluster does not come up.
start_cluster() {
	local attempt=$1 port used=" " i n
	nodes=()
	for i in 1 2 3; do
		for _ in $(seq 1 50); do
			port=$(free_port)
			case "$used" in *" $port "*) continue ;; esac
			if ! (exec 3<>"/dev/tcp/127.0.0.1/$((port + 10000))") 2>/dev/null; then break; fi
		done
		used="$used$port "
		mkdir -p "$work/cluster$attempt.$i"
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--cluster-enabled yes --cluster-config-file "$work/cluster$attempt.$i/nodes.conf" \
			--dir "$work/cluster$attempt.$i" --logfile "$work/cluster$attempt.$i/redis.log" --daemonize no &
		cluster_pids="$cluster_pids $!"
		nodes+=("127.0.0.1:$port")
	done
	for n in "${nodes[@]}"; do wait_port "${n##*:}" || return 1; done
	redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$work/cluster.log" 2>&1 || return 1
	for _ in $(seq 1 300); do
		if redis-cli -p "${nodes[0]##*:}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then return 0; fi
		sleep 0.1
	done
	return 1
}
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
	ok=""
	for attempt in 1 2 3; do
		if start_cluster "$attempt"; then ok=1; break; fi
		for p in $cluster_pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
		cluster_pids=""
	done
	if [ -n "$ok" ]; then
		export AUTH_TEST_REDIS_CLUSTER
		AUTH_TEST_REDIS_CLUSTER=$(IFS=,; echo "${nodes[*]}")
	else
		tail -5 "$work/cluster.log" >&2 2>/dev/null || true
		fail_or_warn "Redis Cluster did not start (three attempts)"
	fi
else
	fail_or_warn "redis-server or redis-cli not found (Redis Cluster)"
fi

echo "with-test-servers: postgres=${AUTH_TEST_POSTGRES_URL:-none} redis=${AUTH_TEST_REDIS_URL:-none} cluster=${AUTH_TEST_REDIS_CLUSTER:-none}" >&2
set +e
"$@"
rc=$?
set -e
exit $rc
