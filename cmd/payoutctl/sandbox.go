package main

import (
	"flag"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/momo"
)

// sandboxEnvironment is the only target environment whose API users can be made by API.
const sandboxEnvironment = "sandbox"

// provisioningKey stands in for the API key the new user does not have yet: the provisioning
// calls send only the subscription key, but momo.New wants a complete configuration.
const provisioningKey = "not-used-by-provisioning"

func cmdSandboxUser(e *env, args []string) error {
	fs := flag.NewFlagSet("sandbox-user", flag.ContinueOnError)
	host := fs.String("callback-host", "", "the user's providerCallbackHost: a host name, no "+
		"scheme (defaults to the host of MOMO_CALLBACK_URL, else localhost)")
	productName := fs.String("product", string(momo.Disbursement),
		"whose subscription key provisions the user: disbursement or remittance")
	if _, err := parse(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	product, err := momo.ParseProduct(*productName)
	if err != nil {
		return cli.Usagef("sandbox-user: -product: %v", err)
	}
	callbackHost, err := sandboxCallbackHost(*host, e.cfg.MoMo.CallbackURL)
	if err != nil {
		return err
	}
	client, userID, err := provisioningClient(e, product)
	if err != nil {
		return err
	}

	if err := client.CreateAPIUser(e.ctx, product, userID, callbackHost); err != nil {
		return fmt.Errorf("sandbox-user: %w", err)
	}
	key, err := client.CreateAPIKey(e.ctx, product, userID)
	if err != nil {
		return fmt.Errorf("sandbox-user: API user %s was created but its key was not (run the "+
			"command again for a new user): %w", userID, err)
	}
	e.printf("export MOMO_API_USER=%s\nexport MOMO_API_KEY=%s\n", shellWord(userID), shellWord(key))
	fmt.Fprintf(e.stderr, "created sandbox API user %s with callback host %s; MoMo never shows "+
		"its key again: keep the lines printed on stdout (eval them, or put them in "+
		"configs/sandbox.env)\n", userID, callbackHost)
	return nil
}

// provisioningClient checks the settings sandbox provisioning needs and returns a client for
// it, with the ID the new API user will have.
func provisioningClient(e *env, product momo.Product) (*momo.Client, string, error) {
	cfg := e.cfg.MoMo
	if cfg.TargetEnvironment != sandboxEnvironment {
		return nil, "", fmt.Errorf("sandbox-user: MOMO_TARGET_ENVIRONMENT is %q, not %q: API users "+
			"are made by API in the sandbox only; production ones come from MTN's partner portal",
			cfg.TargetEnvironment, sandboxEnvironment)
	}
	var missing []string
	if cfg.BaseURL == "" {
		missing = append(missing, "MOMO_BASE_URL")
	}
	if cfg.SubscriptionKeys[product] == "" {
		missing = append(missing, "MOMO_"+strings.ToUpper(string(product))+"_KEY")
	}
	if len(missing) > 0 {
		return nil, "", fmt.Errorf("sandbox-user: missing required setting(s): %s",
			strings.Join(missing, ", "))
	}

	userID := uuid.NewString()
	cfg.APIUser, cfg.APIKey = userID, provisioningKey
	cfg.SubscriptionKeys = map[momo.Product]string{product: cfg.SubscriptionKeys[product]}
	client, err := momo.New(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("sandbox-user: %w", err)
	}
	return client, userID, nil
}

// hostName matches a bare host name: letters, digits, dots and dashes.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

// sandboxCallbackHost picks the callback host: the flag's, else MOMO_CALLBACK_URL's, since a
// transfer's X-Callback-Url must name the API user's host, else localhost.
func sandboxCallbackHost(flagHost, callbackURL string) (string, error) {
	host := strings.TrimSpace(flagHost)
	if host == "" && callbackURL != "" {
		if u, err := url.Parse(callbackURL); err == nil {
			host = u.Hostname()
		}
	}
	if host == "" {
		host = "localhost"
	}
	if !hostName.MatchString(host) {
		return "", cli.Usagef("sandbox-user: -callback-host %q: give a host name only, "+
			"such as example.com (no scheme, port or path)", host)
	}
	return host, nil
}

// plainWord needs no quoting in a POSIX shell.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// shellWord quotes s for a POSIX shell unless it needs no quoting.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
