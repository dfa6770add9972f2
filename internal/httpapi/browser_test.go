package httpapi_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momosim"
)

// chromium is Debian's Chromium, which .ci/run installs.
const chromium = "/usr/bin/chromium"

// pngMagic starts every PNG file.
var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// browse runs headless Chromium on url with extra flags and returns what it printed.
func browse(ctx context.Context, t *testing.T, url string, extra ...string) string {
	t.Helper()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=8000",
		"--window-size=1400,900",
	}, extra...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chromium, append(args, url)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium %s: %s", strings.Join(extra, " "), lastLines(stderr.String(), 10))
	return stdout.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// screenshotPath is where the monitor's screenshot goes: $PAYOUT_SCREENSHOT_DIR, or the
// system's temporary directory; never the source tree.
func screenshotPath(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PAYOUT_SCREENSHOT_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return filepath.Join(dir, "payout-monitor.png")
}

// TestWithoutCallbackURL shares one worker whose MoMo client names no callback URL, as when
// MOMO_CALLBACK_URL is unset: ordinary payouts stay PENDING for a minute, the sandbox's
// "ongoing" number for 300 ms.
func TestWithoutCallbackURL(t *testing.T) {
	e := start(t, setup{
		sim:   momosim.Config{PendingFor: time.Minute, OngoingFor: 300 * time.Millisecond},
		tasks: fastPolls,
	})
	require.Empty(t, e.CallbackURL)
	require.Empty(t, e.MoMo.CallbackURL())
	t.Run("PaysByPollingAlone", func(t *testing.T) {
		t.Parallel()
		paysByPollingAlone(t, e)
	})
	t.Run("MonitorShowsPayoutQueuesInBrowser", func(t *testing.T) {
		t.Parallel()
		monitorShowsPayoutQueuesInBrowser(t, e)
	})
}

func paysByPollingAlone(t *testing.T, e *env) {
	res := enqueue(t, e, "polling", ongoing, ongoing, ongoing)

	waitState(t, e, res.BatchID, ledger.Successful, 15*time.Second)
	for _, it := range items(t, e, res.BatchID) {
		tr := e.transfer(t, it.Ref)
		assert.Empty(t, tr.CallbackURL, "no X-Callback-Url without MOMO_CALLBACK_URL")
		assert.Equal(t, tr.FinancialTransactionID, it.FinTxID)
		assert.Positive(t, e.statusQueries(it.Ref), "polling found it")
	}
	assert.Zero(t, e.sim.Stats().PaidTwice)
}

func monitorShowsPayoutQueuesInBrowser(t *testing.T, e *env) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no browser at %s (apt-get install chromium, as .ci/run does): "+
			"skipping the monitor's browser test", chromium)
	}
	if testing.Short() {
		t.Skip("-short: skipping the monitor's browser test")
	}
	// Payouts stay PENDING while the worker polls them: the queues hold work.
	res := enqueue(t, e, "browser", ordinary, "256771000002", "256771000003", "256771000004")
	waitState(t, e, res.BatchID, ledger.Submitted, 10*time.Second)
	png := screenshotPath(t)
	_ = os.Remove(png)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dom := browse(ctx, t, e.MonitorURL+"/monitor/", "--dump-dom", "--screenshot="+png)

	assert.Contains(t, dom, ">disbursement<", "the transfer queue is listed")
	assert.Contains(t, dom, ">disbursement-poll<", "the status poll queue is listed")
	assert.NotContains(t, dom, ordinary, "no phone number reaches the page")
	shot, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(shot, pngMagic), "a PNG")
	assert.Greater(t, len(shot), 20_000, "a rendered page, not a blank one")
	t.Logf("monitor screenshot: %s (%d bytes)", png, len(shot))
}
