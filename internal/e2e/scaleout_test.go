package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/report"
	"github.com/momopay/payout/internal/stack"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
	"github.com/momopay/payout/internal/worker"
)

// scaleOutDB is the database the worker processes share on the test Redis. The package's
// tests run one after the other, so it may sit beside redisDB.
const scaleOutDB = 11

// TestScaleOut_TwoWorkerProcessesShareOneRedis runs two worker processes on one Redis and one
// batch of 300 rows. Every row must end SUCCESSFUL, be created once at the simulator, be
// accepted by exactly one of the processes, and each process must have accepted some.
func TestScaleOut_TwoWorkerProcessesShareOneRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the worker command and runs two of it")
	}
	const rows = 300
	t0 := time.Now()
	bin := buildWorker(t)
	t.Logf("built worker in %s", time.Since(t0).Round(10*time.Millisecond))
	// The latency makes the batch last seconds, not milliseconds, so that a process that
	// starts a little later still finds work: the test cannot pass with one process idle.
	st, res := procStack(t, momosim.Config{Latency: 50 * time.Millisecond}, rows)

	start := time.Now()
	procs := []*workerProc{startWorkerProc(t, bin, st.SimURL, 0), startWorkerProc(t, bin, st.SimURL, 1)}
	requireServersOf(t, st.Redis, procs)
	waitDone(t, st, res.BatchID, 45*time.Second)
	elapsed := time.Since(start)
	for _, p := range procs {
		p.stop(t)
	}

	c, err := st.Store.Counts(context.Background(), res.BatchID)
	require.NoError(t, err)
	assert.Equal(t, int64(rows), c.Items[ledger.Successful], "%v", c.Items)
	assert.Len(t, st.Sim.Transfers(), rows)
	assertPaidOnce(t, st, res.BatchID)
	assertSharedWork(t, procs, refsOf(t, st, res.BatchID))
	t.Logf("%d rows paid by 2 worker processes in %s (%.0f rows/s)", rows,
		elapsed.Round(10*time.Millisecond), float64(rows)/elapsed.Seconds())
}

// procStack starts, on the scale-out database, the simulator and a stack without a worker of
// its own (the test runs worker processes), and enqueues n rows into it.
func procStack(t *testing.T, sim momosim.Config, n int) (*stack.Stack, *intake.Result) {
	t.Helper()
	testutil.Redis(t, scaleOutDB)
	st, err := stack.Start(context.Background(), stack.Options{
		RedisAddr: testutil.RedisAddr(), RedisDB: scaleOutDB, NoWorker: true, Log: zerolog.Nop(), Sim: sim,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	res := enqueue(t, st, writeRows(t, n), momo.Disbursement)
	require.Equal(t, n, res.Accepted)
	return st, res
}

// assertSharedWork checks, from the processes' own logs, that every item was accepted by MoMo
// through exactly one process and that each process accepted some.
func assertSharedWork(t *testing.T, procs []*workerProc, refs []string) {
	t.Helper()
	by := map[string]int{}
	for i, p := range procs {
		accepted := p.acceptedRefs(t)
		t.Logf("worker %d (pid %d) accepted %d transfers", i, p.cmd.Process.Pid, len(accepted))
		assert.NotEmpty(t, accepted, "worker %d did no work", i)
		for _, ref := range accepted {
			if prev, dup := by[ref]; dup {
				t.Errorf("reference %s accepted by worker %d and worker %d", ref, prev, i)
			}
			by[ref] = i
		}
	}
	got := make([]string, 0, len(by))
	for ref := range by {
		got = append(got, ref)
	}
	assert.ElementsMatch(t, refs, got, "each item accepted once, by one of the processes")
}

// buildWorker compiles cmd/worker into the test's temporary directory.
func buildWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/worker").CombinedOutput()
	require.NoError(t, err, "go build ./cmd/worker: %s", out)
	return bin
}

// workerProc is a running worker command and the file its log goes to.
type workerProc struct {
	cmd  *exec.Cmd
	log  string
	done chan error
}

// startWorkerProc starts the worker command, with flags added, on the scale-out database and
// the simulator at simURL. The test's cleanup kills it if the test did not stop it.
func startWorkerProc(t *testing.T, bin, simURL string, i int, flags ...string) *workerProc {
	t.Helper()
	p := &workerProc{log: filepath.Join(t.TempDir(), fmt.Sprintf("worker-%d.log", i)), done: make(chan error, 1)}
	f, err := os.Create(p.log)
	require.NoError(t, err)
	defer f.Close()

	p.cmd = exec.Command(bin, append([]string{"-monitor-addr", "off", "-concurrency", "5"}, flags...)...)
	p.cmd.Env = append(os.Environ(),
		fmt.Sprintf("REDIS_URL=redis://%s/%d", testutil.RedisAddr(), scaleOutDB),
		"REDIS_ADDR=", "REDIS_CLUSTER_ADDRS=", "MOMO_CALLBACK_URL=", "PAYOUT_SCHEDULES=",
		"MOMO_BASE_URL="+simURL, "MOMO_TARGET_ENVIRONMENT=sandbox",
		"MOMO_API_USER="+momosim.DefaultAPIUser, "MOMO_API_KEY="+momosim.DefaultAPIKey,
		"MOMO_DISBURSEMENT_KEY="+momosim.DefaultDisbursementKey,
		"MOMO_REMITTANCE_KEY="+momosim.DefaultRemittanceKey,
		"PAYOUT_POLL_INITIAL=200ms", "PAYOUT_POLL_MAX=1s",
		// The shared cap on status queries still applies across both processes, set well
		// above what the simulator's latency lets them reach; the default of 10 a second
		// would make this a test of the cap instead.
		"PAYOUT_STATUS_RATE=1000")
	p.cmd.Stdout, p.cmd.Stderr = f, f
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM, as an orchestrator does, and waits for a clean exit.
func (p *workerProc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		assert.NoError(t, err, "worker exit; log %s:\n%s", p.log, p.tail())
	case <-time.After(20 * time.Second):
		t.Errorf("worker pid %d did not stop within 20s of SIGTERM:\n%s", p.cmd.Process.Pid, p.tail())
	}
}

// acceptedRefs returns the reference IDs of the "transfer accepted by MoMo" lines of the log.
func (p *workerProc) acceptedRefs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(p.log)
	require.NoError(t, err)
	var refs []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var line struct{ Message, Ref string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "transfer accepted by MoMo" {
			refs = append(refs, line.Ref)
		}
	}
	require.NoError(t, sc.Err())
	return refs
}

