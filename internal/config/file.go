package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// fileShape is the YAML configuration file (configs/worker.example.yaml documents each field).
// Every field stands for one environment variable, and the variable, when set, wins.
type fileShape struct {
	Redis struct {
		Addr         string   `yaml:"addr"`          // REDIS_ADDR
		URL          string   `yaml:"url"`           // REDIS_URL
		ClusterAddrs []string `yaml:"cluster_addrs"` // REDIS_CLUSTER_ADDRS
	} `yaml:"redis"`
	MoMo struct {
		BaseURL           string `yaml:"base_url"`           // MOMO_BASE_URL
		TargetEnvironment string `yaml:"target_environment"` // MOMO_TARGET_ENVIRONMENT
		APIUser           string `yaml:"api_user"`           // MOMO_API_USER
		CallbackURL       string `yaml:"callback_url"`       // MOMO_CALLBACK_URL
		HTTPTimeout       string `yaml:"http_timeout"`       // PAYOUT_HTTP_TIMEOUT
	} `yaml:"momo"`
	Polling struct {
		Initial string `yaml:"initial"` // PAYOUT_POLL_INITIAL
		Max     string `yaml:"max"`     // PAYOUT_POLL_MAX
		Window  string `yaml:"window"`  // PAYOUT_POLL_WINDOW
	} `yaml:"polling"`
	Worker struct {
		Concurrency     map[string]int `yaml:"concurrency"`       // PAYOUT_CONCURRENCY_<PRODUCT>
		Retention       string         `yaml:"retention"`         // PAYOUT_RETENTION
		StatusRate      string         `yaml:"status_rate"`       // PAYOUT_STATUS_RATE
		Schedules       string         `yaml:"schedules"`         // PAYOUT_SCHEDULES
		MonitorAddr     string         `yaml:"monitor_addr"`      // PAYOUT_MONITOR_ADDR
		MonitorReadOnly *bool          `yaml:"monitor_read_only"` // PAYOUT_MONITOR_READ_ONLY
		CallbackAddr    string         `yaml:"callback_addr"`     // PAYOUT_CALLBACK_ADDR
	} `yaml:"worker"`
	Limits struct {
		MaxRowAmount   string `yaml:"max_row_amount"`   // PAYOUT_MAX_ROW_AMOUNT
		MaxBatchAmount string `yaml:"max_batch_amount"` // PAYOUT_MAX_BATCH_AMOUNT
		ConfirmAbove   string `yaml:"confirm_above"`    // PAYOUT_CONFIRM_ABOVE
	} `yaml:"limits"`
}

// secretKeys are names that must never be in the file: secrets come from the environment.
var secretKeys = []string{"api_key", "apikey", "subscription_key", "disbursement_key",
	"remittance_key", "password", "secret", "token"}

// LoadFile reads a YAML configuration file and returns it as environment variables, so that
// FromEnv(WithFile(os.Getenv, vars)) reads the file with the real environment winning.
func LoadFile(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := refuseSecrets(path, raw); err != nil {
		return nil, err
	}
	var f fileShape
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	vars := map[string]string{
		"REDIS_ADDR": f.Redis.Addr, "REDIS_URL": f.Redis.URL,
		"REDIS_CLUSTER_ADDRS":     strings.Join(f.Redis.ClusterAddrs, ","),
		"MOMO_BASE_URL":           f.MoMo.BaseURL,
		"MOMO_TARGET_ENVIRONMENT": f.MoMo.TargetEnvironment,
		"MOMO_API_USER":           f.MoMo.APIUser, "MOMO_CALLBACK_URL": f.MoMo.CallbackURL,
		"PAYOUT_HTTP_TIMEOUT": f.MoMo.HTTPTimeout,
		"PAYOUT_POLL_INITIAL": f.Polling.Initial, "PAYOUT_POLL_MAX": f.Polling.Max,
		"PAYOUT_POLL_WINDOW": f.Polling.Window,
		"PAYOUT_RETENTION":   f.Worker.Retention, "PAYOUT_STATUS_RATE": f.Worker.StatusRate,
		"PAYOUT_SCHEDULES": f.Worker.Schedules, "PAYOUT_MONITOR_ADDR": f.Worker.MonitorAddr,
		"PAYOUT_CALLBACK_ADDR":    f.Worker.CallbackAddr,
		"PAYOUT_MAX_ROW_AMOUNT":   f.Limits.MaxRowAmount,
		"PAYOUT_MAX_BATCH_AMOUNT": f.Limits.MaxBatchAmount,
		"PAYOUT_CONFIRM_ABOVE":    f.Limits.ConfirmAbove,
	}
	if f.Worker.MonitorReadOnly != nil {
		vars["PAYOUT_MONITOR_READ_ONLY"] = strconv.FormatBool(*f.Worker.MonitorReadOnly)
	}
	for product, n := range f.Worker.Concurrency {
		vars["PAYOUT_CONCURRENCY_"+strings.ToUpper(product)] = strconv.Itoa(n)
	}
	return vars, nil
}

// refuseSecrets names every secret-looking key in the file.
func refuseSecrets(path string, raw []byte) error {
	var tree map[string]any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	var found []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, child := range m {
			name := strings.TrimPrefix(prefix+"."+k, ".")
			for _, s := range secretKeys {
				if strings.Contains(strings.ToLower(k), s) {
					found = append(found, name)
				}
			}
			walk(name, child)
		}
	}
	walk("", tree)
	if len(found) > 0 {
		sort.Strings(found)
		return fmt.Errorf("config: %s: %s: secrets never go in the file; set MOMO_API_KEY, "+
			"MOMO_DISBURSEMENT_KEY, MOMO_REMITTANCE_KEY (or their _FILE variants) in the environment",
			path, strings.Join(found, ", "))
	}
	return nil
}

// WithFile returns a Getenv that reads the environment first and the file's values second.
func WithFile(getenv Getenv, vars map[string]string) Getenv {
	return func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return vars[name]
	}
}
