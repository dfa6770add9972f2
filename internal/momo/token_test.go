package momo

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tokenAll calls Token from n goroutines at once and returns what each got.
func tokenAll(t *testing.T, c *Client, p Product, n int) []string {
	t.Helper()
	tokens := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tokens[i], errs[i] = c.Token(context.Background(), p)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return tokens
}

// slowToken answers like defaultToken after a pause, and records how many requests overlap.
func slowToken(pause time.Duration, expiresIn int, inFlight, maxInFlight *atomic.Int32) tokenReply {
	return func(w http.ResponseWriter, p Product, n int32) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := maxInFlight.Load()
			if cur <= old || maxInFlight.CompareAndSwap(old, cur) {
				break
			}
		}
		time.Sleep(pause)
		writeJSON(w, http.StatusOK, `{"access_token":"`+tokenValue(p, n)+
			`","token_type":"access_token","expires_in":`+strconv.Itoa(expiresIn)+`}`)
	}
}

func TestToken_ConcurrentCallersShareOneRequest(t *testing.T) {
	f := setup(t)
	var inFlight, maxInFlight atomic.Int32
	calls := f.serveToken(Disbursement, slowToken(100*time.Millisecond, 3600, &inFlight, &maxInFlight))

	tokens := tokenAll(t, f.client, Disbursement, 50)

	for _, tok := range tokens {
		assert.Equal(t, tokenValue(Disbursement, 1), tok)
	}
	assert.Equal(t, int32(1), calls.Load())

	again, err := f.client.Token(context.Background(), Disbursement)
	require.NoError(t, err)
	assert.Equal(t, tokenValue(Disbursement, 1), again)
	assert.Equal(t, int32(1), calls.Load(), "a fresh token is reused")
}

func TestToken_ShortLivedTokenIsRefreshedOneAtATime(t *testing.T) {
	// The default refresh-before (10 min) is capped to half of a 2 s lifetime: 1 s.
	f := setup(t)
	var inFlight, maxInFlight atomic.Int32
	calls := f.serveToken(Disbursement, slowToken(50*time.Millisecond, 2, &inFlight, &maxInFlight))

	first := tokenAll(t, f.client, Disbursement, 20)
	assert.Equal(t, tokenValue(Disbursement, 1), first[0])
	tok, err := f.client.Token(context.Background(), Disbursement)
	require.NoError(t, err)
	assert.Equal(t, tokenValue(Disbursement, 1), tok, "still well before the refresh point")

	time.Sleep(1100 * time.Millisecond)
	second := tokenAll(t, f.client, Disbursement, 20)

	for _, tok := range second {
		assert.Equal(t, tokenValue(Disbursement, 2), tok)
	}
	assert.Equal(t, int32(2), calls.Load())
	assert.Equal(t, int32(1), maxInFlight.Load(), "never two token requests at once")
}

func TestToken_ExpiresInAsStringIsAccepted(t *testing.T) {
	f := setup(t)
	calls := f.serveToken(Remittance, func(w http.ResponseWriter, p Product, n int32) {
		writeJSON(w, http.StatusOK, `{"access_token":"`+tokenValue(p, n)+
			`","token_type":"access_token","expires_in":"3600"}`)
	})

	for range 3 {
		tok, err := f.client.Token(context.Background(), Remittance)
		require.NoError(t, err)
		assert.Equal(t, tokenValue(Remittance, 1), tok)
	}
	assert.Equal(t, int32(1), calls.Load())
}

func TestToken_FailedFetchReturnsErrorAndNextCallRetries(t *testing.T) {
	f := setup(t)
	calls := f.serveToken(Disbursement, func(w http.ResponseWriter, p Product, n int32) {
		if n == 1 {
			writeJSON(w, http.StatusServiceUnavailable, `{"code":"SERVICE_UNAVAILABLE","message":"busy"}`)
			return
		}
		defaultToken(w, p, n)
	})

	_, err := f.client.Token(context.Background(), Disbursement)
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "token", apiErr.Op)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	assert.Equal(t, ClassAmbiguous, Classify(err))

	tok, err := f.client.Token(context.Background(), Disbursement)
	require.NoError(t, err)
	assert.Equal(t, tokenValue(Disbursement, 2), tok)
	assert.Equal(t, int32(2), calls.Load())

	_, refreshes := f.obs.snapshot()
	require.Len(t, refreshes, 2)
	assert.Error(t, refreshes[0])
	assert.NoError(t, refreshes[1])
}