// tail returns the end of the log, for failure messages.
func (p *workerProc) tail() string {
	data, _ := os.ReadFile(p.log)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

// requireServersOf waits until Asynq lists servers of every process: each registers one
// server per product.
func requireServersOf(t *testing.T, opt asynq.RedisConnOpt, procs []*workerProc) {
	t.Helper()
	inspector := asynq.NewInspector(opt)
	defer inspector.Close()
	want := map[int]bool{}
	for _, p := range procs {
		want[p.cmd.Process.Pid] = true
	}
	require.Eventually(t, func() bool {
		servers, err := inspector.Servers()
		if err != nil {
			return false
		}
		perPID := map[int]int{}
		for _, s := range servers {
			perPID[s.PID]++
		}
		for pid := range want {
			if perPID[pid] != len(tasks.Products) {
				return false
			}
		}
		return true
	}, 15*time.Second, 50*time.Millisecond, "both worker processes register with Asynq")
}

// TestScaleOut_BatchCompletesOnRedisCluster pays a whole batch with the queues and the ledger
// on a three-node Redis Cluster, and checks that the batch's ledger keys share one slot.
func TestScaleOut_BatchCompletesOnRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	const rows = 100
	t0 := time.Now()
	addrs := startCluster(t, 3)
	t.Logf("cluster up in %s", time.Since(t0).Round(10*time.Millisecond))
	var logs syncBuffer // what goes wrong on a cluster (CROSSSLOT, MOVED) shows as warnings
	st := startClusterStack(t, addrs, &logs)

	start := time.Now()
	res := enqueue(t, st, writeRows(t, rows), momo.Disbursement)
	require.Equal(t, rows, res.Accepted)
	waitDone(t, st, res.BatchID, 40*time.Second)
	t.Logf("%d rows enqueued and paid on a 3-node cluster in %s", rows, time.Since(start).Round(10*time.Millisecond))

	ctx := context.Background()
	c, err := st.Store.Counts(ctx, res.BatchID)
	require.NoError(t, err)
	assert.Equal(t, int64(rows), c.Items[ledger.Successful], "%v", c.Items)
	assert.Len(t, st.Sim.Transfers(), rows)
	assertPaidOnce(t, st, res.BatchID)

	var out bytes.Buffer
	require.NoError(t, report.WriteCSV(ctx, st.Store, res.BatchID, &out))
	lines, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	assert.Len(t, lines, rows+1, "header plus one row per line")
	assertBatchInOneSlot(t, st.RDB, res.BatchID, rows)
	require.NoError(t, st.StopWorker())
	assert.NotContains(t, logs.String(), "CROSSSLOT")
	assert.NotContains(t, logs.String(), `"level":"error"`)
}