func TestToken_ProductsHaveSeparateTokens(t *testing.T) {
	// serveToken checks that each product's request carries that product's key.
	f := setup(t)
	disbCalls := f.serveToken(Disbursement, nil)
	remitCalls := f.serveToken(Remittance, nil)

	disb, err := f.client.Token(context.Background(), Disbursement)
	require.NoError(t, err)
	remit, err := f.client.Token(context.Background(), Remittance)
	require.NoError(t, err)
	disbAgain, err := f.client.Token(context.Background(), Disbursement)
	require.NoError(t, err)

	assert.Equal(t, tokenValue(Disbursement, 1), disb)
	assert.Equal(t, tokenValue(Remittance, 1), remit)
	assert.Equal(t, disb, disbAgain)
	assert.Equal(t, int32(1), disbCalls.Load())
	assert.Equal(t, int32(1), remitCalls.Load())
}

func TestToken_UnauthorizedIsConfig(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, func(w http.ResponseWriter, _ Product, _ int32) {
		writeJSON(w, http.StatusUnauthorized, `{"error":"login_failed"}`)
	})

	_, err := f.client.Token(context.Background(), Disbursement)

	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "token", apiErr.Op)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, "login_failed", apiErr.Code)
	assert.Equal(t, ClassConfig, Classify(err))
}

func TestToken_InvalidBodiesAreErrors(t *testing.T) {
	cases := map[string]string{
		"no expires_in":   `{"access_token":"jwt-abcdefgh","token_type":"access_token"}`,
		"zero expires_in": `{"access_token":"jwt-abcdefgh","expires_in":0}`,
		"no access_token": `{"token_type":"access_token","expires_in":3600}`,
		"not JSON":        `<html>oops</html>`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			f := setup(t)
			f.serveToken(Disbursement, func(w http.ResponseWriter, _ Product, _ int32) {
				writeJSON(w, http.StatusOK, body)
			})

			tok, err := f.client.Token(context.Background(), Disbursement)

			require.Error(t, err)
			assert.Empty(t, tok)
			assert.Contains(t, err.Error(), "momo: token: ")
		})
	}
}

func TestToken_MissingSubscriptionKeyNamesProduct(t *testing.T) {
	f := setup(t, func(c *Config) {
		c.SubscriptionKeys = map[Product]string{Disbursement: testDisbKey}
	})

	_, err := f.client.Token(context.Background(), Remittance)
	require.ErrorIs(t, err, ErrNoSubscriptionKey)
	assert.Contains(t, err.Error(), `"remittance"`)
	assert.Equal(t, ClassConfig, Classify(err))

	err = f.client.Transfer(context.Background(), Remittance, testRef, sampleTransfer())
	require.ErrorIs(t, err, ErrNoSubscriptionKey)

	_, err = f.client.Token(context.Background(), Product("collection"))
	require.ErrorIs(t, err, ErrUnknownProduct)
	assert.Contains(t, err.Error(), `"collection"`)
}

func TestToken_CallerGivingUpDoesNotFailOtherWaiters(t *testing.T) {
	f := setup(t)
	release := make(chan struct{})
	calls := f.serveToken(Disbursement, func(w http.ResponseWriter, p Product, n int32) {
		<-release
		defaultToken(w, p, n)
	})

	ctx, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := f.client.Token(ctx, Disbursement)
		firstErr <- err
	}()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 2*time.Second, 5*time.Millisecond)

	second := make(chan string, 1)
	go func() {
		tok, _ := f.client.Token(context.Background(), Disbursement)
		second <- tok
	}()
	cancel()
	err := <-firstErr
	assert.True(t, errors.Is(err, context.Canceled))
	assert.Equal(t, ClassAmbiguous, Classify(err))

	close(release)
	assert.Equal(t, tokenValue(Disbursement, 1), <-second)
	assert.Equal(t, int32(1), calls.Load())
}