// startClusterStack runs the simulator and an in-process worker with the queues and the
// ledger on the cluster at addrs, logging warnings and errors to logs.
func startClusterStack(t *testing.T, addrs []string, logs *syncBuffer) *stack.Stack {
	t.Helper()
	st, err := stack.Start(context.Background(), stack.Options{
		RedisConn: asynq.RedisClusterClientOpt{Addrs: addrs},
		Log:       zerolog.New(logs).Level(zerolog.WarnLevel),
		Worker: worker.Config{
			Concurrency: 8, SweepInterval: time.Second,
			Tasks: tasks.Config{
				PollInitial: 200 * time.Millisecond, PollMax: time.Second,
				CallTimeout: 5 * time.Second, Slack: 5 * time.Second, Sandbox: true,
			},
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// assertBatchInOneSlot checks that the batch's meta and counts keys hash to one slot, and that
// every key carrying the batch's hash tag, on whichever master, is in that slot too.
func assertBatchInOneSlot(t *testing.T, rdb redis.UniversalClient, batch string, items int) {
	t.Helper()
	cc, ok := rdb.(*redis.ClusterClient)
	require.True(t, ok, "the stack's client is a cluster client, got %T", rdb)
	ctx := context.Background()
	tag := ledger.Prefix + "{" + batch + "}:"
	for _, k := range []string{tag + "meta", tag + "counts"} {
		require.Equal(t, int64(1), cc.Exists(ctx, k).Val(), "key %s exists", k)
	}
	slot, err := cc.ClusterKeySlot(ctx, tag+"meta").Result()
	require.NoError(t, err)
	countsSlot, err := cc.ClusterKeySlot(ctx, tag+"counts").Result()
	require.NoError(t, err)
	assert.Equal(t, slot, countsSlot, "CLUSTER KEYSLOT of meta and counts")

	var mu sync.Mutex
	perNode := map[string][]string{}
	require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		keys, err := scanKeys(ctx, node, tag+"*")
		mu.Lock()
		defer mu.Unlock()
		if len(keys) > 0 {
			perNode[node.Options().Addr] = keys
		}
		return err
	}))
	assert.Len(t, perNode, 1, "the batch's keys live on one master: %v", keysPerNode(perNode))
	for _, keys := range perNode {
		assert.GreaterOrEqual(t, len(keys), items+2, "meta, counts and one key per item")
		for _, k := range keys {
			assert.Equal(t, slot, cc.ClusterKeySlot(ctx, k).Val(), "slot of %s", k)
		}
	}
}

func scanKeys(ctx context.Context, node *redis.Client, match string) ([]string, error) {
	var keys []string
	iter := node.Scan(ctx, 0, match, 500).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

func keysPerNode(perNode map[string][]string) map[string]int {
	n := map[string]int{}
	for addr, keys := range perNode {
		n[addr] = len(keys)
	}
	return n
}

// startCluster starts n cluster-enabled redis-server nodes on spare loopback ports, joins them
// into one cluster with redis-cli (no replicas) and waits until every node reports
// cluster_state:ok. The nodes are killed when the test ends.
func startCluster(t *testing.T, n int) []string {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli is not installed (apt-get install redis-tools)")
	}
	dir := t.TempDir() // before the nodes, so that they are killed before it is removed
	var addrs []string
	for _, port := range clusterPorts(t, n) {
		startClusterNode(t, server, dir, port)
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	require.NoError(t, err, "redis-cli --cluster create: %s", out)
	for _, a := range addrs {
		waitClusterOK(t, a)
	}
	return addrs
}

// clusterPorts picks n distinct free ports whose cluster bus port (port + 10000) is free too.
func clusterPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	taken := map[int]bool{}
	for try := 0; len(ports) < n && try < 200; try++ {
		p := freePort(t)
		if p+10000 > 65535 || taken[p] || taken[p+10000] {
			continue
		}
		bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+10000))
		if err != nil {
			continue
		}
		_ = bus.Close()
		taken[p], taken[p+10000] = true, true
		ports = append(ports, p)
	}
	require.Len(t, ports, n, "spare ports for the cluster nodes and their bus ports")
	return ports
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startClusterNode starts one empty, non-persistent cluster node and waits for its PING.
func startClusterNode(t *testing.T, server, dir string, port int) {
	t.Helper()
	cmd := exec.Command(server, "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--cluster-enabled", "yes", "--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port),
		"--dir", dir, "--save", "", "--appendonly", "no",
		"--logfile", filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)))
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer rdb.Close()
	require.Eventually(t, func() bool { return rdb.Ping(context.Background()).Err() == nil },
		10*time.Second, 20*time.Millisecond, "cluster node on port %d answers PING", port)
}

// waitClusterOK waits until the node at addr reports cluster_state:ok.
func waitClusterOK(t *testing.T, addr string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	var info string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		info, _ = rdb.ClusterInfo(context.Background()).Result()
		if strings.Contains(info, "cluster_state:ok") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("node %s never reported cluster_state:ok:\n%s", addr, info)
}
